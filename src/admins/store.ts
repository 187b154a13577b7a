import type { Sql, TransactionSql } from '../db/pool.ts'
import { endSessions } from '../auth/sessions.ts'
import type { RevokedFamily } from '../auth/revocations.ts'

// Managing admins (legacy-api.md §2.4): only a super-admin may, and the last active super-admin can be neither
// demoted, deactivated nor deleted, so the dashboard can never lock itself out. Nobody becomes a super-admin by
// calling a route first (legacy promoted the first caller) or by having a particular e-mail address.

export interface AdminBrief {
  id: number
  name: string
  email: string
  is_superuser: boolean
  is_active: boolean
}

export async function listAdmins (sql: Sql): Promise<AdminBrief[]> {
  return await sql<AdminBrief[]>`SELECT id, name, email, is_superuser, is_active FROM admins ORDER BY id`
}

export interface AdminChanges {
  name?: string
  email?: string
  superuser?: boolean
  active?: boolean
}

export type AdminWrite =
  | { outcome: 'saved', row: AdminBrief, revoked: RevokedFamily[] }
  | { outcome: 'not_found' }
  | { outcome: 'email_taken' }
  | { outcome: 'last_super_admin' }

// The active super-admins, locked: two changes that would each leave one of two super-admins are serialized, and
// the second sees that it would leave none.
async function lockSuperAdmins (tx: TransactionSql): Promise<number[]> {
  const rows = await tx<Array<{ id: number }>>`SELECT id FROM admins WHERE is_superuser AND is_active ORDER BY id FOR UPDATE`
  return rows.map((row) => row.id)
}

const stillSuper = (changes: AdminChanges): boolean => changes.superuser !== false && changes.active !== false

export async function updateAdmin (tx: TransactionSql, adminId: number, changes: AdminChanges): Promise<AdminWrite> {
  const supers = await lockSuperAdmins(tx)
  const [current] = await tx<AdminBrief[]>`SELECT id, name, email, is_superuser, is_active FROM admins WHERE id = ${adminId} FOR UPDATE`
  if (current === undefined) return { outcome: 'not_found' }
  if (supers.length === 1 && supers[0] === adminId && !stillSuper(changes)) return { outcome: 'last_super_admin' }
  if (changes.email !== undefined) {
    const [taken] = await tx`SELECT 1 FROM admins WHERE lower(email) = lower(${changes.email}) AND id <> ${adminId}`
    if (taken !== undefined) return { outcome: 'email_taken' }
  }
  const set: Record<string, unknown> = {}
  if (changes.name !== undefined) set['name'] = changes.name
  if (changes.email !== undefined) set['email'] = changes.email
  if (changes.superuser !== undefined) set['is_superuser'] = changes.superuser
  if (changes.active !== undefined) set['is_active'] = changes.active
  let row = current
  if (Object.keys(set).length > 0) {
    const [updated] = await tx<AdminBrief[]>`
      UPDATE admins SET ${tx(set)} WHERE id = ${adminId}
      AND NOT EXISTS (SELECT 1 FROM admins o WHERE o.id <> ${adminId} AND lower(o.email) = lower(${changes.email ?? current.email}))
      RETURNING id, name, email, is_superuser, is_active`
    if (updated === undefined) return { outcome: 'email_taken' }
    row = updated
  }
  // A deactivated admin's sessions end with it; re-activating does not bring them back.
  const revoked = current.is_active && !row.is_active ? await endSessions(tx, { kind: 'admin', id: adminId }) : []
  return { outcome: 'saved', row, revoked }
}

export type AdminDelete = { outcome: 'deleted', row: AdminBrief } | { outcome: 'not_found' } | { outcome: 'last_super_admin' }

/** Their refresh tokens and recovery codes go with the row (ON DELETE CASCADE); their access tokens find no admin. */
export async function deleteAdmin (tx: TransactionSql, adminId: number): Promise<AdminDelete> {
  const supers = await lockSuperAdmins(tx)
  if (supers.length === 1 && supers[0] === adminId) return { outcome: 'last_super_admin' }
  const [row] = await tx<AdminBrief[]>`DELETE FROM admins WHERE id = ${adminId} RETURNING id, name, email, is_superuser, is_active`
  return row === undefined ? { outcome: 'not_found' } : { outcome: 'deleted', row }
}
