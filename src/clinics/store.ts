import type postgres from 'postgres'
import { authErrors, doctorErrors, errors } from '../errors.ts'
import { mayPostProfile, type DoctorActor } from '../auth/actors.ts'
import type { Database, Sql, TransactionSql } from '../db/pool.ts'
import { INT32_MAX, normalizePhone, parseAccountId } from '../domain/identifiers.ts'
import { isRecord } from '../domain/json.ts'
import { doctorKey, recordDeletion } from '../auth/standing.ts'
import {
  clinicIdOf, deriveColumns, explicitStatus, hasUnstorableText, mergeProfile, normalizeProfile,
  patchedColumns, withAccount, withAccountStatus,
  type AccountPatch, type DoctorColumns, type DoctorStatus, type Profile
} from './profile.ts'

// Reads and writes of the `clinics` rows behind the doctor routes: a clinic is a doctor, its id the legacy
// clinic_id, its profile kept whole as jsonb beside the columns derived from it (profile.ts).

export interface ClinicRow extends DoctorColumns {
  id: number
  profile: Profile
  created_at: Date
}

// A profile is parsed JSON, which is all postgres.js needs to know to send it as jsonb.
const asJson = (profile: Profile): postgres.JSONValue => profile as postgres.JSONValue

// `forUpdate`: inside a transaction, the row stays locked until it ends, for a read-modify-write.
export async function findClinic (sql: Sql | TransactionSql, id: number, forUpdate = false): Promise<ClinicRow | null> {
  const [row] = await sql<ClinicRow[]>`
    SELECT id, profile, name, email, phone, image_url, specialty, clinic_state, status, experience_years,
           patients_count, receiving_patients, created_at
    FROM clinics WHERE id = ${id} ${forUpdate ? sql`FOR UPDATE` : sql``}`
  return row ?? null
}

// The open/closed flag that booking reads (legacy-api.md §2.11). A clinic without a profile yet gets a bare row.
export async function setClinicClosed (sql: Sql, id: number, closed: boolean): Promise<boolean> {
  const [row] = await sql<Array<{ is_closed: boolean }>>`
    INSERT INTO clinics (id, is_closed) VALUES (${id}, ${closed})
    ON CONFLICT (id) DO UPDATE SET is_closed = EXCLUDED.is_closed, updated_at = now()
    RETURNING is_closed`
  if (row === undefined) throw new Error('close_clinic upsert returned no row')
  return row.is_closed
}

/** A clinic never closed, or not known at all, is open. */
export async function isClinicClosed (sql: Sql, id: number): Promise<boolean> {
  const [row] = await sql<Array<{ is_closed: boolean }>>`SELECT is_closed FROM clinics WHERE id = ${id}`
  return row?.is_closed ?? false
}

// ---------------------------------------------------------------------------------------------------------------
// POST /doctor/profile

interface ProfilePost {
  profile: Profile
  phone: string | null // wrapped mode: the login phone, which becomes the phone column
  accountId: number | null // wrapped mode: the account to link to this doctor
}

// Wrapped mode ({json_profile, phone, user_server_id}) or raw mode (the body is the profile), told apart as legacy did.
// A doctor signed in by its phone (strict mode) posts for its own account: the body cannot name another account or
// phone, and the phone column is the one Firebase verified.
async function readProfilePost (tx: TransactionSql, body: Profile, doctor: DoctorActor | null): Promise<ProfilePost> {
  const wrapped = 'json_profile' in body || 'phone' in body || 'user_server_id' in body
  let profile: unknown = wrapped ? body['json_profile'] : body
  if (wrapped && typeof profile === 'string') {
    try {
      profile = JSON.parse(profile)
    } catch {
      profile = {} // legacy went on with an empty profile, which then fails for want of a clinic_id
    }
    if (hasUnstorableText(profile)) throw doctorErrors.unstorableText()
  }
  const asProfile = isRecord(profile) ? profile : {}
  if (doctor !== null) {
    const [own] = await tx<Array<{ phone_number: string }>>`SELECT phone_number FROM accounts WHERE id = ${doctor.accountId}`
    return { profile: asProfile, phone: own?.phone_number ?? null, accountId: own === undefined ? null : doctor.accountId }
  }
  if (!wrapped) return { profile: asProfile, phone: null, accountId: null }
  const accountId = parseAccountId(body['user_server_id'])
  const [byId] = accountId !== null && accountId <= INT32_MAX
    ? await tx<Array<{ id: number, phone_number: string }>>`SELECT id, phone_number FROM accounts WHERE id = ${accountId}`
    : []
  const sent = body['phone']
  // The account's own phone wins over the one sent, as in legacy: it is the number the doctor logged in with.
  const phone = byId?.phone_number ?? (typeof sent === 'string' || typeof sent === 'number' ? normalizePhone(String(sent)) : null)
  if (phone === null) throw doctorErrors.profilePhone()
  const [byPhone] = byId === undefined ? await tx<Array<{ id: number }>>`SELECT id FROM accounts WHERE phone_number = ${phone}` : []
  return { profile: asProfile, phone, accountId: (byId ?? byPhone)?.id ?? null }
}

export interface ProfilePostOptions {
  // Only an admin brings a deactivated doctor back (the doctor app's re-post of `account_status: true` does not).
  mayReactivate: boolean
  // The doctor token the post came with (strict mode), or null (the app secret in legacy mode, or an admin).
  doctor: DoctorActor | null
}

/** Upserts the doctor a profile post describes and links its phone account; returns the clinic id. */
export async function saveDoctorProfile (db: Database, body: Profile, options: ProfilePostOptions): Promise<number> {
  return await db.transaction(async (tx) => {
    const post = await readProfilePost(tx, body, options.doctor)
    const clinicId = clinicIdOf(post.profile)
    if (clinicId === null) throw doctorErrors.profileClinicId()
    if (options.doctor !== null) {
      const [existing] = await tx<Array<{ id: number }>>`SELECT id FROM clinics WHERE id = ${clinicId} FOR UPDATE`
      if (!mayPostProfile(options.doctor, clinicId, existing !== undefined)) throw authErrors.insufficient()
    }
    const columns = deriveColumns(post.profile)
    // Legacy reset the status from every re-post, and a profile's status defaults to active, so a doctor an admin
    // had deactivated came back by saving the profile. The stored status now holds unless the profile states one,
    // and only an admin's post brings an inactive doctor back; the result is written into the stored profile too,
    // so the app reading its profile back sees it.
    const statesStatus = explicitStatus(post.profile) !== null
    const status = !statesStatus
      ? tx`clinics.status`
      : options.mayReactivate ? tx`EXCLUDED.status` : tx`CASE WHEN clinics.status = 'inactive' THEN 'inactive' ELSE EXCLUDED.status END`
    await tx`
      INSERT INTO clinics (id, profile, name, email, phone, image_url, specialty, clinic_state, status,
                           experience_years, patients_count, receiving_patients)
      VALUES (${clinicId}, ${tx.json(asJson(normalizeProfile(post.profile)))}, ${columns.name}, ${columns.email},
              ${post.phone ?? columns.phone}, ${columns.image_url}, ${columns.specialty}, ${columns.clinic_state},
              ${columns.status}, ${columns.experience_years}, ${columns.patients_count}, ${columns.receiving_patients})
      ON CONFLICT (id) DO UPDATE SET
        profile = CASE WHEN jsonb_typeof(EXCLUDED.profile -> 'general_info') = 'object'
          THEN jsonb_set(EXCLUDED.profile, '{general_info,account_status}', to_jsonb((${status}) = 'active'))
          ELSE EXCLUDED.profile END,
        status = ${status},
        name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone, image_url = EXCLUDED.image_url,
        specialty = EXCLUDED.specialty, clinic_state = EXCLUDED.clinic_state,
        experience_years = EXCLUDED.experience_years, patients_count = EXCLUDED.patients_count,
        receiving_patients = EXCLUDED.receiving_patients, updated_at = now()`
    if (post.accountId !== null) {
      await tx`UPDATE accounts SET doctor_id = ${clinicId} WHERE id = ${post.accountId} AND doctor_id IS NULL`
    }
    return clinicId
  })
}

// ---------------------------------------------------------------------------------------------------------------
// The dashboard's writes

export async function patchDoctor (db: Database, id: number, patch: Profile, account: AccountPatch): Promise<void> {
  // The row id is the clinic id every booking refers to; a profile naming another clinic would split the two.
  const info = patch['general_info']
  if (isRecord(info) && 'clinic_id' in info && clinicIdOf(patch) !== id) throw doctorErrors.clinicIdFixed(id)
  await db.transaction(async (tx) => {
    const row = await findClinic(tx, id, true)
    if (row === null) throw doctorErrors.notFound()
    const merged = mergeProfile(row.profile, patch)
    const c = withAccount(patchedColumns(row, merged), account)
    await tx`
      UPDATE clinics SET profile = ${tx.json(asJson(merged))}, name = ${c.name}, email = ${c.email},
        phone = ${c.phone}, image_url = ${c.image_url}, specialty = ${c.specialty}, clinic_state = ${c.clinic_state},
        status = ${c.status}, experience_years = ${c.experience_years}, patients_count = ${c.patients_count},
        receiving_patients = ${c.receiving_patients}, updated_at = now()
      WHERE id = ${id}`
  })
}

/**
 * Sets the status column, which every rule reads, and its copy in the profile, which the doctor app shows and may
 * post back. Null when there is no such doctor.
 */
export async function setDoctorStatus (db: Database, id: number, status: DoctorStatus): Promise<{ id: number, name: string, status: DoctorStatus } | null> {
  return await db.transaction(async (tx) => {
    const [row] = await tx<Array<{ profile: Profile }>>`SELECT profile FROM clinics WHERE id = ${id} FOR UPDATE`
    if (row === undefined) return null
    const [updated] = await tx<Array<{ id: number, name: string, status: DoctorStatus }>>`
      UPDATE clinics SET status = ${status}, profile = ${tx.json(asJson(withAccountStatus(row.profile, status)))},
        updated_at = now()
      WHERE id = ${id} RETURNING id, name, status`
    return updated ?? null
  })
}

// Creations wait for each other on this lock (a constant no other lock uses), so each one reads the maximum the one
// before it committed. The doctor app may insert an explicit clinic_id at the same moment: that collides on the
// primary key, ON CONFLICT does nothing, and the next attempt in the same transaction sees the committed row.
const NEW_DOCTOR_ID_LOCK = 0x646f63
const NEW_ID_ATTEMPTS = 3

/**
 * Creates a doctor and returns its id. The clinic id is the row id, so a profile naming one in
 * `general_info.clinic_id` gets exactly that id (what `/api/doctors/clinic/{id}` looks up; 409 when another doctor
 * has it); without one, the id is max(id) + 1.
 */
export async function createDoctor (db: Database, profile: Profile, account: AccountPatch): Promise<number> {
  const c = withAccount(deriveColumns(profile), account)
  const requested = requestedClinicId(profile)
  return await db.transaction(async (tx) => {
    const values = tx`${tx.json(asJson(profile))}, ${c.name}, ${c.email}, ${c.phone}, ${c.image_url}, ${c.specialty},
      ${c.clinic_state}, ${c.status}, ${c.experience_years}, ${c.patients_count}, ${c.receiving_patients}`
    const columns = tx`profile, name, email, phone, image_url, specialty, clinic_state, status, experience_years, patients_count, receiving_patients`
    if (requested !== null) {
      const [row] = await tx`INSERT INTO clinics (id, ${columns}) VALUES (${requested}, ${values}) ON CONFLICT (id) DO NOTHING RETURNING id`
      if (row === undefined) throw doctorErrors.clinicIdTaken(requested)
      return requested
    }
    await tx`SELECT pg_advisory_xact_lock(${NEW_DOCTOR_ID_LOCK})`
    for (let attempt = 0; attempt < NEW_ID_ATTEMPTS; attempt++) {
      const [row] = await tx<Array<{ id: number }>>`
        INSERT INTO clinics (id, ${columns})
        SELECT coalesce(max(id), 0) + 1, ${values}
        FROM clinics HAVING coalesce(max(id), 0) < ${INT32_MAX}
        ON CONFLICT (id) DO NOTHING
        RETURNING id`
      if (row !== undefined) return row.id
      const [top] = await tx<Array<{ id: number }>>`SELECT max(id) AS id FROM clinics`
      if (top?.id === INT32_MAX) throw doctorErrors.idExhausted()
    }
    throw errors.databaseBusy()
  })
}

// The clinic id a new doctor's profile names, null when it names none (absent, null or ""); 400 when it names one
// that cannot be an id (a legacy lookup would never have found it either).
function requestedClinicId (profile: Profile): number | null {
  const info = profile['general_info']
  const sent = isRecord(info) ? info['clinic_id'] : undefined
  if (sent === undefined || sent === null || sent === '') return null
  const id = clinicIdOf(profile)
  if (id === null) throw doctorErrors.clinicIdInvalid()
  return id
}

/** Deletes a doctor; false when there was none. */
export async function deleteDoctor (db: Database, id: number): Promise<boolean> {
  return await db.transaction(async (tx) => {
    const [row] = await tx<Array<{ id: number }>>`DELETE FROM clinics WHERE id = ${id} RETURNING id`
    if (row === undefined) return false
    // Legacy's foreign key was ON DELETE SET NULL: the phone account stays, unlinked.
    await tx`UPDATE accounts SET doctor_id = NULL WHERE doctor_id = ${id}`
    // The doctor tokens issued for this clinic id end here, even if the id is used again later.
    await recordDeletion(tx, doctorKey(id))
    return true
  })
}
