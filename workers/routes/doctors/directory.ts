import { z } from 'zod'
import { doctorErrors } from '../../../src/errors.ts'
import { specialtyView } from '../../../src/clinics/profile.ts'
import { findClinic } from '../../../src/clinics/store.ts'
import { directoryPage, doctorSummaries, type DoctorSummary } from '../../../src/clinics/directory.ts'
import { json, type Reply, type Request } from '../../http.ts'
import { cachedJson, replyFrom } from '../../cache.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, field, type DocumentedRoute } from '../define.ts'
import { customShape, pathId, readClinic, storable, unstorableMessage, withAccountBlock } from './wire.ts'
import { directoryReply, doctorCountsReply, doctorWithProfile as doctorReply } from './replies.ts'

// Reading doctors (legacy-api.md §2.7, mirrored under /backend): the dashboard's directory, its counts, and one
// doctor by id or by clinic id.

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

export function doctorReadRoutes (ctx: WorkerContext): DocumentedRoute[] {
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
      const row = await readClinic(ctx, id)
      return await cachedJson({ id: row.id, profile: withAccountBlock(row, normalized) }, version, `"c${id}-${version}"`)
    })
    if (entry === null) throw doctorErrors.notFound()
    return replyFrom(entry, request)
  }

  return [
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctors',
      summary: 'Doctors directory: filters, pages, sort, main specialty with its additions',
      // Legacy: open to anyone, each doctor's e-mail and phone included. The apps send the secret, the dashboard its token.
      auth: 'secret-or-admin',
      mirror: true,
      query: directoryQuery,
      responses: { 200: directoryReply, 304: null },
      errors: [doctorErrors.directoryUnavailable],
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
      responses: { 200: doctorCountsReply },
      errors: [],
      handler: async () => {
        const rows = await ctx.db.run(doctorSummaries)
        const brief = (row: DoctorSummary) => ({ id: row.id, name: row.name, email: row.email, phone: row.phone, created_at: row.created_at.toISOString() })
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
      responses: { 200: doctorReply, 304: null },
      errors: [doctorErrors.notFound],
      handler: async ({ params, request }) => await doctorWithProfile(pathId(params[0], 'doctor_id'), true, request)
    })),
    // The clinic id is the row id: legacy scanned every profile for general_info.clinic_id instead.
    ...['/api/doctors/clinic/:clinic_id', '/api/doctors/by-clinic-id/:clinic_id'].map((pattern) => customShape(defineRoute(ctx, {
      method: 'get',
      pattern,
      summary: 'A doctor by clinic id',
      auth: 'secret',
      mirror: true,
      responses: { 200: doctorReply },
      errors: [doctorErrors.clinicNotFound],
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
      responses: { 200: doctorReply, 304: null },
      errors: [doctorErrors.notFound],
      handler: async ({ query, request }) => await doctorWithProfile(query.doctor_id, false, request)
    }))
  ]
}
