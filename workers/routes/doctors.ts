import { z } from 'zod'
import { ApiError, doctorErrors, errors } from '../../src/errors.ts'
import { INT32_MAX, parseAccountId, parsePositiveInt } from '../../src/domain/identifiers.ts'
import { isRecord } from '../../src/domain/json.ts'
import { DEFAULT_PROFILE, hasUnstorableText, profileForReading, specialtyView, type Profile } from '../../src/clinics/profile.ts'
import {
  createDoctor, deleteDoctor, directoryPage, findClinic, patchDoctor, saveDoctorProfile, setDoctorStatus,
  type ClinicRow
} from '../../src/clinics/store.ts'
import { json, type Handler, type Reply, type Request } from '../http.ts'
import { cachedJson, replyFrom } from '../cache.ts'
import { SECRETARIES } from '../../src/auth/actors.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { defineRoute, field, parseJsonBody, type DocumentedRoute } from './define.ts'

// Doctors and clinics: legacy-api.md §2.7 (mirrored under /backend), the /doctor/profile rows of §2.1 and the doctor
// half of account_status §2.10 (neither mirrored). Rules live in src/clinics/profile.ts, SQL in src/clinics/store.ts;
// this module is the wire: paths, guards, schemas and the legacy response shapes.

// The doctors router and the main.py extras answered bad input in their own {"error": {code, message}} shape: a
// body the handler could not use was a 400 `bad_request`; a query or path value of the wrong type keeps the 422
// FastAPI gave it.
function customShape (route: DocumentedRoute): DocumentedRoute {
  const inner: Handler = route.handler
  const handler: Handler = async (request) => {
    try {
      return await inner(request)
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== errors.validation.code) throw error
      const issue = (error.body as { detail?: Array<{ loc?: unknown[] }> }).detail?.[0]
      const path = (issue?.loc ?? []).slice(1).join('.')
      const message = path === '' || error.message.includes(path) ? error.message : `${path}: ${error.message}`
      throw issue?.loc?.[0] === 'body' ? doctorErrors.bodyInvalid(message) : doctorErrors.paramInvalid(message)
    }
  }
  return { ...route, handler }
}

// defineRoute reads an empty or `null` body as {}; the dashboard's writes refused both ("Invalid JSON body"), and a
// doctor must not be created from nothing by accident.
function requireObjectBody (request: Request): void {
  if (!isRecord(parseJsonBody(request.body))) throw doctorErrors.bodyNotObject()
}

function pathId (value: string | undefined, name: string, parse: (v: unknown) => number | null = parsePositiveInt): number {
  const id = parse(value)
  if (id === null || id > INT32_MAX) {
    throw errors.validation([{ loc: ['path', name], msg: `${name} must be a positive integer`, type: 'int_parsing' }])
  }
  return id
}

function withAccountBlock (row: ClinicRow, normalized: boolean): Profile {
  return profileForReading(row.profile, { email: row.email, phone: row.phone, status: row.status }, normalized)
}

// Every committed change to a clinic row is announced after the commit, and the answer waits for it: once it
// resolves, no cached copy of the old row is served anywhere.
async function announce (ctx: WorkerContext, clinicId: number): Promise<void> {
  await ctx.publishChange({ topic: 'clinic', clinicId, version: Date.now() })
}

const unstorableMessage = doctorErrors.unstorableText.text()
const storable = (value: unknown): boolean => !hasUnstorableText(value)

const profileBody = z.record(z.string(), z.unknown(), { message: 'the body must be a JSON object' }).refine(storable, unstorableMessage)

const filterText = z.string().max(200).refine(storable, unstorableMessage).optional()

const directoryQuery = z.object({
  q: filterText,
  specialty: filterText,
  status: filterText,
  expMin: field.count('expMin').optional(),
  expMax: field.count('expMax').optional(),
  page: field.id('page').default(1),
  pageSize: field.id('pageSize').refine((n) => n <= 500, 'pageSize must be between 1 and 500').default(100),
  sort: z.string().max(50).optional()
})

const accountStatus = z.preprocess(
  (v) => typeof v === 'string' ? (v.trim() === '' ? null : v.trim().toLowerCase()) : v,
  z.enum(['active', 'inactive'], { message: 'account.status must be active or inactive' }).nullable()
)

// PATCH and POST /api/doctors: any profile keys, plus `account`, which goes to the columns.
const dashboardBody = z.object({
  account: z.object({
    email: z.string({ message: 'account.email must be a string' }).max(320).nullable().optional(),
    phone: z.string({ message: 'account.phone must be a string' }).max(64).nullable().optional(),
    status: accountStatus.optional()
  }, { message: 'account must be an object' }).optional()
}).catchall(z.unknown()).refine(storable, unstorableMessage)

// POST /api/doctors takes {profile} or these keys at the top level (legacy's create_doctor).
const CREATE_KEYS = new Set(['general_info', 'clinic_location', 'clinic_phone_number', 'specializations'])

export function doctorRoutes (ctx: WorkerContext): RouteDef[] {
  const readClinic = async (id: number): Promise<ClinicRow> => {
    const row = await ctx.db.run((sql) => findClinic(sql, id))
    if (row === null) throw doctorErrors.notFound()
    return row
  }
  // An empty directory stays empty: legacy inserted a placeholder "Doctor" row here, which the patient app then
  // listed as a clinic.
  const directory = async (query: z.infer<typeof directoryQuery>): Promise<Record<string, unknown>> => {
    const { total, rows } = await directoryPage(ctx.db, query)
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

  // Profiles and the directory come from the shared cache (architecture.md §4). Their version is the clock at the
  // start of the load; a clinic change publishes the clock after its commit, so a load that began before the
  // commit can never fill the cache with the old profile.
  const doctorWithProfile = async (id: number, normalized: boolean, request: Request): Promise<Reply> => {
    const entry = await ctx.cache.read(`clinic:${id}:profile:${normalized ? 'n' : 'r'}`, `clinic:${id}`, async () => {
      const version = Date.now()
      const row = await readClinic(id)
      return await cachedJson({ id: row.id, profile: withAccountBlock(row, normalized) }, version, `"c${id}-${version}"`)
    })
    if (entry === null) throw doctorErrors.notFound()
    return replyFrom(entry, request)
  }

  const doctorProfileRoutes = ['/doctor/profile', '/doctor/profile.json'].flatMap((base) => [
    // The legacy singleton check validated a constant sample profile, so its answer is a constant.
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
      summary: 'Doctor profile upsert from the doctor app, wrapped ({json_profile, phone, user_server_id}) or raw',
      auth: 'secret-or-admin', // contract §2.12: the doctor app sends the secret, the dashboard its token
      body: profileBody,
      handler: async ({ body }) => {
        const clinicId = await saveDoctorProfile(ctx.db, body)
        await announce(ctx, clinicId)
        return json(200, { message: 'success' })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: `${base}/:doctor_id`,
      summary: 'A doctor profile as stored, with its account block',
      auth: 'none',
      handler: async ({ params }) => json(200, withAccountBlock(await readClinic(pathId(params[0], 'doctor_id')), false))
    }))
  ])

  const routes: DocumentedRoute[] = [
    ...doctorProfileRoutes,
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: '/doctor/profile/by-user/:user_server_id',
      summary: 'The doctor linked to a phone account',
      auth: 'none',
      handler: async ({ params }) => {
        const accountId = pathId(params[0], 'user_server_id', parseAccountId)
        const [linked] = await ctx.db.run((sql) => sql<Array<{ doctor_id: number | null }>>`
          SELECT doctor_id FROM accounts WHERE id = ${accountId}`)
        if (linked?.doctor_id === null || linked?.doctor_id === undefined) throw doctorErrors.notLinked()
        const row = await readClinic(linked.doctor_id)
        return json(200, { id: row.id, name: row.name, email: row.email, phone: row.phone, specialty: row.specialty, status: row.status })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctors',
      summary: 'Doctors directory: filters, pages, sort, main specialty with its additions',
      auth: 'none',
      mirror: true,
      query: directoryQuery,
      handler: async ({ query, request }) => {
        const entry = await ctx.cache.read(`clinics:list:${JSON.stringify(query)}`, 'clinics', async () => {
          const version = Date.now()
          return await cachedJson(await directory(query), version, `"d-${version}"`)
        })
        if (entry === null) throw doctorErrors.directoryUnavailable()
        return replyFrom(entry, request)
      }
    })),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctors/stats/count',
      summary: 'Doctor counts and lists by status',
      auth: 'secret',
      mirror: true,
      handler: async () => {
        const rows = await ctx.db.run((sql) => sql<Array<{ id: number, name: string, email: string | null, phone: string | null, status: string, created_at: Date }>>`
          SELECT id, name, email, phone, status, created_at FROM clinics WHERE profile <> '{}'::jsonb ORDER BY id`)
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
      handler: async ({ params, request }) => await doctorWithProfile(pathId(params[0], 'doctor_id'), true, request)
    })),
    // The clinic id is the row id: legacy scanned every profile for general_info.clinic_id instead.
    ...['/api/doctors/clinic/:clinic_id', '/api/doctors/by-clinic-id/:clinic_id'].map((pattern) => customShape(defineRoute(ctx, {
      method: 'get',
      pattern,
      summary: 'A doctor by clinic id',
      auth: 'secret',
      mirror: true,
      handler: async ({ params }) => {
        const row = await ctx.db.run((sql) => findClinic(sql, pathId(params[0], 'clinic_id')))
        if (row === null) throw doctorErrors.clinicNotFound()
        return json(200, { id: row.id, profile: withAccountBlock(row, false) })
      }
    }))),
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctor_profile',
      summary: 'A doctor with its profile, by ?doctor_id=',
      auth: 'secret',
      mirror: true,
      query: z.object({ doctor_id: field.id('doctor_id') }),
      handler: async ({ query, request }) => await doctorWithProfile(query.doctor_id, false, request)
    })),
    customShape(defineRoute(ctx, {
      method: 'patch',
      pattern: '/api/doctors/:id',
      summary: 'Merge into a doctor profile; account updates email, phone and status',
      auth: 'admin', // contract §2.12: legacy left this open to anyone
      mirror: true,
      body: dashboardBody,
      handler: async ({ body, params, request }) => {
        requireObjectBody(request)
        const id = pathId(params[0], 'doctor_id')
        const { account, ...patch } = body
        await patchDoctor(ctx.db, id, patch, account ?? {})
        await announce(ctx, id)
        return json(200, { ok: true, id })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'patch',
      pattern: '/api/doctors/:id/status',
      summary: 'Activate or deactivate a doctor',
      auth: 'admin', // contract §2.12: legacy left this open to anyone
      mirror: true,
      body: z.object({ active: z.boolean({ message: 'active must be boolean' }) }, { message: 'the body must be a JSON object' }),
      handler: async ({ body, params }) => {
        const id = pathId(params[0], 'doctor_id')
        const row = await setDoctorStatus(ctx.db, id, body.active ? 'active' : 'inactive')
        if (row === null) throw doctorErrors.notFound()
        await announce(ctx, id)
        return json(200, { id, status: row.status === 'active' ? 'Active' : 'Inactive' })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'del',
      pattern: '/api/doctors/:id',
      summary: 'Delete a doctor',
      auth: 'admin', // contract §2.12: legacy left this open to anyone
      mirror: true,
      handler: async ({ params }) => {
        const id = pathId(params[0], 'doctor_id')
        if (!await deleteDoctor(ctx.db, id)) throw doctorErrors.notFound()
        await announce(ctx, id)
        return json(200, { message: 'deleted', id })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'post',
      pattern: '/api/doctors',
      summary: 'Create a doctor with the next free id',
      auth: 'admin', // contract §2.12: legacy left this open to anyone
      mirror: true,
      body: dashboardBody,
      handler: async ({ body, request }) => {
        requireObjectBody(request)
        const { account, ...rest } = body
        const given = isRecord(rest['profile'])
          ? rest['profile']
          : Object.fromEntries(Object.entries(rest).filter(([key]) => CREATE_KEYS.has(key)))
        const id = await createDoctor(ctx.db, Object.keys(given).length === 0 ? DEFAULT_PROFILE : given, account ?? {})
        await announce(ctx, id)
        return json(200, { id })
      }
    })),
    ...([['/api/lookups/specialties', 'specialty'], ['/api/lookups/clinic-states', 'clinic_state']] as const).map(([pattern, column]) => defineRoute(ctx, {
      method: 'get',
      pattern,
      summary: `Every ${column} in use, once, sorted`,
      auth: 'none',
      mirror: true,
      handler: async () => {
        const rows = await ctx.db.run((sql) => sql<Array<{ value: string }>>`
          SELECT DISTINCT ${sql(column)} AS value FROM clinics WHERE ${sql(column)} <> '' ORDER BY 1`)
        return json(200, { items: rows.map((row) => row.value) })
      }
    })),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/clinics',
      summary: 'Every clinic with its main specialty only',
      auth: 'secret',
      mirror: true,
      handler: async () => {
        const rows = await ctx.db.run((sql) => sql<Array<Pick<ClinicRow, 'id' | 'profile' | 'name' | 'image_url' | 'clinic_state' | 'status'>>>`
          SELECT id, profile, name, image_url, clinic_state, status FROM clinics
          WHERE profile -> 'general_info' ? 'clinic_id' ORDER BY id`)
        return json(200, rows.map((row) => {
          const info = isRecord(row.profile['general_info']) ? row.profile['general_info'] : {}
          const doctorName = info['doctor_name']
          return {
            clinic_id: row.id,
            doctor_name: typeof doctorName === 'string' && doctorName !== '' ? doctorName : row.name,
            status: row.status,
            ...(row.image_url === null ? {} : { profile_image_URL: row.image_url }),
            ...(row.clinic_state === null ? {} : { state: row.clinic_state }),
            // The additions are left out of this list: the patient app shows the main specialty only.
            specializations: specialtyView(row.profile).specializations
          }
        }))
      }
    }),
    // account_status (§2.10): FastAPI-style errors, not mirrored.
    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/doctor/status',
      summary: 'Activate or deactivate a doctor (dashboard)',
      auth: 'secret',
      // Strict mode: the clinic's own secretary (or an admin) only; a patient must not switch a doctor off.
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.doctor_id },
      body: z.object({ doctor_id: field.id('doctor_id'), is_active: field.bool() }),
      handler: async ({ body }) => {
        const row = await setDoctorStatus(ctx.db, body.doctor_id, body.is_active ? 'active' : 'inactive')
        if (row === null) throw doctorErrors.statusNotFound()
        await announce(ctx, row.id)
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
        const row = await ctx.db.run((sql) => findClinic(sql, pathId(params[0], 'doctor_id')))
        if (row === null) throw doctorErrors.statusNotFound()
        return json(200, { doctor_id: row.id, name: row.name, status: row.status, is_active: row.status === 'active' })
      }
    })
  ]
  return routes
}
