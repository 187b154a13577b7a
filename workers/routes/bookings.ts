import { z } from 'zod'
import { bookGolden, bookRegular } from '../../src/booking/book.ts'
import type { Lane } from '../../src/booking/days.ts'
import { bookingOwner, changeStatus } from '../../src/booking/edit.ts'
import { checkKey, idempotent, type Answer } from '../../src/booking/idempotency.ts'
import { closeDay, listArchives, saveDay } from '../../src/booking/archive.ts'
import { text } from '../../src/booking/messages.ts'
import { bookingErrors } from '../../src/errors.ts'
import { addDay, createTable, type PostedDay } from '../../src/booking/tables.ts'
import { parseStatus, statusLabel, type BookingStatus } from '../../src/domain/status.ts'
import { SECRETARIES, viewerOf } from '../../src/auth/actors.ts'
import { accountRef } from '../../src/domain/identifiers.ts'
import { json, type Reply, type Request } from '../http.ts'
import { replyFrom, replyFromView } from '../cache.ts'
import { clamp } from '../sse.ts'
import type { WorkerContext } from '../context.ts'
import { defineRoute, field, type DocumentedRoute } from './define.ts'

// The regular and golden queues (legacy-api.md §2.13, §2.14, §3). Both lanes share their reading, editing and
// archiving routes; only the paths and a few wire strings differ, listed here once.
const paths = {
  regular: {
    days: '/api/booking_days', all: '/api/all_days', edit: '/api/edit_patient_booking', close: '/api/close_table',
    save: '/api/save_table', archives: '/api/booking_archives/:clinic_id', create: '/api/create_table'
  },
  golden: {
    days: '/api/booking_golden_days', all: '/api/all_days_golden', edit: '/api/edit_patient_gold_booking', close: '/api/close_table_gold',
    save: '/api/save_table_gold', archives: '/api/golden_booking_archives/:clinic_id', create: '/api/create_golden_table'
  }
} as const

const optionalText = (max: number) => z.union([z.string(), z.number()]).transform(String).pipe(z.string().trim().max(max)).optional()

const statusField = z.string().trim().min(1).max(64).transform((raw, ctx): { raw: string, status: BookingStatus } => {
  const status = parseStatus(raw)
  if (status === null) {
    ctx.addIssue({ code: 'custom', message: bookingErrors.unknownStatus.text(raw) })
    return z.NEVER
  }
  return { raw, status }
})

const clinicQuery = z.object({ clinic_id: field.id('clinic_id') })

// Legacy accepted stream/heartbeat/timeout/poll_interval; numbers are clamped (sse.ts), poll_interval is accepted
// and ignored: updates are pushed when they happen.
const seconds = z.preprocess((v) => typeof v === 'string' && v.trim() !== '' ? Number(v) : undefined, z.number().finite().optional())
const daysQuery = clinicQuery.extend({
  stream: z.preprocess((v) => v === 'true' || v === '1' ? true : v === 'false' || v === '0' || v === undefined ? false : v, z.boolean()),
  heartbeat: seconds,
  timeout: seconds,
  poll_interval: seconds
})

const dayShape = z.looseObject({
  capacity_total: field.count('capacity_total').optional(),
  status: z.string().max(32).optional(),
  source: z.string().max(32).optional()
})

const createBody = z.object({
  clinic_id: field.id('clinic_id'),
  days: z.record(field.date('days key'), dayShape).refine((days) => Object.keys(days).length <= 366, 'at most 366 days at once')
})

const editBody = z.object({
  clinic_id: field.id('clinic_id'),
  booking_id: z.string().trim().min(1).max(64),
  status: statusField,
  token: field.id('token').optional().nullable()
})

const closeBody = z.object({ clinic_id: field.id('clinic_id'), date: field.date() })

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

const bookingBody = z.object({
  // Legacy answered a missing or zero clinic_id with its own 400 message; kept.
  clinic_id: z.union([field.id('clinic_id'), z.literal(0), z.literal('0')]).optional(),
  name: z.string().trim().min(1, 'name must not be empty').max(200),
  phone: z.string().trim().min(1, 'phone must not be empty').max(40),
  source: z.enum(['patient_app', 'secretary_app']).default('patient_app'),
  patient_id: optionalText(64),
  date: field.date().optional().nullable(),
  status: statusField.optional(),
  created_at: z.string().max(64).optional().nullable(),
  secretary_id: optionalText(64),
  booking_id: z.unknown().optional(), // accepted and ignored, as legacy did
  token: z.unknown().optional()
})

const goldenBody = z.object({
  clinic_id: z.union([field.id('clinic_id'), z.literal(0), z.literal('0')]).optional(),
  date: field.date(),
  patient_id: z.union([z.string(), z.number()]).transform(String).pipe(z.string().trim().min(1).max(64)),
  name: z.string().trim().min(1).max(200),
  phone: z.string().trim().min(1).max(40),
  auto_assign: field.bool().default(true)
})

const verifyBody = z.object({
  clinic_id: field.id('clinic_id'),
  code: z.union([z.string(), z.number()]).transform(String).pipe(z.string().trim().min(1).max(8)),
  date: field.date().optional().nullable()
})

// The clinic a booking names, for the actor rules; none (the handler's 400) is nothing to check.
const namedClinic = (value: number | 0 | '0' | undefined): number | null =>
  value === undefined || value === 0 || value === '0' ? null : value

function clinicIdOf (value: number | 0 | '0' | undefined): number {
  if (value === undefined || value === 0 || value === '0') throw bookingErrors.clinicIdMissing()
  return value
}

function answerReply (answer: Answer & { replayed: boolean }): Reply {
  return json(answer.status, answer.body, answer.replayed ? { 'Idempotent-Replayed': 'true' } : undefined)
}

const clinicParam = field.id('clinic_id')
const archiveClinic = (params: readonly string[]): number | null => {
  const parsed = clinicParam.safeParse(params[0])
  return parsed.success ? parsed.data : null
}

// Every route here is in the rate limiter's booking tier (50/min by default).
export function bookingRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return queueRoutes(ctx).map((route) => ({ ...route, tier: 'booking' as const }))
}

function queueRoutes (ctx: WorkerContext): DocumentedRoute[] {
  const publish = async (lane: Lane, clinicId: number, version: number | null): Promise<void> => {
    if (version !== null && version > 0) await ctx.publishChange({ topic: lane, clinicId, version })
  }

  // `viewer`: the patient account a strict-mode read is redacted for (other patients' names and phones hidden);
  // null serves the shared rendering as it is, the only path legacy mode takes.
  async function readDays (lane: Lane, clinicId: number, request: Request, notFound: boolean, viewer: number | null): Promise<Reply> {
    const entry = await ctx.lanes(lane, clinicId)
    if (entry === null) {
      if (notFound) throw lane === 'golden' ? bookingErrors.noGoldenTable() : bookingErrors.noTable()
      return json(200, { clinic_id: clinicId, days: {} })
    }
    if (viewer === null) return replyFrom(entry, request)
    return replyFromView(entry, request, accountRef(viewer), () => ctx.views.view(`${lane}:${clinicId}`, entry, viewer).body)
  }

  // SSE when asked with stream=true or Accept: text/event-stream (legacy-api.md §3.9), JSON otherwise.
  function daysOrStream (lane: Lane, query: z.infer<typeof daysQuery>, request: Request, viewer: number | null): Promise<Reply> | Reply {
    const wantsStream = query.stream === true || (request.headers.get('accept') ?? '').includes('text/event-stream')
    if (!wantsStream) return readDays(lane, query.clinic_id, request, true, viewer)
    const lastEventId = Number(request.headers.get('last-event-id') ?? 'NaN')
    return {
      status: 200,
      headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
      body: '',
      stream: (sink) => {
        void ctx.sse.subscribe(`${lane}:${query.clinic_id}`, sink, (lane === 'golden' ? bookingErrors.noGoldenTable : bookingErrors.noTable).text(), {
          heartbeatMs: clamp.heartbeatSeconds(query.heartbeat) * 1000,
          timeoutMs: clamp.timeoutSeconds(query.timeout) * 1000,
          lastEventId: Number.isSafeInteger(lastEventId) && lastEventId >= 0 ? lastEventId : null,
          viewer
        })
      }
    }
  }

  function laneRoutes (lane: Lane): DocumentedRoute[] {
    const p = paths[lane]
    return [
      defineRoute(ctx, {
        method: 'get', pattern: p.days, mirror: true, auth: 'secret', query: daysQuery,
        summary: `The clinic's live ${lane} days with their queues (JSON, or SSE with stream=true)`,
        scope: { clinicId: ({ query }) => query.clinic_id },
        handler: ({ query, request, actor }) => daysOrStream(lane, query, request, viewerOf(actor))
      }),
      defineRoute(ctx, {
        method: 'get', pattern: p.all, mirror: true, auth: 'secret', query: clinicQuery,
        summary: `All live ${lane} days; {} when there are none`,
        scope: { clinicId: ({ query }) => query.clinic_id },
        handler: ({ query, request, actor }) => readDays(lane, query.clinic_id, request, false, viewerOf(actor))
      }),
      defineRoute(ctx, {
        method: 'post', pattern: p.create, mirror: true, auth: 'secret', body: createBody,
        summary: `Create ${lane} days for a clinic`,
        scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
        handler: async ({ body }) => {
          const answer = await ctx.db.transaction((tx) => createTable(tx, lane, body.clinic_id, Object.entries(body.days) as Array<[string, PostedDay]>))
          await publish(lane, body.clinic_id, answer.version)
          return json(200, answer.body)
        }
      }),
      defineRoute(ctx, {
        method: 'post', pattern: p.edit, mirror: true, auth: 'secret', body: editBody,
        summary: `Change a ${lane} booking's status; a cancellation moves the queue behind it up`,
        scope: {
          clinicId: ({ body }) => body.clinic_id,
          bookingOwner: ({ body }) => ctx.db.run((sql) => bookingOwner(sql, lane, body.clinic_id, body.booking_id))
        },
        handler: async ({ body }) => {
          // The golden edit must match the token when one is sent; the regular one ignores it (legacy-api.md §2.13).
          const token = lane === 'golden' ? body.token ?? null : null
          const change = await ctx.db.transaction((tx) => changeStatus(tx, lane, body.clinic_id, body.booking_id, body.status.status, token))
          await publish(lane, body.clinic_id, change.version)
          return json(200, {
            message: lane === 'golden' ? text.goldenStatusUpdated : text.statusUpdated,
            clinic_id: body.clinic_id,
            booking_id: body.booking_id,
            old_status: statusLabel(change.oldStatus),
            // Legacy echoed the regular status as sent and the golden one normalized to Arabic.
            new_status: lane === 'golden' ? statusLabel(body.status.status) : body.status.raw,
            patient_id: change.patientId
          })
        }
      }),
      defineRoute(ctx, {
        method: 'post', pattern: p.close, mirror: true, auth: 'secret', body: closeBody,
        summary: `Close a ${lane} day: unserved bookings are cancelled and the day is archived`,
        scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
        handler: async ({ body }) => {
          const result = await ctx.db.transaction((tx) => closeDay(tx, body.clinic_id, lane, body.date))
          await publish(lane, body.clinic_id, result.version)
          return json(200, { status: result.removedAll ? text.dayArchivedAllRemoved : text.dayArchived, removed_all: result.removedAll })
        }
      }),
      defineRoute(ctx, {
        method: 'post', pattern: p.save, mirror: true, auth: 'secret', body: saveBody,
        summary: `Archive a ${lane} day by hand`,
        scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
        handler: async ({ body }) => {
          const result = await ctx.db.transaction((tx) => saveDay(tx, body.clinic_id, lane, body.closed_date, {
            capacityTotal: body.capacity_total ?? null,
            capacityServed: body.capacity_served ?? null,
            capacityCancelled: body.capacity_cancelled ?? null,
            patients: body.patients ?? null
          }, lane === 'golden'))
          await publish(lane, body.clinic_id, result.version)
          if (lane === 'golden') return json(200, { status: 'day saved to archive and removed from the table' })
          return json(200, { status: result.created ? 'تم إنشاء الأرشيف بنجاح' : 'تم تحديث الأرشيف بنجاح' })
        }
      }),
      defineRoute(ctx, {
        method: 'get', pattern: p.archives, mirror: true, auth: 'secret', query: archivesQuery,
        summary: `Archived ${lane} days of a clinic, newest first`,
        scope: { actors: SECRETARIES, clinicId: ({ params }) => archiveClinic(params) },
        handler: async ({ query, params }) => {
          const clinicId = archiveClinic(params)
          if (clinicId === null) throw bookingErrors.clinicIdMissing()
          const items = await ctx.db.run((sql) => listArchives(sql, clinicId, lane, query.from_date ?? null, query.to_date ?? null, query.limit ?? 100))
          return json(200, { clinic_id: clinicId, items })
        }
      })
    ]
  }

  return [
    ...laneRoutes('regular'),
    ...laneRoutes('golden'),
    defineRoute(ctx, {
      method: 'post', pattern: '/api/patient_booking', mirror: true, auth: 'secret', body: bookingBody,
      summary: 'Book a place in the regular queue (patient app: automatic day search; secretary app: a chosen date)',
      // A patient books for itself, as the patient app; a secretary_app booking (which may overbook) is the clinic's.
      scope: {
        clinicId: ({ body }) => namedClinic(body.clinic_id),
        patientField: 'patient_id',
        patientId: ({ body }) => body.patient_id,
        clinicAction: ({ body }) => body.source === 'secretary_app'
      },
      handler: async ({ body, request }) => {
        const clinicId = clinicIdOf(body.clinic_id)
        const status = body.status?.status ?? 'booked'
        if (status === 'cancelled') throw bookingErrors.cancelledAtBooking()
        const key = checkKey(request.headers.get('idempotency-key'))
        const answer = await ctx.db.transaction((tx) => idempotent(tx, 'patient_booking', key, request.body, async () => {
          const booked = await bookRegular(tx, {
            clinicId,
            name: body.name,
            phone: body.phone,
            source: body.source,
            patientId: body.patient_id === undefined || body.patient_id === '' ? null : body.patient_id,
            date: body.date ?? null,
            status,
            createdAt: body.created_at ?? null,
            secretaryId: body.secretary_id === undefined || body.secretary_id === '' ? null : body.secretary_id
          }, { secretaryOverbook: ctx.config.secretaryOverbook === 'allow' })
          return { status: 200, body: booked.body, version: booked.version }
        }))
        await publish('regular', clinicId, answer.version)
        return answerReply(answer)
      }
    }),
    defineRoute(ctx, {
      method: 'post', pattern: '/api/patient_golden_booking', mirror: true, auth: 'secret', body: goldenBody,
      summary: 'Book a place in the golden (paid) queue; a 4-digit code is returned',
      scope: { clinicId: ({ body }) => namedClinic(body.clinic_id), patientField: 'patient_id', patientId: ({ body }) => body.patient_id },
      handler: async ({ body, request }) => {
        const clinicId = clinicIdOf(body.clinic_id)
        const key = checkKey(request.headers.get('idempotency-key'))
        const answer = await ctx.db.transaction((tx) => idempotent(tx, 'patient_golden_booking', key, request.body, async () => {
          const booked = await bookGolden(tx, { clinicId, date: body.date, patientId: body.patient_id, name: body.name, phone: body.phone, autoAssign: body.auto_assign })
          return { status: 200, body: booked.body, version: booked.version }
        }))
        await publish('golden', clinicId, answer.version)
        return answerReply(answer)
      }
    }),
    defineRoute(ctx, {
      method: 'post', pattern: '/api/add_day', mirror: true, auth: 'secret',
      body: z.object({
        clinic_id: field.id('clinic_id'),
        capacity_total: field.count('capacity_total').optional().nullable(),
        status: z.string().max(32).optional(),
        force_add: field.bool().default(false),
        // Legacy reads the date from `date_added` only; a key named `date` is ignored (legacy-api.md §2.13).
        date_added: field.date('date_added').optional().nullable()
      }),
      summary: 'Add a day to the regular queue: a chosen date, or the day after the last when it is full',
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
      handler: async ({ body }) => {
        const answer = await ctx.db.transaction((tx) => addDay(tx, {
          clinicId: body.clinic_id,
          date: body.date_added ?? null,
          capacityTotal: body.capacity_total ?? null,
          status: body.status,
          forceAdd: body.force_add
        }))
        await publish('regular', body.clinic_id, answer.version)
        return json(200, answer.body)
      }
    }),
    defineRoute(ctx, {
      method: 'get', pattern: '/api/booking_golden_days_old', mirror: true, auth: 'secret', query: clinicQuery,
      summary: 'Deprecated golden days reader, kept for old app builds',
      scope: { clinicId: ({ query }) => query.clinic_id },
      handler: ({ query, request, actor }) => readDays('golden', query.clinic_id, request, true, viewerOf(actor))
    }),
    defineRoute(ctx, {
      method: 'post', pattern: '/api/verify_golden_code', mirror: true, auth: 'secret', body: verifyBody,
      summary: 'Find the golden booking a 4-digit code belongs to (always 200, as legacy)',
      // The secretary's check at the desk: for a patient, guessing 4-digit codes would read other patients' names.
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
      handler: async ({ body }) => {
        // A cancelled booking's code is not valid any more (legacy deleted the entry), or a secretary could take a
        // payment for it.
        const { rows, hasTable } = await ctx.db.run(async (sql) => {
          const rows = await sql<Array<{ name: string, phone: string, patient_id: string | null, display_id: string, token: number, status: BookingStatus, day: string }>>`
            SELECT b.name, b.phone, b.patient_id, b.display_id, b.token, b.status, to_char(d.day, 'YYYY-MM-DD') AS day
            FROM bookings b JOIN booking_days d ON d.id = b.day_id
            WHERE d.clinic_id = ${body.clinic_id} AND d.lane = 'golden' AND d.status <> 'archived' AND b.golden_code = ${body.code}
              AND b.status <> 'cancelled' AND (${body.date ?? null}::date IS NULL OR d.day = ${body.date ?? null}::date)
            ORDER BY d.day
            LIMIT 1`
          if (rows.length > 0) return { rows, hasTable: true }
          const [any] = await sql`SELECT 1 FROM booking_days WHERE clinic_id = ${body.clinic_id} AND lane = 'golden' AND status <> 'archived' LIMIT 1`
          return { rows, hasTable: any !== undefined }
        })
        const found = rows[0]
        const empty = { patient_name: null, patient_phone: null, patient_id: null, booking_id: null, token: null, booking_status: null, booking_date: null }
        if (found === undefined) return json(200, { status: 'error', message: hasTable ? text.codeNotFound : bookingErrors.noGoldenTable.text(), ...empty })
        return json(200, {
          status: 'success',
          patient_name: found.name,
          patient_phone: found.phone,
          patient_id: found.patient_id,
          booking_id: found.display_id,
          token: found.token,
          booking_status: statusLabel(found.status),
          booking_date: found.day
        })
      }
    })
  ]
}
