import { z } from 'zod'
import { bookGolden, bookRegular, placeRegular, type BookingAnswer, type RegularBookingInput } from '../../../src/booking/book.ts'
import { bookingOwner, changeStatus } from '../../../src/booking/edit.ts'
import { bookingOfGoldenCode } from '../../../src/booking/golden-code.ts'
import { checkKey, idempotent, replayOrRefuse, type Answer, type Replayable } from '../../../src/booking/idempotency.ts'
import { DayFull } from '../../../src/booking/seats.ts'
import { text } from '../../../src/booking/messages.ts'
import { authErrors, bookingErrors } from '../../../src/errors.ts'
import { statusLabel } from '../../../src/domain/status.ts'
import { SECRETARIES } from '../../../src/auth/actors.ts'
import { json, type Reply } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, field, type DocumentedRoute } from '../define.ts'
import { LANES, paths, publishLane, statusField } from './shared.ts'
import { bookingReply, editReply, goldenBookingReply, verifyReply } from './replies.ts'
import { noTableOf } from '../../../src/booking/days.ts'

// A place in a queue (legacy-api.md §2.13, §2.14): booking one, changing its status, and finding a golden booking
// by the code the patient shows at the desk.

// A reference the apps send as a string or a number (patient_id, secretary_id). A number is kept only while it is
// exact: past 2^53 JSON.parse has already rounded it (123456789012345678901234567890 → "1.2345678901234568e+29").
const reference = (name: string) => z.union([
  z.string(),
  z.number().refine(Number.isSafeInteger, `${name} must be a string, or a whole number below 2^53 (a larger one is no longer exact: send it as a string)`)
], {
  error: (issue) => issue.input === undefined ? `${name} is required` : `${name} must be a string or a whole number`
}).transform(String)
const optionalText = (name: string, max: number) => reference(name).pipe(z.string().trim().max(max)).optional()

// Legacy answered a missing or zero clinic_id with its own 400 message; kept. Any other value that is not an id is
// one issue (a union would otherwise say only "Invalid input").
const bookingClinic = z.union([field.id('clinic_id'), z.literal(0), z.literal('0')], { error: 'clinic_id must be a positive integer' }).optional()

const bookingBody = z.object({
  clinic_id: bookingClinic,
  name: z.string().trim().min(1, 'name must not be empty').max(200),
  phone: z.string().trim().min(1, 'phone must not be empty').max(40),
  source: z.enum(['patient_app', 'secretary_app']).default('patient_app'),
  patient_id: optionalText('patient_id', 64),
  date: field.date().optional().nullable(),
  status: statusField.optional(),
  created_at: z.string().max(64).optional().nullable(),
  secretary_id: optionalText('secretary_id', 64),
  booking_id: z.unknown().optional(), // accepted and ignored, as legacy did
  token: z.unknown().optional()
})

const goldenBody = z.object({
  clinic_id: bookingClinic,
  date: field.date(),
  patient_id: reference('patient_id').pipe(z.string().trim().min(1, 'patient_id must not be empty').max(64)),
  name: z.string().trim().min(1).max(200),
  phone: z.string().trim().min(1).max(40),
  auto_assign: field.bool('auto_assign').default(true)
})

const editBody = z.object({
  clinic_id: field.id('clinic_id'),
  booking_id: z.string().trim().min(1).max(64),
  status: statusField,
  token: field.id('token').optional().nullable()
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

// The booking that took a day's last seat makes it a known full day, as of the version its transaction made.
function learnFullDay (ctx: WorkerContext, clinicId: number, answer: Answer & { replayed: boolean }): void {
  const { capacity_used: used, capacity_total: total, date } = answer.body as { capacity_used?: unknown, capacity_total?: unknown, date?: unknown }
  if (answer.replayed || answer.status !== 200 || answer.version === null || typeof used !== 'number' || typeof total !== 'number' || typeof date !== 'string') return
  if (used >= total) ctx.fullDays.learn({ clinicId, lane: 'regular', date, version: answer.version, active: used, capacity: total })
}

const optionalId = (value: string | undefined): string | null => value === undefined || value === '' ? null : value

export function entryRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'post', pattern: '/api/patient_booking', mirror: true, auth: 'secret', body: bookingBody,
      summary: 'Book a place in the regular queue (patient app: automatic day search; secretary app: a chosen date)',
      example: { clinic_id: 7, name: 'عمر احمد', phone: '+9647701234567', source: 'patient_app', patient_id: 'P-71', date: '2025-11-14' },
      responses: { 200: bookingReply },
      errors: [bookingErrors.clinicIdMissing, bookingErrors.cancelledAtBooking, bookingErrors.dateRequired, bookingErrors.clinicClosed, bookingErrors.doctorInactive, bookingErrors.pastDate, bookingErrors.beyondHorizon, bookingErrors.dateNotFound, bookingErrors.dayClosed, bookingErrors.dayFull, bookingErrors.notWorkingDay, bookingErrors.noDaysAvailable, bookingErrors.alreadyBooked, bookingErrors.idempotencyKeyInvalid, bookingErrors.idempotencyKeyReused, bookingErrors.idempotencyInProgress],
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
        // A patient-app booking of a day known full is refused from memory, before and again after its wait at the
        // day and for a connection (workers/full-days.ts). With an Idempotency-Key the key is claimed first, in a
        // transaction that touches no day: a retry may be owed its first answer.
        const date = body.date ?? null
        const known = body.source === 'patient_app' && date !== null
          ? () => ctx.fullDays.refusal(clinicId, 'regular', date)
          : () => null
        const fromMemory = key === null
          ? () => { const refusal = known(); if (refusal !== null) throw refusal }
          : undefined
        const refusedFromMemory = async (): Promise<Replayable | null> => {
          const refusal = known()
          if (refusal === null) return null
          if (key === null) throw refusal
          return await ctx.db.transaction((tx) => replayOrRefuse(tx, 'patient_booking', key, request.body, refusal))
        }
        // A dated booking waits for its turn at the day (at most a few per worker at once) rather than in the pool's
        // queue; a day that fills meanwhile refuses the patient-app ones waiting from memory.
        // Without a key the booking is placed the quickest way (one statement for a dated day with room); with one,
        // the key's row and the booking share a transaction.
        const input: RegularBookingInput = {
          clinicId,
          name: body.name,
          phone: body.phone,
          source: body.source,
          patientId: optionalId(body.patient_id),
          date,
          status,
          createdAt: body.created_at ?? null,
          secretaryId: optionalId(body.secretary_id)
        }
        const options = { secretaryOverbook: ctx.config.secretaryOverbook === 'allow', horizonDays: ctx.config.bookingHorizonDays }
        const made = (booked: BookingAnswer): Replayable => ({ status: 200, body: booked.body, version: booked.version, replayed: false })
        const book = async (): Promise<Replayable> => key === null
          ? made(await placeRegular(ctx.db, input, options, fromMemory))
          : await ctx.db.transaction((tx) => idempotent(tx, 'patient_booking', key, request.body, async () => made(await bookRegular(tx, input, options))))
        // The day's last seat is known before its place at the day passes on: the next in line is refused at once.
        // So is a day the database found full (a change of the lane since the last seat went made us forget it).
        const bookAndLearn = async (): Promise<Replayable> => {
          try {
            const answer = await book()
            learnFullDay(ctx, clinicId, answer)
            return answer
          } catch (error) {
            if (error instanceof DayFull) ctx.fullDays.learn({ clinicId, lane: 'regular', date: error.date, version: error.version, active: error.active, capacity: error.capacity })
            throw error
          }
        }
        const answer = await refusedFromMemory() ?? (date === null
          ? await bookAndLearn()
          : await ctx.fullDays.gate(clinicId, 'regular', date, async () => await refusedFromMemory() ?? await bookAndLearn()))
        await publishLane(ctx, 'regular', clinicId, answer.version)
        return answerReply(answer)
      }
    }),
    defineRoute(ctx, {
      method: 'post', pattern: '/api/patient_golden_booking', mirror: true, auth: 'secret', body: goldenBody,
      summary: 'Book a place in the golden (paid) queue; a 4-digit code is returned',
      example: { clinic_id: 7, date: '2025-11-14', patient_id: 'P-71', name: 'فاطمة حسين', phone: '+9647801234567', auto_assign: true },
      responses: { 200: goldenBookingReply },
      errors: [bookingErrors.clinicIdMissing, bookingErrors.clinicClosed, bookingErrors.doctorInactive, bookingErrors.pastDate, bookingErrors.beyondHorizon, bookingErrors.dateNotFound, bookingErrors.dayClosed, bookingErrors.dayFull, bookingErrors.notWorkingDay, bookingErrors.noDaysAvailable, bookingErrors.alreadyBooked, bookingErrors.idempotencyKeyInvalid, bookingErrors.idempotencyKeyReused, bookingErrors.idempotencyInProgress],
      scope: { clinicId: ({ body }) => namedClinic(body.clinic_id), patientField: 'patient_id', patientId: ({ body }) => body.patient_id },
      handler: async ({ body, request }) => {
        const clinicId = clinicIdOf(body.clinic_id)
        const key = checkKey(request.headers.get('idempotency-key'))
        const answer = await ctx.db.transaction((tx) => idempotent(tx, 'patient_golden_booking', key, request.body, async () => {
          const booked = await bookGolden(tx, { clinicId, date: body.date, patientId: body.patient_id, name: body.name, phone: body.phone, autoAssign: body.auto_assign },
            { horizonDays: ctx.config.bookingHorizonDays })
          return { status: 200, body: booked.body, version: booked.version }
        }))
        await publishLane(ctx, 'golden', clinicId, answer.version)
        return answerReply(answer)
      }
    }),
    ...LANES.map((lane) => defineRoute(ctx, {
      method: 'post', pattern: paths[lane].edit, mirror: true, auth: 'secret', body: editBody,
      summary: `Change a ${lane} booking's status; a cancellation moves the queue behind it up`,
      example: lane === 'golden'
        ? { clinic_id: 7, booking_id: 'G-7-20251114-0003', status: 'تمت المعاينة', token: 3 }
        : { clinic_id: 7, booking_id: 'B-7-20251114-0001', status: 'cancelled' },
      responses: { 200: editReply },
      errors: [bookingErrors.invalidBookingId, bookingErrors.bookingIdDate, bookingErrors.bookingNotFound, bookingErrors.dayNotFound, noTableOf(lane)],
      scope: {
        clinicId: ({ body }) => body.clinic_id,
        bookingOwner: ({ body }) => ctx.db.run((sql) => bookingOwner(sql, lane, body.clinic_id, body.booking_id)),
        // A patient may cancel its own booking; served, in progress, no-show (or back to booked) are the desk's to say.
        clinicAction: ({ body }) => body.status.status !== 'cancelled'
      },
      handler: async ({ body }) => {
        // The golden edit must match the token when one is sent; the regular one ignores it (legacy-api.md §2.13).
        const token = lane === 'golden' ? body.token ?? null : null
        const change = await ctx.db.transaction((tx) => changeStatus(tx, lane, body.clinic_id, body.booking_id, body.status.status, token))
        await publishLane(ctx, lane, body.clinic_id, change.version)
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
    })),
    defineRoute(ctx, {
      method: 'post', pattern: '/api/verify_golden_code', mirror: true, auth: 'secret', body: verifyBody,
      summary: 'Find the golden booking a 4-digit code belongs to (always 200, as legacy)',
      example: { clinic_id: 7, code: '4821', date: '2025-11-14' },
      responses: { 200: verifyReply },
      // The secretary's check at the desk: for a patient, guessing 4-digit codes would read other patients' names.
      // So it counts in the auth tier by address, and wrong codes count per clinic towards a lockout.
      tier: 'auth',
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
      errors: [authErrors.lockedOut],
      handler: async ({ body, request }) => {
        const target = String(body.clinic_id)
        await ctx.lockouts.guard('golden-code', target)
        const { booking, hasTable } = await ctx.db.run((sql) => bookingOfGoldenCode(sql, body.clinic_id, body.code, body.date ?? null))
        const empty = { patient_name: null, patient_phone: null, patient_id: null, booking_id: null, token: null, booking_status: null, booking_date: null }
        if (booking === null && hasTable) await ctx.lockouts.failed('golden-code', target, request)
        if (booking === null) return json(200, { status: 'error', message: hasTable ? text.codeNotFound : bookingErrors.noGoldenTable.text(), ...empty })
        return json(200, {
          status: 'success',
          message: null, // legacy's response model sent every field, this one included
          patient_name: booking.name,
          patient_phone: booking.phone,
          patient_id: booking.patient_id,
          booking_id: booking.display_id,
          token: booking.token,
          booking_status: statusLabel(booking.status),
          booking_date: booking.day
        })
      }
    })
  ]
}
