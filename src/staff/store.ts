import type { Sql, TransactionSql } from '../db/pool.ts'
import type { Permission } from '../auth/permissions.ts'
import { endSessions } from '../auth/sessions.ts'
import type { RevokedFamily } from '../auth/revocations.ts'

// Staff members of the dashboard and their roles (legacy-api.md §1.2, §2.5). E-mails are unique case-insensitively
// by index (staff_email), so a duplicate is an insert that reports a conflict, never a 500 or a race.

export type StaffStatus = 'active' | 'on_leave' | 'inactive'

export interface StaffRow {
  id: number
  name: string
  email: string
  role_id: number | null
  role_key: string | null
  department: string | null
  phone: string | null
  status: StaffStatus
  avatar_url: string | null
  created_at: Date
}

const STAFF_COLUMNS = 'id, name, email, role_id, role_key, department, phone, status, avatar_url, created_at'

export interface StaffStanding {
  id: number
  name: string
  email: string
  status: StaffStatus
  role_key: string | null
  granted: string[] // the role's row and the direct grants; the code defaults are added by effectivePermissions
}

// The guard's one query: the row and what its role and direct grants hold. A staff member without a role_id is
// given the permissions of the role its role_key names (or `staff`), as legacy resolved it.
export async function staffStanding (sql: Sql, staffId: number): Promise<StaffStanding | null> {
  const [row] = await sql<StaffStanding[]>`
    SELECT s.id, s.name, s.email, s.status, s.role_key,
           ARRAY(
             SELECT rp.permission::text FROM role_permissions rp
             WHERE rp.role_id = coalesce(s.role_id, (SELECT r.id FROM roles r WHERE r.key = coalesce(s.role_key, 'staff')))
             UNION
             SELECT sp.permission::text FROM staff_permissions sp WHERE sp.staff_id = s.id
           ) AS granted
    FROM staff s WHERE s.id = ${staffId}`
  return row ?? null
}

export interface StaffLogin {
  id: number
  name: string
  email: string
  role_key: string | null
  status: StaffStatus
  password_hash: string | null
}

export async function staffForLogin (sql: Sql, email: string): Promise<StaffLogin | null> {
  const [row] = await sql<StaffLogin[]>`
    SELECT id, name, email, role_key, status, password_hash FROM staff WHERE lower(email) = lower(${email})`
  return row ?? null
}

export async function staffById (sql: Sql, staffId: number): Promise<StaffRow | null> {
  const [row] = await sql<StaffRow[]>`SELECT ${sql.unsafe(STAFF_COLUMNS)} FROM staff WHERE id = ${staffId}`
  return row ?? null
}

// ILIKE's own wildcards in a search are searched for, not obeyed.
export const likePattern = (search: string): string => `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

export async function listStaff (sql: Sql, options: { search: string | null, page: number, limit: number }): Promise<{ rows: StaffRow[], total: number }> {
  const pattern = options.search === null ? null : likePattern(options.search)
  const where = pattern === null ? sql`TRUE` : sql`(name ILIKE ${pattern} OR email ILIKE ${pattern})`
  const [count] = await sql<Array<{ total: number }>>`SELECT count(*)::int AS total FROM staff WHERE ${where}`
  const rows = await sql<StaffRow[]>`
    SELECT ${sql.unsafe(STAFF_COLUMNS)} FROM staff WHERE ${where}
    ORDER BY created_at DESC, id DESC
    LIMIT ${options.limit} OFFSET ${(options.page - 1) * options.limit}`
  return { rows, total: count?.total ?? 0 }
}

export async function allStaff (sql: Sql): Promise<StaffRow[]> {
  return await sql<StaffRow[]>`SELECT ${sql.unsafe(STAFF_COLUMNS)} FROM staff ORDER BY id`
}

export async function countStaff (sql: Sql, activeOnly: boolean): Promise<number> {
  const [row] = await sql<Array<{ count: number }>>`
    SELECT count(*)::int AS count FROM staff WHERE ${activeOnly ? sql`status = 'active'` : sql`TRUE`}`
  return row?.count ?? 0
}

export interface RoleRow {
  id: number
  key: string
  name: string
  description: string | null
}

export interface RoleWithPermissions extends RoleRow {
  permissions: string[]
}

export async function listRoles (sql: Sql): Promise<RoleWithPermissions[]> {
  return await sql<RoleWithPermissions[]>`
    SELECT r.id, r.key, r.name, r.description,
           ARRAY(SELECT rp.permission::text FROM role_permissions rp WHERE rp.role_id = r.id) AS permissions
    FROM roles r ORDER BY r.id`
}

// A role named the ways the dashboard names one: by id, or by key or display name in any case.
export async function findRole (sql: Sql | TransactionSql, named: { id: number } | { name: string }): Promise<RoleRow | null> {
  const [row] = 'id' in named
    ? await sql<RoleRow[]>`SELECT id, key, name, description FROM roles WHERE id = ${named.id}`
    : await sql<RoleRow[]>`
        SELECT id, key, name, description FROM roles
        WHERE lower(key) = lower(${named.name}) OR lower(name) = lower(${named.name})
        ORDER BY (lower(key) = lower(${named.name})) DESC, id LIMIT 1`
  return row ?? null
}

export async function rolePermissions (sql: Sql, roleId: number): Promise<string[]> {
  const rows = await sql<Array<{ permission: string }>>`SELECT permission FROM role_permissions WHERE role_id = ${roleId}`
  return rows.map((row) => row.permission)
}

/** Replaces a role's permissions; false when no such role exists. */
export async function setRolePermissions (tx: TransactionSql, roleId: number, permissions: readonly Permission[]): Promise<boolean> {
  const [role] = await tx`SELECT id FROM roles WHERE id = ${roleId} FOR UPDATE`
  if (role === undefined) return false
  await tx`DELETE FROM role_permissions WHERE role_id = ${roleId}`
  if (permissions.length > 0) {
    await tx`INSERT INTO role_permissions (role_id, permission) SELECT ${roleId}, unnest(${[...permissions]}::text[])`
  }
  return true
}

export interface NewStaff {
  name: string
  email: string
  passwordHash: string | null
  role: RoleRow
  department: string | null
  phone: string | null
  createdBy: number | null // the admin who created it
}

/** null: the e-mail is taken (in any case), decided by the unique index rather than a check before the insert. */
export async function insertStaff (sql: Sql | TransactionSql, staff: NewStaff): Promise<StaffRow | null> {
  const [row] = await sql<StaffRow[]>`
    INSERT INTO staff (admin_id, name, email, role_id, role_key, department, phone, password_hash)
    VALUES (${staff.createdBy}, ${staff.name}, ${staff.email}, ${staff.role.id}, ${staff.role.key}, ${staff.department}, ${staff.phone}, ${staff.passwordHash})
    ON CONFLICT DO NOTHING
    RETURNING ${sql.unsafe(STAFF_COLUMNS)}`
  return row ?? null
}

export interface StaffChanges {
  name?: string
  email?: string
  role?: RoleRow
  department?: string | null
  phone?: string | null
  status?: StaffStatus
  avatar_url?: string | null
  permissions?: readonly Permission[] // replaces the direct grants
}

export type StaffUpdate =
  | { outcome: 'updated', row: StaffRow, revoked: RevokedFamily[] }
  | { outcome: 'not_found' }
  | { outcome: 'email_taken' }

/**
 * One transaction: the row, its direct grants, and (when the change takes the member out of `active`) the end of
 * every session it holds. A taken e-mail leaves everything as it was.
 */
export async function updateStaff (tx: TransactionSql, staffId: number, changes: StaffChanges): Promise<StaffUpdate> {
  const [current] = await tx<StaffRow[]>`SELECT ${tx.unsafe(STAFF_COLUMNS)} FROM staff WHERE id = ${staffId} FOR UPDATE`
  if (current === undefined) return { outcome: 'not_found' }
  if (changes.email !== undefined && changes.email.toLowerCase() !== current.email.toLowerCase()) {
    const [taken] = await tx`SELECT 1 FROM staff WHERE lower(email) = lower(${changes.email}) AND id <> ${staffId}`
    if (taken !== undefined) return { outcome: 'email_taken' }
  }
  const set: Record<string, unknown> = {}
  if (changes.name !== undefined) set['name'] = changes.name
  if (changes.email !== undefined) set['email'] = changes.email
  if (changes.role !== undefined) Object.assign(set, { role_id: changes.role.id, role_key: changes.role.key })
  for (const key of ['department', 'phone', 'status', 'avatar_url'] as const) {
    if (changes[key] !== undefined) set[key] = changes[key]
  }
  let row = current
  if (Object.keys(set).length > 0) {
    // The e-mail was checked under the row lock; a concurrent insert of the same e-mail still meets the index.
    const [updated] = await tx<StaffRow[]>`
      UPDATE staff SET ${tx(set)} WHERE id = ${staffId}
      AND NOT EXISTS (SELECT 1 FROM staff o WHERE o.id <> ${staffId} AND lower(o.email) = lower(${changes.email ?? current.email}))
      RETURNING ${tx.unsafe(STAFF_COLUMNS)}`
    if (updated === undefined) return { outcome: 'email_taken' }
    row = updated
  }
  if (changes.permissions !== undefined) {
    await tx`DELETE FROM staff_permissions WHERE staff_id = ${staffId}`
    if (changes.permissions.length > 0) {
      await tx`INSERT INTO staff_permissions (staff_id, permission) SELECT ${staffId}, unnest(${[...changes.permissions]}::text[])`
    }
  }
  const revoked = current.status === 'active' && row.status !== 'active' ? await endSessions(tx, { kind: 'staff', id: staffId }) : []
  return { outcome: 'updated', row, revoked }
}

export async function setStaffStatus (tx: TransactionSql, staffId: number, status: StaffStatus): Promise<{ row: StaffRow, revoked: RevokedFamily[] } | null> {
  const update = await updateStaff(tx, staffId, { status })
  return update.outcome === 'updated' ? { row: update.row, revoked: update.revoked } : null
}

/** The row and, with it, its grants and sessions (foreign keys cascade); null when it did not exist. */
export async function deleteStaff (tx: TransactionSql, staffId: number): Promise<StaffRow | null> {
  const [row] = await tx<StaffRow[]>`DELETE FROM staff WHERE id = ${staffId} RETURNING ${tx.unsafe(STAFF_COLUMNS)}`
  return row ?? null
}
