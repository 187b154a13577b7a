import postgres from 'postgres'
import type { Sql, TransactionSql } from '../db/pool.ts'
import { log } from '../log.ts'
import { hashPassword } from './password.ts'

// Admin accounts: the one way a row is created (the dashboard's POST /auth/admin/create, the start-up bootstrap and
// scripts/create-admin.ts), and what the guard and the login read of one. Managing admins (list, change, delete,
// promote) is src/admins/store.ts.

// Legacy lower-cased e-mails; the unique index is on lower(email), so two spellings are one account either way.
export const normalizeEmail = (email: string): string => email.trim().toLowerCase()

// Deliberately loose (one @, something on each side, a dot in the domain): the dashboard validates properly, this
// only keeps obvious garbage out of the login namespace.
// An e-mail is an identifier: one with a lone UTF-16 surrogate would be stored as U+FFFD, another address than sent.
export const isEmail = (email: string): boolean => email.length <= 254 && !/\p{Cs}/u.test(email) && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)

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

export interface AdminStanding extends AdminRow {
  is_active: boolean
  is_superuser: boolean
  granted: string[] // the `admin` role's row: a super-admin may grant admins more than the defaults
}

export async function adminStanding (sql: Sql, adminId: number): Promise<AdminStanding | null> {
  const [row] = await sql<AdminStanding[]>`
    SELECT a.id, a.name, a.email, a.is_active, a.is_superuser,
           ARRAY(SELECT rp.permission::text FROM role_permissions rp JOIN roles r ON r.id = rp.role_id WHERE r.key = 'admin') AS granted
    FROM admins a WHERE a.id = ${adminId}`
  return row ?? null
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
