import postgres from 'postgres'
import type { Sql, TransactionSql } from '../db/pool.ts'
import { authErrors } from '../errors.ts'
import { log } from '../log.ts'
import { hashPassword } from './password.ts'
import { revokeRefreshTokens } from './sessions.ts'

// Admin accounts: the one way a row is created (the dashboard's POST /auth/admin/create, the start-up bootstrap and
// scripts/create-admin.ts), and the permissions an admin has (legacy-api.md §2.5).

export const PERMISSIONS = [
  'staff.read', 'staff.create', 'staff.update', 'staff.delete', 'staff.invite', 'staff.activate',
  'appointments.read', 'appointments.create', 'appointments.update', 'appointments.delete'
] as const

// Legacy's `admin` role defaults; a superuser holds all ten.
const ADMIN_DEFAULTS = ['staff.read', 'staff.create', 'staff.update', 'staff.invite', 'staff.activate'] as const

export function roleOf (isSuperuser: boolean): { role: 'super-admin' | 'admin', permissions: string[] } {
  return isSuperuser ? { role: 'super-admin', permissions: [...PERMISSIONS] } : { role: 'admin', permissions: [...ADMIN_DEFAULTS] }
}

// Legacy lower-cased e-mails; the unique index is on lower(email), so two spellings are one account either way.
export const normalizeEmail = (email: string): string => email.trim().toLowerCase()

// Deliberately loose (one @, something on each side, a dot in the domain): the dashboard validates properly, this
// only keeps obvious garbage out of the login namespace.
export const isEmail = (email: string): boolean => email.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)

export interface NewAdmin {
  name: string
  email: string
  passwordHash: string
  superuser: boolean
}

export interface AdminRow {
  id: number
  name: string
  email: string
}

// Race-safe: two creations of one e-mail at once meet at the unique index and the second inserts nothing (null),
// instead of the check-then-insert that let legacy create duplicates or fail with a 500.
export async function insertAdmin (sql: Sql | TransactionSql, admin: NewAdmin): Promise<AdminRow | null> {
  const [row] = await sql<AdminRow[]>`
    INSERT INTO admins (name, email, password_hash, is_superuser)
    VALUES (${admin.name}, ${normalizeEmail(admin.email)}, ${admin.passwordHash}, ${admin.superuser})
    ON CONFLICT DO NOTHING
    RETURNING id, name, email`
  return row ?? null
}

export async function adminExists (sql: Sql | TransactionSql, email: string): Promise<boolean> {
  const [row] = await sql`SELECT 1 FROM admins WHERE lower(email) = lower(${normalizeEmail(email)})`
  return row !== undefined
}

export interface LoginRow extends AdminRow {
  password_hash: string
  is_active: boolean
}

export async function adminForLogin (sql: Sql, email: string): Promise<LoginRow | null> {
  const [row] = await sql<LoginRow[]>`
    SELECT id, name, email, password_hash, is_active FROM admins WHERE lower(email) = lower(${normalizeEmail(email)})`
  return row ?? null
}

export async function passwordHashOf (sql: Sql, adminId: number): Promise<string | null> {
  const [row] = await sql<Array<{ password_hash: string }>>`SELECT password_hash FROM admins WHERE id = ${adminId}`
  return row?.password_hash ?? null
}

/**
 * Replaces the password whose hash was just verified, and revokes the admin's refresh tokens. Compare-and-set on
 * that hash: of two changes racing, only the first applies, and the second gets false (its current password is no
 * longer current).
 */
export async function replacePassword (tx: TransactionSql, adminId: number, verifiedHash: string, newHash: string): Promise<boolean> {
  const updated = await tx`UPDATE admins SET password_hash = ${newHash} WHERE id = ${adminId} AND password_hash = ${verifiedHash} RETURNING id`
  if (updated.length === 0) return false
  await revokeRefreshTokens(tx, adminId)
  return true
}

/** An admin deletes another; their refresh tokens go with the row (ON DELETE CASCADE). */
export async function deleteAdmin (tx: TransactionSql, actorId: number, targetId: number): Promise<void> {
  // Both rows locked in id order: two admins deleting each other at once cannot both succeed, and the caller is
  // re-checked under the lock.
  const rows = await tx<Array<{ id: number, is_active: boolean, is_superuser: boolean }>>`
    SELECT id, is_active, is_superuser FROM admins WHERE id IN (${actorId}, ${targetId}) ORDER BY id FOR UPDATE`
  const self = rows.find((row) => row.id === actorId)
  const target = rows.find((row) => row.id === targetId)
  if (self === undefined || !self.is_active) throw authErrors.adminUnavailable()
  if (target === undefined) throw authErrors.adminNotFound()
  // Otherwise any admin could remove the superuser who created them.
  if (target.is_superuser && !self.is_superuser) throw authErrors.insufficient()
  await tx`DELETE FROM admins WHERE id = ${targetId}`
}

// The first admin (contract.md §3), run by the primary after the migrations: created as a superuser when no admin
// has that e-mail; an existing account is left exactly as it is (never promoted, re-activated or re-passworded),
// so an operator who changed it in the dashboard is not overruled at the next deploy. The primary has no event
// loop to protect from scrypt, and the async form runs it on libuv's pool anyway.
export async function bootstrapAdmin (databaseUrl: string, email: string, password: string): Promise<'created' | 'exists'> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { application_name: 'tabeby:bootstrap-admin' } })
  try {
    if (await adminExists(sql, email)) {
      log.info('bootstrap admin exists', { email: normalizeEmail(email) })
      return 'exists'
    }
    const row = await insertAdmin(sql, { name: 'Admin', email, passwordHash: await hashPassword(password), superuser: true })
    // null: another instance starting at the same moment created it first.
    log.info(row === null ? 'bootstrap admin exists' : 'bootstrap admin created', { email: normalizeEmail(email) })
    return row === null ? 'exists' : 'created'
  } finally {
    await sql.end({ timeout: 5 })
  }
}
