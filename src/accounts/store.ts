import type { Sql, TransactionSql } from '../db/pool.ts'
import { errors } from '../errors.ts'

// Phone accounts (legacy-api.md §1.1): what the apps call user_server_id, a patient sees as `P-<id>`. The
// registration routes create them, check-phone and the dashboard's phone list read them, a doctor's login phone
// links one to its clinic row, and a patient deleting itself removes its own.

export type Role = 'patient' | 'secretary' | 'doctor'
export const ROLES: readonly Role[] = ['patient', 'secretary', 'doctor']
export const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s)

export interface AccountRow {
  id: number
  user_uid: string | null
  user_role: Role
  phone_number: string
}

/**
 * The account for a phone, created with `user_uid` and `role` when there is none. Race-safe without a lock: the
 * unique phone decides which of two simultaneous registrations inserts; the other inserts nothing and reads the
 * winner's row in a fresh statement (a later snapshot), so both answer the same id. It repeats only when the
 * account is deleted between those two statements; a phone that keeps flapping gets a 503 to retry.
 */
export async function accountForPhone (sql: Sql, phone: string, userUid: string | null, role: Role): Promise<{ account: AccountRow, created: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const [inserted] = await sql<AccountRow[]>`
      INSERT INTO accounts (user_uid, user_role, phone_number) VALUES (${userUid}, ${role}, ${phone})
      ON CONFLICT (phone_number) DO NOTHING
      RETURNING id, user_uid, user_role, phone_number`
    if (inserted !== undefined) return { account: inserted, created: true }
    const existing = await accountByPhone(sql, phone)
    if (existing !== null) return { account: existing, created: false }
  }
  throw errors.databaseBusy()
}

export async function accountByPhone (sql: Sql, phone: string): Promise<AccountRow | null> {
  const [row] = await sql<AccountRow[]>`SELECT id, user_uid, user_role, phone_number FROM accounts WHERE phone_number = ${phone}`
  return row ?? null
}

export interface PhoneEntry {
  user_server_id: number
  phone_number: string
  user_uid: string | null
  user_role: Role
}

export async function accountsOfRole (sql: Sql, role: Role): Promise<PhoneEntry[]> {
  return await sql<PhoneEntry[]>`
    SELECT id AS user_server_id, phone_number, user_uid, user_role FROM accounts WHERE user_role = ${role} ORDER BY id`
}

/** The doctor (clinic row) a phone account is linked to, or null: no such account, or one linked to none. */
export async function doctorOfAccount (sql: Sql, accountId: number): Promise<number | null> {
  const [row] = await sql<Array<{ doctor_id: number | null }>>`SELECT doctor_id FROM accounts WHERE id = ${accountId}`
  return row?.doctor_id ?? null
}

/**
 * Deletes a patient's account, its profile with it (ON DELETE CASCADE). Another role's account is left alone and
 * its role told, so the route can say why it refused.
 */
export async function deletePatientAccount (sql: Sql | TransactionSql, accountId: number): Promise<{ deleted: true } | { deleted: false, role: string | null }> {
  const [deleted] = await sql<Array<{ id: number }>>`DELETE FROM accounts WHERE id = ${accountId} AND user_role = 'patient' RETURNING id`
  if (deleted !== undefined) return { deleted: true }
  const [other] = await sql<Array<{ user_role: string }>>`SELECT user_role FROM accounts WHERE id = ${accountId}`
  return { deleted: false, role: other?.user_role ?? null }
}

/**
 * The doctor a verified phone signs in as (legacy after-phone-login): the one its account is linked to, else the
 * newest doctor whose login phone it is, which the account is then linked to. A phone with no account gets a doctor
 * account (the legacy server answered without one; a doctor token names its account). Null when no doctor matches.
 */
export async function signInDoctor (tx: TransactionSql, phone: string, userUid: string): Promise<{ doctorId: number, accountId: number } | null> {
  const [account] = await tx<Array<{ id: number, doctor_id: number | null }>>`
    SELECT id, doctor_id FROM accounts WHERE phone_number = ${phone} FOR UPDATE`
  let doctorId: number | null
  if (account?.doctor_id !== null && account?.doctor_id !== undefined) {
    const [linked] = await tx<Array<{ id: number }>>`SELECT id FROM clinics WHERE id = ${account.doctor_id}`
    doctorId = linked?.id ?? null
  } else {
    const [byPhone] = await tx<Array<{ id: number }>>`SELECT id FROM clinics WHERE phone = ${phone} ORDER BY id DESC LIMIT 1`
    doctorId = byPhone?.id ?? null
  }
  if (doctorId === null) return null
  if (account === undefined) {
    const [created] = await tx<Array<{ id: number }>>`
      INSERT INTO accounts (user_uid, user_role, phone_number, doctor_id) VALUES (${userUid}, 'doctor', ${phone}, ${doctorId})
      ON CONFLICT (phone_number) DO UPDATE SET doctor_id = coalesce(accounts.doctor_id, EXCLUDED.doctor_id)
      RETURNING id`
    return { doctorId, accountId: (created as { id: number }).id }
  }
  if (account.doctor_id === null) await tx`UPDATE accounts SET doctor_id = ${doctorId} WHERE id = ${account.id} AND doctor_id IS NULL`
  return { doctorId, accountId: account.id }
}

export async function accountById (sql: Sql | TransactionSql, accountId: number): Promise<(AccountRow & { doctor_id: number | null }) | null> {
  const [row] = await sql<Array<AccountRow & { doctor_id: number | null }>>`
    SELECT id, user_uid, user_role, phone_number, doctor_id FROM accounts WHERE id = ${accountId}`
  return row ?? null
}
