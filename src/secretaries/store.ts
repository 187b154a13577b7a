import { randomInt } from 'node:crypto'
import type { Sql } from '../db/pool.ts'
import { secretaryErrors } from '../errors.ts'

// Secretaries (legacy-api.md §2.7 secretary_code_generator, §2.8): a doctor generates a 6-digit code for each, and
// the secretary "logs in" with it. The code is the row's key; the clinic is the doctor's row (clinic_id == doctor id).

const FIRST_CODE = 100_000
const LAST_CODE = 999_999
// 900 000 codes: a collision is rare until the table is nearly full; a few retries cover the unlucky draws.
const CODE_ATTEMPTS = 20

export interface SecretaryRow {
  code: number
  clinic_id: number
  doctor_name: string | null
  secretary_name: string | null
  created_date: string | null
  is_active: boolean
}

export interface NewSecretary {
  clinicId: number
  doctorName: string
  secretaryName: string
  createdDate: string // free text as the app formats it
}

/** The code a request names, or null when it cannot name any secretary (so no query is needed to answer 404). */
export function codeInRange (code: number): number | null {
  return code >= FIRST_CODE && code <= LAST_CODE ? code : null
}

/** Creates a secretary with a fresh random code and returns the code. */
export async function createSecretary (sql: Sql, secretary: NewSecretary): Promise<number> {
  // Uniqueness is the constraint's job: a drawn code that already exists inserts nothing, and we draw again.
  for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
    const code = randomInt(FIRST_CODE, LAST_CODE + 1)
    const [created] = await sql<Array<{ code: number }>>`
      INSERT INTO secretaries (code, clinic_id, doctor_name, secretary_name, created_date)
      VALUES (${code}, ${secretary.clinicId}, ${secretary.doctorName}, ${secretary.secretaryName}, ${secretary.createdDate})
      ON CONFLICT (code) DO NOTHING
      RETURNING code`
    if (created !== undefined) return created.code
  }
  throw secretaryErrors.codesExhausted()
}

export async function secretaryByCode (sql: Sql, code: number): Promise<SecretaryRow | null> {
  const [row] = await sql<SecretaryRow[]>`
    SELECT code, clinic_id, doctor_name, secretary_name, created_date, is_active FROM secretaries WHERE code = ${code}`
  return row ?? null
}

/** What the actor rules and the token guard need of a secretary: its clinic, and whether it may still work. */
export async function secretaryStanding (sql: Sql, code: number): Promise<{ clinic_id: number, is_active: boolean } | null> {
  const [row] = await sql<Array<{ clinic_id: number, is_active: boolean }>>`SELECT clinic_id, is_active FROM secretaries WHERE code = ${code}`
  return row ?? null
}

export interface SecretaryLogin extends SecretaryRow {
  receiving_patients: number | null
  general_info: unknown
}

/** A secretary with its clinic's daily capacity, for the login answer. */
export async function secretaryLogin (sql: Sql, code: number): Promise<SecretaryLogin | null> {
  // clinic_id is the clinics primary key: one indexed join, never a scan of profiles.
  const [row] = await sql<SecretaryLogin[]>`
    SELECT s.code, s.clinic_id, s.doctor_name, s.secretary_name, s.created_date, s.is_active,
           c.receiving_patients, c.profile -> 'general_info' AS general_info
    FROM secretaries s LEFT JOIN clinics c ON c.id = s.clinic_id
    WHERE s.code = ${code}`
  return row ?? null
}

export async function setSecretaryActive (sql: Sql, code: number, active: boolean): Promise<Pick<SecretaryRow, 'code' | 'clinic_id' | 'is_active'> | null> {
  const [row] = await sql<Array<Pick<SecretaryRow, 'code' | 'clinic_id' | 'is_active'>>>`
    UPDATE secretaries SET is_active = ${active} WHERE code = ${code}
    RETURNING code, clinic_id, is_active`
  return row ?? null
}
