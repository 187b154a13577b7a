import { z } from 'zod'
import type postgres from 'postgres'
import { ApiError, customError, detail, errors } from '../../src/errors.ts'
import type { Sql, TransactionSql } from '../../src/db/pool.ts'
import { normalizePhone, parseAccountId, parsePositiveInt } from '../../src/domain/identifiers.ts'
import {
  DEFAULT_PROFILE, INT32_MAX, clinicIdOf, deriveColumns, explicitStatus, hasUnstorableText, isRecord, mergeProfile,
  normalizeProfile, patchedColumns, profileForReading, specialtyView, withAccount, withAccountStatus,
  type AccountPatch, type DoctorColumns, type DoctorStatus, type Profile
} from '../../src/clinics/profile.ts'
import { json } from '../http.ts'
import type { Handler } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { defineRoute, field, validationError, type DocumentedRoute } from './define.ts'

// Doctors and clinics (legacy-api.md §2.7, the /doctor/profile rows of §2.1, the doctor half of §2.10). A clinic is
// a doctor: one `clinics` row whose id is the legacy clinic_id, the profile kept whole as jsonb, and the columns
// that lists and booking rules read derived from it (src/clinics/profile.ts).

interface ClinicRow extends DoctorColumns {
  id: number
  profile: Profile
  created_at: Date
}

const notFound = () => customError(404, 'not_found', 'Doctor not found')
const badRequest = (message: string) => customError(400, 'bad_request', message)
const unstorable = () => badRequest('text must not contain NUL characters or unpaired surrogates')

// The doctors router and the main.py extras answered bad input in their own {"error": {code, message}} shape: a
// body the handler could not use was a 400 `bad_request`; a query or path value of the wrong type stays a 422,
// the status FastAPI gave it.
function customShape (route: DocumentedRoute): DocumentedRoute {
  const inner: Handler = route.handler
  const handler: Handler = async (request) => {
    try {
      return await inner(request)
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'validation_error') throw error
      const issue = (error.body as { detail?: Array<{ loc?: unknown[] }> }).detail?.[0]
      const where = issue?.loc?.[0]
      const path = (issue?.loc ?? []).slice(1).join('.')
      const message = path === '' || error.message.includes(path) ? error.message : `${path}: ${error.message}`
      throw where === 'body' ? badRequest(message) : customError(422, 'validation_error', message)
    }
  }
  return { ...route, handler }
}

function pathId (params: readonly string[], index: number, name: string): number {
  const id = parsePositiveInt(params[index])
  if (id === null || id > INT32_MAX) {
    throw validationError([{ loc: ['path', name], msg: `${name} must be a positive integer`, type: 'int_parsing' }])
  }
  return id
}

function account (row: Pick<ClinicRow, 'email' | 'phone' | 'status'>): { email: string | null, phone: string | null, status: string } {
  return { email: row.email, phone: row.phone, status: row.status }
}

// Tells every worker (and whatever caches a clinic) that the row changed; only after the commit.
function publishClinicChange (ctx: WorkerContext, clinicId: number): void {
  ctx.publishChange({ topic: 'clinic', clinicId, version: Date.now() })
}

// A profile is parsed JSON: whatever JSON.parse produced is a JSON value, which is all postgres.js needs to know.
const asJson = (profile: Profile): postgres.JSONValue => profile as postgres.JSONValue

async function findClinic (sql: Sql, id: number): Promise<ClinicRow | null> {
  const [row] = await sql<ClinicRow[]>`
    SELECT id, profile, name, email, phone, image_url, specialty, clinic_state, status, experience_years,
           patients_count, receiving_patients, created_at
    FROM clinics WHERE id = ${id}`
  return row ?? null
}

const profileBody = z.record(z.string(), z.unknown(), { message: 'the body must be a JSON object' })
  .refine((body) => !hasUnstorableText(body), 'text must not contain NUL characters or unpaired surrogates')

// ---------------------------------------------------------------------------------------------------------------
// POST /doctor/profile: the doctor app's upsert

interface ProfilePost {
  profile: Profile
  phone: string | null // wrapped mode: the login phone, which becomes the phone column
  accountId: number | null // wrapped mode: the account to link to this doctor
}

// Wrapped mode ({json_profile, phone, user_server_id}) or raw mode (the body is the profile), as legacy told them apart.
async function readProfilePost (sql: TransactionSql, body: Profile): Promise<ProfilePost> {
  if (!('json_profile' in body || 'phone' in body || 'user_server_id' in body)) {
    return { profile: body, phone: null, accountId: null }
  }
  let profile: unknown = body['json_profile']
  if (typeof profile === 'string') {
    try {
      profile = JSON.parse(profile)
    } catch {
      profile = {}
    }
    if (hasUnstorableText(profile)) throw unstorable()
  }
  const accountId = parseAccountId(body['user_server_id'])
  const sentPhone = body['phone']
  let phone = typeof sentPhone === 'string' || typeof sentPhone === 'number' ? normalizePhone(String(sentPhone)) : null
  let linked: { id: number } | undefined
  // The account's own phone wins over the one sent, as in legacy: it is the number the doctor logged in with.
  if (accountId !== null && accountId <= INT32_MAX) {
    const [row] = await sql<Array<{ id: number, phone_number: string }>>`SELECT id, phone_number FROM accounts WHERE id = ${accountId}`
    if (row !== undefined) {
      linked = row
      phone = row.phone_number
    }
  }
  if (phone === null) throw badRequest('phone must be E.164 like +46765588441 or provide valid user_server_id')
  if (linked === undefined) {
    ;[linked] = await sql<Array<{ id: number }>>`SELECT id FROM accounts WHERE phone_number = ${phone}`
  }
  return { profile: isRecord(profile) ? profile : {}, phone, accountId: linked?.id ?? null }
}

async function upsertProfile (tx: TransactionSql, post: ProfilePost): Promise<number> {
  const clinicId = clinicIdOf(post.profile)
  if (clinicId === null) throw badRequest('clinic_id is required in general_info')
  const columns = deriveColumns(post.profile)
  const phone = post.phone ?? columns.phone
  // Legacy let every re-post reset the status from the profile, whose default is active, so a doctor an admin had
  // deactivated came back by saving the profile. The stored status now holds unless the profile states one.
  const statesStatus = explicitStatus(post.profile) !== null
  const stored = tx.json(asJson(normalizeProfile(post.profile)))
  await tx`
      INSERT INTO clinics (id, profile, name, email, phone, image_url, specialty, clinic_state, status,
                           experience_years, patients_count, receiving_patients)
      VALUES (${clinicId}, ${stored}, ${columns.name}, ${columns.email}, ${phone}, ${columns.image_url},
              ${columns.specialty}, ${columns.clinic_state}, ${columns.status}, ${columns.experience_years},
              ${columns.patients_count}, ${columns.receiving_patients})
      ON CONFLICT (id) DO UPDATE SET
        profile = EXCLUDED.profile, name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone,
        image_url = EXCLUDED.image_url, specialty = EXCLUDED.specialty, clinic_state = EXCLUDED.clinic_state,
        status = ${statesStatus ? tx`EXCLUDED.status` : tx`clinics.status`},
        experience_years = EXCLUDED.experience_years, patients_count = EXCLUDED.patients_count,
        receiving_patients = EXCLUDED.receiving_patients, updated_at = now()`
  if (post.accountId !== null) {
    await tx`UPDATE accounts SET doctor_id = ${clinicId} WHERE id = ${post.accountId} AND doctor_id IS NULL`
  }
  return clinicId
}

// ---------------------------------------------------------------------------------------------------------------
// GET /api/doctors

const SORT_COLUMNS = { name: 'name', experience: 'experience_years', patients: 'patients_count', status: 'status' } as const

function sortOf (sort: string | undefined): { column: string, descending: boolean } {
  const descending = sort?.startsWith('-') ?? false
  const key = descending ? sort?.slice(1) : sort
  // An unknown sort key falls back to the name, as legacy did, rather than failing the dashboard's list.
  const column = key !== undefined && key in SORT_COLUMNS ? SORT_COLUMNS[key as keyof typeof SORT_COLUMNS] : 'name'
  return { column, descending }
}

const filterText = z.string().max(200)
  .refine((s) => !hasUnstorableText(s), 'must not contain NUL characters or unpaired surrogates').optional()

const listQuery = z.object({
  q: filterText,
  specialty: filterText,
  status: filterText,
  expMin: field.count('expMin').optional(),
  expMax: field.count('expMax').optional(),
  page: field.id('page').default(1),
  pageSize: field.id('pageSize').refine((n) => n <= 500, 'pageSize must be between 1 and 500').default(100),
  sort: z.string().max(50).optional()
})
type ListQuery = z.infer<typeof listQuery>

function likePattern (q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

// Built per query: a fragment belongs to the statement it is written into.
function listFilters (tx: TransactionSql, query: ListQuery) {
  const like = query.q ? likePattern(query.q) : null
  return tx`WHERE true
    ${like === null ? tx`` : tx`AND (lower(name) LIKE ${like} OR lower(email) LIKE ${like} OR lower(phone) LIKE ${like})`}
    ${query.specialty ? tx`AND specialty = ${query.specialty}` : tx``}
    ${query.status ? tx`AND status = ${query.status}` : tx``}
    ${query.expMin === undefined ? tx`` : tx`AND experience_years >= ${query.expMin}`}
    ${query.expMax === undefined ? tx`` : tx`AND experience_years <= ${query.expMax}`}`
}

interface ListRow {
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

async function listDoctors (ctx: WorkerContext, query: ListQuery): Promise<Record<string, unknown>> {
  const { column, descending } = sortOf(query.sort)
  const offset = (query.page - 1) * query.pageSize
  // One snapshot, so `total` counts exactly the list the page was cut from.
  const { total, rows } = await ctx.db.run((sql) => sql.begin('isolation level repeatable read read only', async (tx) => {
    const [count] = await tx<Array<{ total: number }>>`SELECT count(*)::int AS total FROM clinics ${listFilters(tx, query)}`
    const rows = await tx<ListRow[]>`
      SELECT id, name, image_url, specialty, status, patients_count, experience_years, email, phone,
             profile->'specializations' AS specializations, profile->'dents_addition' AS dents_addition,
             profile->'plastic_addition' AS plastic_addition
      FROM clinics ${listFilters(tx, query)}
      ORDER BY ${tx(column)} ${descending ? tx`DESC` : tx`ASC`}, id
      LIMIT ${query.pageSize} OFFSET ${offset}`
    return { total: count?.total ?? 0, rows }
  }))
  // An empty directory stays empty: legacy inserted a placeholder "Doctor" row here, which then showed in the
  // patient app as a bookable clinic.
  const items = rows.map((row) => ({
    id: row.id,
    name: row.name,
    image: row.image_url,
    specialty: row.specialty,
    status: row.status,
    patients: row.patients_count,
    experience: row.experience_years,
    email: row.email,
    phone: row.phone,
    ...specialtyView({ specializations: row.specializations, dents_addition: row.dents_addition, plastic_addition: row.plastic_addition })
  }))
  return { items, total, page: query.page, pageSize: query.pageSize }
}

// ---------------------------------------------------------------------------------------------------------------
// Writes from the dashboard

const accountStatus = z.preprocess(
  (v) => typeof v === 'string' ? (v.trim() === '' ? null : v.trim().toLowerCase()) : v,
  z.enum(['active', 'inactive'], { message: 'account.status must be active or inactive' }).nullable()
)

const patchBody = z.object({
  account: z.object({
    email: z.string({ message: 'account.email must be a string' }).max(320).nullable().optional(),
    phone: z.string({ message: 'account.phone must be a string' }).max(64).nullable().optional(),
    status: accountStatus.optional()
  }, { message: 'account must be an object' }).optional()
}).catchall(z.unknown()).refine((body) => !hasUnstorableText(body), 'text must not contain NUL characters or unpaired surrogates')

async function patchDoctor (ctx: WorkerContext, id: number, patch: Profile, account: AccountPatch): Promise<void> {
  // The row id is the clinic id every booking refers to; a profile naming another clinic would split the two.
  const info = patch['general_info']
  if (isRecord(info) && 'clinic_id' in info && clinicIdOf(patch) !== id) {
    throw badRequest(`general_info.clinic_id must stay ${id}: it is this doctor's id`)
  }
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx<ClinicRow[]>`
      SELECT id, profile, name, email, phone, image_url, specialty, clinic_state, status, experience_years,
             patients_count, receiving_patients, created_at
      FROM clinics WHERE id = ${id} FOR UPDATE`
    if (row === undefined) throw notFound()
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

// The column is the status every rule reads; the profile copy is what the doctor app shows and may post back.
async function setStatus (ctx: WorkerContext, id: number, status: DoctorStatus): Promise<Pick<ClinicRow, 'id' | 'name' | 'status'> | null> {
  return await ctx.db.transaction(async (tx) => {
    const [row] = await tx<Array<Pick<ClinicRow, 'profile'>>>`SELECT profile FROM clinics WHERE id = ${id} FOR UPDATE`
    if (row === undefined) return null
    const [updated] = await tx<Array<Pick<ClinicRow, 'id' | 'name' | 'status'>>>`
      UPDATE clinics SET status = ${status}, profile = ${tx.json(asJson(withAccountStatus(row.profile, status)))},
        updated_at = now()
      WHERE id = ${id} RETURNING id, name, status`
    return updated ?? null
  })
}

const NEW_ID_ATTEMPTS = 5

// max(id) + 1 in the INSERT itself: two creations that read the same maximum collide on the primary key, the
// loser's ON CONFLICT does nothing, and it tries again with the new maximum. A profile posted with an explicit
// clinic_id at the same moment is handled the same way.
async function createDoctor (ctx: WorkerContext, profile: Profile, account: AccountPatch): Promise<number> {
  const columns = withAccount(deriveColumns(profile), account)
  for (let attempt = 0; attempt < NEW_ID_ATTEMPTS; attempt++) {
    const [row] = await ctx.db.run((sql) => sql<Array<{ id: number }>>`
      INSERT INTO clinics (id, profile, name, email, phone, image_url, specialty, clinic_state, status,
                           experience_years, patients_count, receiving_patients)
      SELECT coalesce(max(id), 0) + 1, ${sql.json(asJson(profile))}, ${columns.name}, ${columns.email}, ${columns.phone},
             ${columns.image_url}, ${columns.specialty}, ${columns.clinic_state}, ${columns.status},
             ${columns.experience_years}, ${columns.patients_count}, ${columns.receiving_patients}
      FROM clinics HAVING coalesce(max(id), 0) < ${INT32_MAX}
      ON CONFLICT (id) DO NOTHING
      RETURNING id`)
    if (row !== undefined) return row.id
  }
  throw errors.databaseBusy()
}

// ---------------------------------------------------------------------------------------------------------------

export function doctorRoutes (ctx: WorkerContext): RouteDef[] {
  const readProfile = async (id: number, normalized: boolean) => {
    const row = await ctx.db.run((sql) => findClinic(sql, id))
    if (row === null) throw notFound()
    return json(200, { id: row.id, profile: profileForReading(row.profile, account(row), normalized) })
  }

  const profileRoutes = ['/doctor/profile', '/doctor/profile.json'].flatMap((base) => [
    // The legacy singleton check: the row it validated was a constant sample, so the answer is a constant.
    defineRoute(ctx, {
      method: 'get',
      pattern: base,
      summary: 'Legacy doctor-profile check',
      auth: 'none',
      handler: () => json(200, { status: 'success', message: 'Profile exists and valid' })
    }),
    customShape(defineRoute(ctx, {
      method: 'post',
      pattern: base,
      summary: 'Doctor profile upsert (doctor app), wrapped or raw',
      auth: 'secret', // guard: admin token to be added with the security issue
      body: profileBody,
      handler: async ({ body }) => {
        const clinicId = await ctx.db.transaction(async (tx) => await upsertProfile(tx, await readProfilePost(tx, body)))
        publishClinicChange(ctx, clinicId)
        return json(200, { message: 'success' })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: `${base}/:doctor_id`,
      summary: 'A doctor profile as stored, with its account block',
      auth: 'none',
      handler: async ({ params }) => {
        const row = await ctx.db.run((sql) => findClinic(sql, pathId(params, 0, 'doctor_id')))
        if (row === null) throw notFound()
        return json(200, profileForReading(row.profile, account(row), false))
      }
    }))
  ])

  const routes: DocumentedRoute[] = [
    ...profileRoutes,
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: '/doctor/profile/by-user/:user_server_id',
      summary: 'The doctor linked to a phone account',
      auth: 'none',
      handler: async ({ params }) => {
        const accountId = parseAccountId(params[0])
        if (accountId === null || accountId > INT32_MAX) {
          throw validationError([{ loc: ['path', 'user_server_id'], msg: 'user_server_id must be a positive integer', type: 'int_parsing' }])
        }
        const row = await ctx.db.run(async (sql) => {
          const [linked] = await sql<Array<{ doctor_id: number | null }>>`SELECT doctor_id FROM accounts WHERE id = ${accountId}`
          if (linked?.doctor_id === null || linked?.doctor_id === undefined) {
            throw customError(404, 'not_found', 'No doctor mapped to this user')
          }
          return await findClinic(sql, linked.doctor_id)
        })
        if (row === null) throw notFound()
        return json(200, { id: row.id, name: row.name, email: row.email, phone: row.phone, specialty: row.specialty, status: row.status })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctors',
      summary: 'Doctors directory: filters, pages, sort, main specialty',
      auth: 'none',
      mirror: true,
      query: listQuery,
      handler: async ({ query }) => json(200, await listDoctors(ctx, query))
    })),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctors/stats/count',
      summary: 'Doctor counts and lists by status',
      auth: 'secret',
      mirror: true,
      handler: async () => {
        const rows = await ctx.db.run((sql) => sql<Array<{ id: number, name: string, email: string | null, phone: string | null, status: string, created_at: Date }>>`
          SELECT id, name, email, phone, status, created_at FROM clinics ORDER BY id`)
        const brief = (row: (typeof rows)[number]) => ({ id: row.id, name: row.name, email: row.email, phone: row.phone, created_at: row.created_at.toISOString() })
        const active = rows.filter((row) => row.status === 'active').map(brief)
        const inactive = rows.filter((row) => row.status !== 'active').map(brief)
        return json(200, { total: rows.length, active: active.length, inactive: inactive.length, active_list: active, inactive_list: inactive })
      }
    }),
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctors/:id',
      summary: 'A doctor with its profile, specializations as [{id, name}]',
      auth: 'secret',
      mirror: true,
      handler: async ({ params }) => await readProfile(pathId(params, 0, 'doctor_id'), true)
    })),
    ...['/api/doctors/clinic/:clinic_id', '/api/doctors/by-clinic-id/:clinic_id'].map((pattern) => customShape(defineRoute(ctx, {
      method: 'get',
      pattern,
      summary: 'A doctor by clinic id',
      auth: 'secret',
      mirror: true,
      // The clinic id is the row id (legacy scanned every profile for general_info.clinic_id to find it).
      handler: async ({ params }) => {
        const row = await ctx.db.run((sql) => findClinic(sql, pathId(params, 0, 'clinic_id')))
        if (row === null) throw customError(404, 'clinic_id_not_found', 'clinic_id not found. Please verify the value.')
        return json(200, { id: row.id, profile: profileForReading(row.profile, account(row), false) })
      }
    }))),
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctor_profile',
      summary: 'A doctor with its profile, by ?doctor_id=',
      auth: 'secret',
      mirror: true,
      query: z.object({ doctor_id: field.id('doctor_id') }),
      handler: async ({ query }) => await readProfile(query.doctor_id, false)
    })),
    customShape(defineRoute(ctx, {
      method: 'patch',
      pattern: '/api/doctors/:id',
      summary: 'Merge into a doctor profile; account updates the columns',
      auth: 'secret', // guard: admin token to be added with the security issue
      mirror: true,
      body: patchBody,
      handler: async ({ body, params }) => {
        const id = pathId(params, 0, 'doctor_id')
        const { account: sent, ...patch } = body
        await patchDoctor(ctx, id, patch, sent ?? {})
        publishClinicChange(ctx, id)
        return json(200, { ok: true, id })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'patch',
      pattern: '/api/doctors/:id/status',
      summary: 'Activate or deactivate a doctor',
      auth: 'secret', // guard: admin token to be added with the security issue
      mirror: true,
      body: z.object({ active: z.boolean({ message: 'active must be boolean' }) }, { message: 'the body must be a JSON object' }),
      handler: async ({ body, params }) => {
        const id = pathId(params, 0, 'doctor_id')
        const row = await setStatus(ctx, id, body.active ? 'active' : 'inactive')
        if (row === null) throw notFound()
        publishClinicChange(ctx, id)
        return json(200, { id, status: row.status === 'active' ? 'Active' : 'Inactive' })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'del',
      pattern: '/api/doctors/:id',
      summary: 'Delete a doctor',
      auth: 'secret', // guard: admin token to be added with the security issue
      mirror: true,
      handler: async ({ params }) => {
        const id = pathId(params, 0, 'doctor_id')
        const deleted = await ctx.db.transaction(async (tx) => {
          const [row] = await tx<Array<{ id: number }>>`DELETE FROM clinics WHERE id = ${id} RETURNING id`
          // Legacy's foreign key did ON DELETE SET NULL: the phone account stays, unlinked.
          if (row !== undefined) await tx`UPDATE accounts SET doctor_id = NULL WHERE doctor_id = ${id}`
          return row !== undefined
        })
        if (!deleted) throw notFound()
        publishClinicChange(ctx, id)
        return json(200, { message: 'deleted', id })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'post',
      pattern: '/api/doctors',
      summary: 'Create a doctor with the next free id',
      auth: 'secret', // guard: admin token to be added with the security issue
      mirror: true,
      body: patchBody,
      handler: async ({ body }) => {
        const { account: sent, ...rest } = body
        const given = isRecord(rest['profile'])
          ? rest['profile']
          : Object.fromEntries(Object.entries(rest).filter(([key]) => ['general_info', 'clinic_location', 'clinic_phone_number', 'specializations'].includes(key)))
        const profile = Object.keys(given).length === 0 ? DEFAULT_PROFILE : given
        const id = await createDoctor(ctx, profile, sent ?? {})
        publishClinicChange(ctx, id)
        return json(200, { id })
      }
    })),
    ...([['/api/lookups/specialties', 'specialty'], ['/api/lookups/clinic-states', 'clinic_state']] as const).map(([pattern, column]) => defineRoute(ctx, {
      method: 'get',
      pattern,
      summary: `Distinct ${column} values, sorted`,
      auth: 'none',
      mirror: true,
      handler: async () => {
        const rows = await ctx.db.run((sql) => sql<Array<{ value: string }>>`
          SELECT DISTINCT ${sql(column)} AS value FROM clinics WHERE ${sql(column)} IS NOT NULL AND ${sql(column)} <> '' ORDER BY 1`)
        return json(200, { items: rows.map((row) => row.value) })
      }
    })),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/clinics',
      summary: 'Every clinic, main specialty only',
      auth: 'secret',
      mirror: true,
      handler: async () => {
        const rows = await ctx.db.run((sql) => sql<Array<Pick<ClinicRow, 'id' | 'profile' | 'name' | 'image_url' | 'clinic_state' | 'status'>>>`
          SELECT id, profile, name, image_url, clinic_state, status FROM clinics
          WHERE profile->'general_info' ? 'clinic_id' ORDER BY id`)
        return json(200, rows.map((row) => {
          const info = isRecord(row.profile['general_info']) ? row.profile['general_info'] : {}
          const doctorName = typeof info['doctor_name'] === 'string' && info['doctor_name'] !== '' ? info['doctor_name'] : row.name
          return {
            clinic_id: row.id,
            doctor_name: doctorName,
            status: row.status,
            ...(row.image_url === null ? {} : { profile_image_URL: row.image_url }),
            ...(row.clinic_state === null ? {} : { state: row.clinic_state }),
            specializations: specialtyView(row.profile).specializations
          }
        }))
      }
    }),
    // account_status (§2.10): not mirrored under /backend, FastAPI-style errors.
    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/doctor/status',
      summary: 'Activate or deactivate a doctor (admin dashboard)',
      auth: 'secret',
      body: z.object({ doctor_id: field.id('doctor_id'), is_active: field.bool() }),
      handler: async ({ body }) => {
        const row = await setStatus(ctx, body.doctor_id, body.is_active ? 'active' : 'inactive')
        if (row === null) throw detail(404, 'not_found', 'doctor not found')
        publishClinicChange(ctx, row.id)
        const message = body.is_active ? 'تم تفعيل الدكتور بنجاح' : 'تم إيقاف الدكتور بنجاح'
        return json(200, { id: row.id, name: row.name, status: row.status, message })
      }
    }),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctor/:doctor_id/status',
      summary: 'A doctor’s status',
      auth: 'secret',
      handler: async ({ params }) => {
        const row = await ctx.db.run((sql) => findClinic(sql, pathId(params, 0, 'doctor_id')))
        if (row === null) throw detail(404, 'not_found', 'doctor not found')
        return json(200, { doctor_id: row.id, name: row.name, status: row.status, is_active: row.status === 'active' })
      }
    })
  ]
  return routes
}
