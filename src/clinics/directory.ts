import type { Database, Sql, TransactionSql } from '../db/pool.ts'
import type { ClinicRow } from './store.ts'

// The lists of clinics: the dashboard's doctors directory (filters, pages, sort), its counts by status, the lookups
// of values in use, and the patient app's clinic list. A row without a profile is a clinic flagged before its doctor
// ever posted one (close_clinic creates such rows): not a doctor to list.

export interface DoctorFilters {
  q?: string | undefined
  specialty?: string | undefined
  status?: string | undefined
  expMin?: number | undefined
  expMax?: number | undefined
  page: number
  pageSize: number
  sort?: string | undefined
}

export interface DirectoryRow {
  id: number
  name: string
  image_url: string | null
  specialty: string | null
  status: string
  patients_count: number | null
  experience_years: number | null
  email: string | null
  phone: string | null
  specializations: unknown
  dents_addition: unknown
  plastic_addition: unknown
}

const SORT_COLUMNS = { name: 'name', experience: 'experience_years', patients: 'patients_count', status: 'status' } as const

function sortOf (sort: string | undefined): { column: string, descending: boolean } {
  const descending = sort?.startsWith('-') ?? false
  const key = descending ? sort?.slice(1) : sort
  // An unknown key sorts by name, as legacy did, rather than failing the dashboard's list.
  const column = key !== undefined && key in SORT_COLUMNS ? SORT_COLUMNS[key as keyof typeof SORT_COLUMNS] : 'name'
  return { column, descending }
}

// A `%` or `_` the user typed is a character to find, not a wildcard.
function likePattern (q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

// Built per statement: a fragment belongs to the query it is written into.
function directoryFilters (tx: TransactionSql, f: DoctorFilters) {
  const like = f.q ? likePattern(f.q) : null
  return tx`WHERE profile <> '{}'::jsonb
    ${like === null ? tx`` : tx`AND (lower(name) LIKE ${like} OR lower(email) LIKE ${like} OR lower(phone) LIKE ${like})`}
    ${f.specialty ? tx`AND specialty = ${f.specialty}` : tx``}
    ${f.status ? tx`AND status = ${f.status}` : tx``}
    ${f.expMin === undefined ? tx`` : tx`AND experience_years >= ${f.expMin}`}
    ${f.expMax === undefined ? tx`` : tx`AND experience_years <= ${f.expMax}`}`
}

/** One page of the directory and the number of doctors matching, from one snapshot. */
export async function directoryPage (db: Database, f: DoctorFilters): Promise<{ total: number, rows: DirectoryRow[] }> {
  const { column, descending } = sortOf(f.sort)
  return await db.run((sql) => sql.begin('isolation level repeatable read read only', async (tx) => {
    const [count] = await tx<Array<{ total: number }>>`SELECT count(*)::int AS total FROM clinics ${directoryFilters(tx, f)}`
    const rows = await tx<DirectoryRow[]>`
      SELECT id, name, image_url, specialty, status, patients_count, experience_years, email, phone,
             profile -> 'specializations' AS specializations, profile -> 'dents_addition' AS dents_addition,
             profile -> 'plastic_addition' AS plastic_addition
      FROM clinics ${directoryFilters(tx, f)}
      ORDER BY ${tx(column)} ${descending ? tx`DESC` : tx`ASC`}, id
      LIMIT ${f.pageSize} OFFSET ${(f.page - 1) * f.pageSize}`
    return { total: count?.total ?? 0, rows }
  }))
}

export interface DoctorSummary {
  id: number
  name: string
  email: string | null
  phone: string | null
  status: string
  created_at: Date
}

export async function doctorSummaries (sql: Sql): Promise<DoctorSummary[]> {
  return await sql<DoctorSummary[]>`SELECT id, name, email, phone, status, created_at FROM clinics WHERE profile <> '{}'::jsonb ORDER BY id`
}

/** Every value of a column in use, once, sorted. */
export async function valuesInUse (sql: Sql, column: 'specialty' | 'clinic_state'): Promise<string[]> {
  const rows = await sql<Array<{ value: string }>>`
    SELECT DISTINCT ${sql(column)} AS value FROM clinics WHERE ${sql(column)} <> '' ORDER BY 1`
  return rows.map((row) => row.value)
}

export type ListedClinic = Pick<ClinicRow, 'id' | 'profile' | 'name' | 'image_url' | 'clinic_state' | 'status'>

/** The clinics the patient app lists: those whose profile names its clinic_id. */
export async function listedClinics (sql: Sql): Promise<ListedClinic[]> {
  return await sql<ListedClinic[]>`
    SELECT id, profile, name, image_url, clinic_state, status FROM clinics
    WHERE profile -> 'general_info' ? 'clinic_id' ORDER BY id`
}
