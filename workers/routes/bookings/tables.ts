import { z } from 'zod'
import { closeDay, listArchives, saveDay } from '../../../src/booking/archive.ts'
import { text } from '../../../src/booking/messages.ts'
import { addDay, createTable, reopenDay, type PostedDay } from '../../../src/booking/tables.ts'
import { bookingErrors } from '../../../src/errors.ts'
import { SECRETARIES } from '../../../src/auth/actors.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, field, type DocumentedRoute } from '../define.ts'
import { LANES, paths, publishLane } from './shared.ts'
import { noTableOf } from '../../../src/booking/days.ts'
import { addDayReply, archivesReply, closeReply, createReply, saveReply } from './replies.ts'

// The days of a queue, the clinic's work (legacy-api.md §2.13, §2.14, §3.7): creating them, adding one, closing one
// into the archive or archiving it by hand, and reading the archives.

const dayShape = z.looseObject({
  capacity_total: field.count('capacity_total').optional(),
  status: z.string().max(32).optional(),
  source: z.string().max(32).optional()
})

const createBody = z.object({
  clinic_id: field.id('clinic_id'),
  days: z.record(field.date('days key'), dayShape).refine((days) => Object.keys(days).length <= 366, 'at most 366 days at once')
})

const addDayBody = z.object({
  clinic_id: field.id('clinic_id'),
  capacity_total: field.count('capacity_total').optional().nullable(),
  status: z.string().max(32).optional(),
  force_add: field.bool('force_add').default(false),
  // Legacy reads the date from `date_added` only; a key named `date` is ignored (legacy-api.md §2.13).
  date_added: field.date('date_added').optional().nullable()
})

const closeBody = z.object({ clinic_id: field.id('clinic_id'), date: field.date() })

// reopen_table's answer (OpenAPI only): the legacy close_table's `status` message style, and what is open now.
const reopenReply = z.object({
  status: z.string().describe(`"${text.dayReopened}", or "${text.dayAlreadyOpen}" when it was open (nothing changed)`),
  reopened: z.boolean(),
  date: z.string().describe('YYYY-MM-DD'),
  capacity_total: z.number().int()
})

const patientEntry = z.record(z.string(), z.union([z.string(), z.number(), z.null(), z.boolean()]))

const saveBody = z.object({
  clinic_id: field.id('clinic_id'),
  closed_date: field.date('closed_date'),
  capacity_total: field.count('capacity_total').optional().nullable(),
  capacity_served: field.count('capacity_served').optional().nullable(),
  capacity_cancelled: field.count('capacity_cancelled').optional().nullable(),
  patients: z.array(patientEntry).max(10_000).optional().nullable()
})

const archivesQuery = z.object({
  from_date: field.date('from_date').optional(),
  to_date: field.date('to_date').optional(),
  limit: field.id('limit').pipe(z.number().max(1000)).optional()
})

const clinicParam = field.id('clinic_id')
const archiveClinic = (params: readonly string[]): number | null => {
  const parsed = clinicParam.safeParse(params[0])
  return parsed.success ? parsed.data : null
}

export function tableRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    ...LANES.flatMap((lane) => [
      defineRoute(ctx, {
        method: 'post', pattern: paths[lane].create, mirror: true, auth: 'secret', body: createBody,
        summary: `Create ${lane} days for a clinic`,
        example: { clinic_id: 7, days: { '2025-11-14': { capacity_total: 20 }, '2025-11-15': { capacity_total: 20 } } },
        responses: { 200: createReply },
        errors: [bookingErrors.daysEmpty, bookingErrors.pastDate, bookingErrors.capacityInvalid, bookingErrors.capacityUnknown],
        scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
        handler: async ({ body }) => {
          const answer = await ctx.db.transaction((tx) => createTable(tx, lane, body.clinic_id, Object.entries(body.days) as Array<[string, PostedDay]>))
          await publishLane(ctx, lane, body.clinic_id, answer.version)
          return json(200, answer.body)
        }
      }),
      defineRoute(ctx, {
        method: 'post', pattern: paths[lane].close, mirror: true, auth: 'secret', body: closeBody,
        summary: `Close a ${lane} day: unserved bookings are cancelled and the day is archived`,
        example: { clinic_id: 7, date: '2025-11-14' },
        responses: { 200: closeReply },
        errors: [bookingErrors.dateNotFound, noTableOf(lane)],
        scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
        handler: async ({ body }) => {
          const result = await ctx.db.transaction((tx) => closeDay(tx, body.clinic_id, lane, body.date))
          await publishLane(ctx, lane, body.clinic_id, result.version)
          return json(200, { status: result.removedAll ? text.dayArchivedAllRemoved : text.dayArchived, removed_all: result.removedAll })
        }
      }),
      defineRoute(ctx, {
        method: 'post', pattern: paths[lane].reopen, mirror: true, auth: 'secret', body: closeBody,
        summary: `Reopen a closed ${lane} day to patient-app bookings (ours: legacy had no way back but re-creating it)`,
        example: { clinic_id: 7, date: '2025-11-14' },
        scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
        responses: { 200: reopenReply },
        errors: [bookingErrors.pastDate, bookingErrors.dateNotFound, noTableOf(lane)],
        handler: async ({ body }) => {
          const answer = await ctx.db.transaction((tx) => reopenDay(tx, body.clinic_id, lane, body.date))
          await publishLane(ctx, lane, body.clinic_id, answer.version)
          return json(200, {
            status: answer.reopened ? text.dayReopened : text.dayAlreadyOpen,
            reopened: answer.reopened,
            date: body.date,
            capacity_total: answer.capacityTotal
          })
        }
      }),
      defineRoute(ctx, {
        method: 'post', pattern: paths[lane].save, mirror: true, auth: 'secret', body: saveBody,
        summary: `Archive a ${lane} day by hand`,
        example: {
          clinic_id: 7,
          closed_date: '2025-11-14',
          capacity_total: 20,
          capacity_served: 18,
          capacity_cancelled: 2,
          patients: [{ booking_id: 'B-7-20251114-0001', token: 1, name: 'عمر احمد', phone: '+9647701234567', status: 'تمت المعاينة' }]
        },
        responses: { 200: saveReply },
        errors: [bookingErrors.dateNotFound, noTableOf(lane)],
        scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
        handler: async ({ body }) => {
          const result = await ctx.db.transaction((tx) => saveDay(tx, body.clinic_id, lane, body.closed_date, {
            capacityTotal: body.capacity_total ?? null,
            capacityServed: body.capacity_served ?? null,
            capacityCancelled: body.capacity_cancelled ?? null,
            patients: body.patients ?? null
          }, lane === 'golden'))
          await publishLane(ctx, lane, body.clinic_id, result.version)
          if (lane === 'golden') return json(200, { status: 'day saved to archive and removed from the table' })
          return json(200, { status: result.created ? 'تم إنشاء الأرشيف بنجاح' : 'تم تحديث الأرشيف بنجاح' })
        }
      }),
      defineRoute(ctx, {
        method: 'get', pattern: paths[lane].archives, mirror: true, auth: 'secret', query: archivesQuery,
        summary: `Archived ${lane} days of a clinic, newest first`,
        responses: { 200: archivesReply },
        errors: [bookingErrors.clinicIdMissing],
        scope: { actors: SECRETARIES, clinicId: ({ params }) => archiveClinic(params) },
        handler: async ({ query, params }) => {
          const clinicId = archiveClinic(params)
          if (clinicId === null) throw bookingErrors.clinicIdMissing()
          const items = await ctx.db.run((sql) => listArchives(sql, clinicId, lane, query.from_date ?? null, query.to_date ?? null, query.limit ?? 100))
          return json(200, { clinic_id: clinicId, items })
        }
      })
    ]),
    defineRoute(ctx, {
      method: 'post', pattern: '/api/add_day', mirror: true, auth: 'secret', body: addDayBody,
      summary: 'Add a day to the regular queue: a chosen date, or the day after the last when it is full',
      example: { clinic_id: 7, capacity_total: 25, date_added: '2025-11-16' },
      responses: { 200: addDayReply },
      errors: [bookingErrors.pastDate, bookingErrors.capacityInvalid, bookingErrors.capacityUnknown, bookingErrors.noDaysYet, bookingErrors.noTable, bookingErrors.dateNotFound],
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
      handler: async ({ body }) => {
        const answer = await ctx.db.transaction((tx) => addDay(tx, {
          clinicId: body.clinic_id,
          date: body.date_added ?? null,
          capacityTotal: body.capacity_total ?? null,
          status: body.status,
          forceAdd: body.force_add
        }))
        await publishLane(ctx, 'regular', body.clinic_id, answer.version)
        return json(200, answer.body)
      }
    })
  ]
}
