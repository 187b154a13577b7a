import { z } from 'zod'
import { isEmail, normalizeEmail } from '../../../src/auth/admins.ts'
import type { DashboardActor } from '../../../src/auth/actors.ts'
import { isPermission, ROLE_DEFAULTS, type Permission } from '../../../src/auth/permissions.ts'
import { findRole, rolePermissions, type RoleRow, type StaffRow } from '../../../src/staff/store.ts'
import { staffErrors, type Issue } from '../../../src/errors.ts'
import type { Database } from '../../../src/db/pool.ts'
import { normalizeDigits } from '../../../src/domain/digits.ts'
import { INT32_MAX } from '../../../src/domain/identifiers.ts'

// What the staff routes share: the StaffItem wire shape, the fields as the dashboard sends them (JSON or form, so
// numbers may arrive as strings), naming a role, and the rule that nobody grants what they do not hold.

export function staffItem (row: StaffRow): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role_key, // legacy's /staff/me put the role object here (a 500); every other route sent the key
    role_id: row.role_id,
    department: row.department,
    phone: row.phone,
    status: row.status,
    avatar_url: row.avatar_url,
    created_at: row.created_at.toISOString()
  }
}

export const staffItemSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  email: z.string(),
  role: z.string().nullable(),
  role_id: z.number().int().nullable(),
  department: z.string().nullable(),
  phone: z.string().nullable(),
  status: z.enum(['active', 'on_leave', 'inactive']),
  avatar_url: z.string().nullable(),
  created_at: z.string().describe('UTC ISO-8601')
})

export const email = z.string().max(320).transform(normalizeEmail).refine(isEmail, 'email must be a valid e-mail address')
export const shortText = (max = 200) => z.string().trim().max(max)
export const optionalText = (max = 200) => z.string().trim().max(max).nullable().optional()

// A positive id, as a JSON number or as the text a form sends ("7", "٧"); "" and null mean "not sent".
export const formId = (name: string) => z.preprocess(
  (v) => v === '' || v === null ? undefined : typeof v === 'string' && /^\s*[0-9٠-٩۰-۹]+\s*$/.test(v) ? Number(normalizeDigits(v.trim())) : v,
  z.number({ message: `${name} must be a positive integer` }).int(`${name} must be a positive integer`).positive(`${name} must be a positive integer`).max(INT32_MAX).optional())

export const STATUSES = ['active', 'on_leave', 'inactive'] as const

// A list, or the comma-separated text a form sends (legacy split it so).
export const permissionList = z.preprocess(
  (v) => typeof v === 'string' ? v.split(',').map((p) => p.trim()).filter((p) => p !== '') : v,
  z.array(z.string().max(64)).max(32))

export function validPermissions (list: readonly string[]): Permission[] {
  const invalid = list.find((permission) => !isPermission(permission))
  if (invalid !== undefined) throw staffErrors.invalidPermission(invalid)
  return [...new Set(list)] as Permission[]
}

// The first issue, as the legacy staff routes' 400 carried one message.
export const firstIssue = (issues: Issue[]): string => {
  const issue = issues[0]
  if (issue === undefined) return 'invalid body'
  const field = issue.loc.slice(1).join('.')
  return field === '' || issue.msg.startsWith(field) ? issue.msg : `${field}: ${issue.msg}`
}

export interface RoleNames {
  role_id?: number | undefined
  role?: string | null | undefined
  systemRole?: string | null | undefined
  roleKey?: string | null | undefined
}

/** The role a body names (by id, else by key or name in any case, as legacy matched it); undefined: none named. */
export async function namedRole (db: Database, names: RoleNames): Promise<RoleRow | undefined> {
  if (names.role_id !== undefined) {
    const byId = names.role_id
    const role = await db.run((sql) => findRole(sql, { id: byId }))
    if (role === null) throw staffErrors.unknownRole(String(byId))
    return role
  }
  const name = [names.role, names.systemRole, names.roleKey].find((value) => typeof value === 'string' && value.trim() !== '')?.trim()
  if (name === undefined) return undefined
  const role = await db.run((sql) => findRole(sql, { name }))
  if (role === null) throw staffErrors.unknownRole(name)
  return role
}

// What a role gives whoever holds it: its row and the code defaults of its key.
export async function permissionsOfRole (db: Database, role: RoleRow): Promise<string[]> {
  return [...await db.run((sql) => rolePermissions(sql, role.id)), ...ROLE_DEFAULTS[role.key] ?? []]
}

/**
 * Nobody grants more than they hold: a role or direct permissions given to a staff member must be within the
 * caller's own effective set (legacy let anyone with staff.update make themselves super-admin). Super-admins hold all.
 */
export function mayGrant (actor: DashboardActor, permissions: readonly string[]): void {
  const missing = permissions.find((permission) => !(actor.permissions as readonly string[]).includes(permission))
  if (missing !== undefined) throw staffErrors.permissionDenied(missing)
}
