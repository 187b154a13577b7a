import type { Sql } from '../db/pool.ts'
import { patientErrors } from '../errors.ts'

// Patient profiles (legacy-api.md §2.9, §2.10): one per phone account, kept apart from the account itself
// (src/accounts/store.ts), with the active flag the dashboard switches.

export interface ProfileRow {
  id: number
  account_id: number
  patient_name: string
  phone_number: string
  gender: string | null
  date_of_birth: string | null
  is_active: boolean
  created_at: Date
  updated_at: Date
}

export interface ProfileFields {
  patientName: string
  phoneNumber: string
  gender: string | null
  dateOfBirth: string | null
}

// An account LEFT JOIN its profile: every profile column is null when the account has none.
type MaybeProfile = { [K in keyof ProfileRow]: ProfileRow[K] | null }
const hasProfile = (row: MaybeProfile): row is ProfileRow => row.id !== null

/** Creates or replaces an account's profile; null when there is no such account. */
export async function saveProfile (sql: Sql, accountId: number, fields: ProfileFields): Promise<ProfileRow | null> {
  // One statement: no row when the account does not exist, and two simultaneous saves cannot both insert.
  const [row] = await sql<ProfileRow[]>`
    INSERT INTO patient_profiles (account_id, patient_name, phone_number, gender, date_of_birth)
    SELECT id, ${fields.patientName}, ${fields.phoneNumber}, ${fields.gender}, ${fields.dateOfBirth} FROM accounts WHERE id = ${accountId}
    ON CONFLICT (account_id) DO UPDATE SET
      patient_name = EXCLUDED.patient_name, phone_number = EXCLUDED.phone_number,
      gender = EXCLUDED.gender, date_of_birth = EXCLUDED.date_of_birth, updated_at = now()
    RETURNING *`
  return row ?? null
}

/** The profile of an account, or the legacy 404 naming which of the two is missing, in one query. */
export async function profileOfAccount (sql: Sql, accountId: number): Promise<ProfileRow> {
  const [row] = await sql<MaybeProfile[]>`
    SELECT a.id AS account_id, p.id, p.patient_name, p.phone_number, p.gender, p.date_of_birth, p.is_active,
           p.created_at, p.updated_at
    FROM accounts a LEFT JOIN patient_profiles p ON p.account_id = a.id
    WHERE a.id = ${accountId}`
  if (row === undefined) throw patientErrors.accountNotFound()
  if (!hasProfile(row)) throw patientErrors.profileNotFound()
  return row
}

// The profile row carries its account id, so one query answers the whole list.
export async function allProfiles (sql: Sql): Promise<ProfileRow[]> {
  return await sql<ProfileRow[]>`SELECT * FROM patient_profiles ORDER BY id`
}

export type ProfileSummary = Pick<ProfileRow, 'id' | 'patient_name' | 'phone_number' | 'is_active' | 'created_at'>

export async function profileSummaries (sql: Sql): Promise<ProfileSummary[]> {
  return await sql<ProfileSummary[]>`SELECT id, patient_name, phone_number, is_active, created_at FROM patient_profiles ORDER BY id`
}

/** Activates or deactivates a patient; the legacy 404 names which of account and profile is missing. */
export async function setPatientActive (sql: Sql, accountId: number, active: boolean): Promise<boolean> {
  // One round trip that also tells which of account and profile is missing.
  const [outcome] = await sql<Array<{ account_exists: boolean, is_active: boolean | null }>>`
    WITH updated AS (
      UPDATE patient_profiles SET is_active = ${active}, updated_at = now()
      WHERE account_id = ${accountId} RETURNING is_active
    )
    SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ${accountId}) AS account_exists,
           (SELECT is_active FROM updated) AS is_active`
  if (outcome === undefined || !outcome.account_exists) throw patientErrors.accountNotFound()
  if (outcome.is_active === null) throw patientErrors.profileNotFound()
  return outcome.is_active
}

// ---------------------------------------------------------------------------------------------------------------
// The legacy `patients` table (POST/GET /patients): a name and a unique e-mail, read by nothing else.

export interface LegacyPatient {
  id: number
  name: string
  email: string
}

/** Null when the e-mail is taken (the unique index decides, also between two posts at once). */
export async function insertLegacyPatient (sql: Sql, name: string, email: string): Promise<LegacyPatient | null> {
  const [row] = await sql<LegacyPatient[]>`
    INSERT INTO legacy_patients (name, email) VALUES (${name}, ${email}) ON CONFLICT (email) DO NOTHING RETURNING id, name, email`
  return row ?? null
}

export async function legacyPatients (sql: Sql): Promise<LegacyPatient[]> {
  return await sql<LegacyPatient[]>`SELECT id, name, email FROM legacy_patients ORDER BY id`
}
