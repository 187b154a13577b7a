// The dashboard's permissions (legacy-api.md §1.2, §2.5): ten of them, seven default roles, and the one rule that
// decides what a caller may do. The roles' rows are seeded by migration 003 with these same sets; the code defaults
// below are added on top of a role's row, as legacy did, so a default can be granted twice but never taken away.

export const PERMISSIONS = [
  'staff.read', 'staff.create', 'staff.update', 'staff.delete', 'staff.invite', 'staff.activate',
  'appointments.read', 'appointments.create', 'appointments.update', 'appointments.delete'
] as const

export type Permission = typeof PERMISSIONS[number]

export const isPermission = (value: unknown): value is Permission => typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value)

const STAFF_MANAGER: readonly Permission[] = ['staff.read', 'staff.create', 'staff.update', 'staff.invite', 'staff.activate']

export const ROLE_DEFAULTS: Readonly<Record<string, readonly Permission[]>> = {
  'super-admin': PERMISSIONS,
  admin: STAFF_MANAGER,
  staff: STAFF_MANAGER,
  receptionist: ['staff.read', 'appointments.read', 'appointments.create'],
  nurse: ['staff.read', 'appointments.read'],
  doctor: ['staff.read', 'appointments.read', 'appointments.update'],
  manager: ['staff.read', 'staff.create', 'staff.update', 'staff.activate']
}

// In the universe's order, so every answer lists permissions the same way whatever the order they were granted in.
export function ordered (permissions: Iterable<string>): Permission[] {
  const held = new Set(permissions)
  return PERMISSIONS.filter((permission) => held.has(permission))
}

/**
 * A caller's own effective set: its role's row ∪ its direct grants ∪ the code defaults of its role key. A superuser
 * holds all ten. Every permission check of every route reads this set of the caller (legacy looked at the target's
 * permissions on set-password, delete, activate and deactivate).
 */
export function effectivePermissions (roleKey: string | null, granted: Iterable<string>): Permission[] {
  return ordered([...granted, ...(ROLE_DEFAULTS[roleKey ?? 'staff'] ?? [])])
}

// An admin's role on the wire: `super-admin` (all ten) or `admin` (the admin role's row and defaults).
export function adminRole (isSuperuser: boolean): 'super-admin' | 'admin' {
  return isSuperuser ? 'super-admin' : 'admin'
}
