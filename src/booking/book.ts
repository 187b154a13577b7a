import type { Database, Queryable, TransactionSql } from '../db/pool.ts'
import { addDays, iraqToday, weekdayOf } from '../domain/calendar.ts'
import { BOOKING_ID_SHAPES, bookingIdStem, goldenBookingId, goldenCode, regularBookingId, secretaryBookingId, type BookingIdShape } from '../domain/identifiers.ts'
import { statusLabel, type BookingStatus } from '../domain/status.ts'
import { candidateDays, SEARCH_HORIZON_DAYS } from '../domain/working-days.ts'
import { bookingErrors, type ApiError } from '../errors.ts'
import { text } from './messages.ts'
import { bumpLane, laneBump, laneNotice } from './versions.ts'
import {
  activeBookingOf, admitted, assertBookable, clinicRules, dateState, ensureDay, explainNoSeat, newDayCapacity, noSeatError, refusesBookings, reserveBookableSeat,
  reserveSeat, takeSeat, violated, DayFull, type ClinicRules, type ExistingBooking, type Seat, type SeatRule
} from './seats.ts'
import type { Lane } from './days.ts'

// A booking is one short transaction: reserve a seat (conditional UPDATE of the day row), insert the booking,
// commit. The day row's lock serializes bookings of one day; everything else runs in parallel. The common case, a
// dated booking of a day with room, is a single statement (`placeRegular`); the transaction answers the rest.

export interface RegularBookingInput {
  clinicId: number
  name: string
  phone: string
  source: 'patient_app' | 'secretary_app'
  patientId: string | null
  date: string | null
  status: BookingStatus
  createdAt: string | null
  secretaryId: string | null
}

export interface BookingAnswer {
  body: Record<string, unknown>
  version: number
}

export interface BookingOptions {
  horizonDays: number // BOOKING_HORIZON_DAYS: the patient app books today … today + horizonDays
  now?: Date
}

// The dates a patient may ask for: not before today, not past the horizon. The refusal, or null for a date within.
function horizonRefusal (date: string, today: string, horizonDays: number): ApiError | null {
  if (date < today) return bookingErrors.pastDate(date)
  if (date > addDays(today, horizonDays)) return bookingErrors.beyondHorizon(date, horizonDays)
  return null
}

function assertWithinHorizon (date: string, today: string, horizonDays: number): void {
  const refusal = horizonRefusal(date, today, horizonDays)
  if (refusal !== null) throw refusal
}

// How many days a search from `from` may look at: SEARCH_HORIZON_DAYS, and never past the horizon.
function searchLength (from: string, today: string, horizonDays: number): number {
  const last = addDays(today, horizonDays)
  let n = 0
  while (n < SEARCH_HORIZON_DAYS && addDays(from, n) <= last) n++
  return n
}

const worksOn = (rules: ClinicRules, date: string): boolean => rules.working === null || rules.working.has(weekdayOf(date))

interface Placed {
  seat: Seat
  date: string
}

// The patient app's automatic search (legacy-api.md §3.3): from today in Iraq over the next 30 calendar days, on the
// clinic's working days, the first open day with room. Unlike legacy, a patient already booked on the day the
// search reaches is told so (409 naming the booking) instead of being moved silently to the next day.
async function searchAndReserve (tx: TransactionSql, input: RegularBookingInput, rules: ClinicRules, today: string, horizonDays: number): Promise<Placed> {
  const length = searchLength(today, today, horizonDays)
  const candidates = candidateDays(today, length, rules.working)
  if (candidates.length === 0) throw bookingErrors.noDaysAvailable(length, horizonDays)
  // A live day of a date wins over its archived predecessor (ORDER BY puts archived rows first, later ones overwrite).
  const states = await tx<Array<{ day: string, status: string, active_count: number, capacity_total: number }>>`
    SELECT to_char(day, 'YYYY-MM-DD') AS day, status, active_count, capacity_total FROM booking_days
    WHERE clinic_id = ${input.clinicId} AND lane = 'regular' AND day = ANY(${candidates}::date[])
    ORDER BY (status <> 'archived')`
  const byDate = new Map(states.map((s) => [s.day, s]))
  // The patient's own active bookings on those days, in one query rather than one per day.
  const mine = new Map<string, ExistingBooking>()
  if (input.patientId !== null) {
    const rows = await tx<ExistingBooking[]>`
      SELECT b.display_id AS booking_id, to_char(d.day, 'YYYY-MM-DD') AS date, b.token
      FROM bookings b JOIN booking_days d ON d.id = b.day_id
      WHERE d.clinic_id = ${input.clinicId} AND d.lane = 'regular' AND d.status <> 'archived' AND d.day = ANY(${candidates}::date[])
        AND b.patient_id = ${input.patientId} AND b.status <> 'cancelled'`
    for (const row of rows) mine.set(row.date, row)
  }
  let capacity: number | null = null
  for (const date of candidates) {
    const state = byDate.get(date)
    if (state !== undefined && state.status !== 'open') continue
    const existing = mine.get(date)
    if (existing !== undefined) throw bookingErrors.alreadyBooked(existing)
    if (state !== undefined && state.active_count >= state.capacity_total) continue
    if (state === undefined) {
      capacity ??= await newDayCapacity(tx, input.clinicId, 'regular', rules)
      await ensureDay(tx, input.clinicId, 'regular', date, 'patient_app', capacity)
    }
    // Another request may have taken the last seat since the read above: the UPDATE is the judge.
    const seat = await reserveSeat(tx, input.clinicId, 'regular', date, 'patient')
    if (seat !== null) return { seat, date }
  }
  throw bookingErrors.noDaysAvailable(length, horizonDays)
}

export async function bookRegular (tx: TransactionSql, input: RegularBookingInput, options: BookingOptions & { secretaryOverbook: boolean }): Promise<BookingAnswer> {
  const today = iraqToday(options.now)
  const fromPatientApp = input.source === 'patient_app'
  // The clinic's rules are read only when needed: the patient app must find the clinic bookable; a secretary's
  // walk-in needs them only to create a missing day.
  let rules: ClinicRules | null = null
  const rulesOf = async (): Promise<ClinicRules> => {
    rules ??= await clinicRules(tx, input.clinicId)
    return rules
  }
  // A dated patient-app booking within the horizon reads the rules with its seat, in one statement; any other
  // first checks them (and before the horizon, as ever: an inactive clinic is told so whatever the date).
  const fused = fromPatientApp && input.date !== null && horizonRefusal(input.date, today, options.horizonDays) === null
  if (fromPatientApp && !fused) assertBookable(await rulesOf())

  let placed: Placed
  if (input.date === null) {
    if (!fromPatientApp) throw bookingErrors.dateRequired()
    placed = await searchAndReserve(tx, input, await rulesOf(), today, options.horizonDays)
  } else {
    const date = input.date
    if (fromPatientApp) assertWithinHorizon(date, today, options.horizonDays)
    const rule = fromPatientApp ? 'patient' : options.secretaryOverbook ? 'walk-in-overbook' : 'walk-in'
    // The common case first: the day exists and has room, and one UPDATE takes the seat. Everything else (a day
    // to create, a closed or full one) is looked at only when it did not.
    let seat: Seat | null
    if (fused) {
      const reserved = await reserveBookableSeat(tx, input.clinicId, 'regular', date)
      rules = reserved.rules
      assertBookable(rules)
      seat = reserved.seat
    } else {
      seat = await reserveSeat(tx, input.clinicId, 'regular', date, rule)
    }
    // A live day that gave the patient app no seat is closed or full: explainNoSeat says which. Otherwise the patient
    // app may create the day, but not on a date close_table closed, nor on a day the doctor does not work. A
    // secretary's walk-in may create it anywhere: on a closed date the day it creates stays closed (ensureDay).
    if (seat === null && (!fromPatientApp || await patientMayOpen(tx, input.clinicId, 'regular', date, await rulesOf()))) {
      const capacity = await newDayCapacity(tx, input.clinicId, 'regular', await rulesOf())
      // Try again whether this call created the day or a concurrent first booking did (it waited for that one). A
      // close_table may archive that day between the two statements (and another walk-in open the next one): a
      // walk-in, taken on a closed date too, tries again a few times rather than be told the date is closed.
      for (let attempt = 0; seat === null && attempt < (fromPatientApp ? 1 : 4); attempt++) {
        await ensureDay(tx, input.clinicId, 'regular', date, input.source, capacity)
        seat = await reserveSeat(tx, input.clinicId, 'regular', date, rule)
      }
    }
    placed = { seat: seat ?? await explainNoSeat(tx, input.clinicId, 'regular', date), date }
  }

  const { seat, date } = placed
  const bookingId = fromPatientApp
    ? regularBookingId(input.clinicId, date, seat.seq)
    : secretaryBookingId(input.clinicId, date, seat.seq)
  // Legacy gave secretary walk-ins their 3-digit sequence as patient id; a patient-app booking without one is
  // identified by its own booking id (legacy's P-101… counter collided with real account ids P-<id>).
  const patientId = input.patientId ?? (fromPatientApp ? bookingId : String(seat.seq).padStart(BOOKING_ID_SHAPES.secretary.digits, '0'))
  // One active booking per patient and day is the index's to enforce (contract.md §2.4): a second one inserts
  // nothing, and the transaction, seat included, is rolled back by the 409.
  // The lane's version is bumped by the same statement (one round trip fewer); when nothing was inserted the 409
  // rolls the bump back with the seat.
  const [row] = await tx<Array<{ inserted: number, version: string }>>`
    WITH booked AS (
      INSERT INTO bookings (day_id, seq, token, display_id, patient_id, name, phone, source, status, secretary_id, client_created_at)
      VALUES (${seat.dayId}, ${seat.seq}, ${seat.token}, ${bookingId}, ${patientId}, ${input.name}, ${input.phone}, ${input.source},
              ${input.status}, ${fromPatientApp ? null : input.secretaryId}, ${input.createdAt})
      ON CONFLICT (day_id, patient_id) WHERE status <> 'cancelled' AND patient_id IS NOT NULL DO NOTHING
      RETURNING 1
    ), bumped AS (${laneBump(tx, input.clinicId, 'regular')})
    SELECT (SELECT count(*) FROM booked)::int AS inserted, version::text, ${laneNotice(tx, input.clinicId, 'regular')} FROM bumped`
  if (row === undefined || row.inserted === 0) {
    const existing = await activeBookingOf(tx, input.clinicId, 'regular', date, patientId)
    throw bookingErrors.alreadyBooked(existing ?? { booking_id: '', date, token: 0 })
  }
  return { version: Number(row.version), body: bookedBody(input, date, bookingId, patientId, seat.token, seat.capacityTotal) }
}

// A regular booking, made the quickest way that answers it: a dated one first as one statement (bookAtOnce); what
// that does not settle (a day to create, a closed one, a clinic that takes no bookings, a date out of range) by the
// transaction. `unless` as in Database.transaction: asked before any database work, a throw answers.
export async function placeRegular (db: Database, input: RegularBookingInput, options: BookingOptions & { secretaryOverbook: boolean }, unless?: () => void): Promise<BookingAnswer> {
  const rule = atOnceRule(input, options)
  if (rule !== null) {
    const answer = await db.run(async (sql, deadline) => {
      unless?.()
      return await bookAtOnce(sql, input, rule, deadline)
    })
    if (answer !== null) return answer
  }
  return await db.transaction((tx) => bookRegular(tx, input, options), unless)
}

// The seat rule a booking may take at once, or null when it needs the transaction: undated (the day search), or a
// patient-app date out of the horizon (refused there).
function atOnceRule (input: RegularBookingInput, options: BookingOptions & { secretaryOverbook: boolean }): SeatRule | null {
  if (input.date === null) return null
  if (input.source === 'secretary_app') return options.secretaryOverbook ? 'walk-in-overbook' : 'walk-in'
  return horizonRefusal(input.date, iraqToday(options.now), options.horizonDays) === null ? 'patient' : null
}

// The common dated booking as one autocommitted statement: the seat (for the patient app only where the clinic takes
// bookings), the booking under the id its sequence makes, the lane's version and its NOTIFY. One round trip, where
// the transaction takes four (BEGIN, seat, booking, COMMIT): the day row's lock is held only while PostgreSQL runs
// the statement (a hot day's bookings per second 1.4×), and one at a time the server's CPU per booking is halved
// (docs/BENCHMARKS.md, "A dated booking as one statement").
// All or nothing, as the transaction: a day that is missing, closed or full, or a clinic that refuses, gives no seat
// and the statement writes nothing. A full day is then refused from the statement's own reading of it (DayFull, as
// noSeatError); anything else is null and the transaction answers. A patient already booked that day violates
// bookings_one_active_per_patient, which undoes the whole statement, seat and version included.
// The deadline is checked by PostgreSQL once the day row's lock is its own (a waiting UPDATE evaluates its condition
// again on the row it got): a booking whose caller was answered 503 while it waited takes no seat. Only a deadline
// passing on the answer's way back leaves a 503'd booking made, as the COMMIT's round trip does in the transaction.
// A database clock ahead of ours by more than a request's time to its deadline sends it to the transaction: slower,
// never wrong.
async function bookAtOnce (sql: Queryable, input: RegularBookingInput, rule: SeatRule, deadline: number): Promise<BookingAnswer | null> {
  if (input.date === null) return null
  const { clinicId, date } = input
  const fromPatientApp = input.source === 'patient_app'
  // For the patient app, only where the clinic takes bookings (assertBookable).
  const bookable = fromPatientApp
    ? sql`AND NOT EXISTS (SELECT 1 FROM clinics c WHERE c.id = ${clinicId} AND (${refusesBookings(sql, 'c')}))`
    : sql``
  // regularBookingId and secretaryBookingId in SQL: the sequence is known only once the seat is taken.
  const shape: BookingIdShape = fromPatientApp ? 'regular' : 'secretary'
  const bookingId = sql`${bookingIdStem(shape, clinicId, date)}::text || ${paddedSeq(sql, shape)}`
  // As bookRegular: a patient-app booking without a patient id is known by its booking id, a walk-in by its sequence.
  const patientFallback = fromPatientApp ? sql`display_id` : paddedSeq(sql, 'secretary')
  let row: AtOnceRow | undefined
  try {
    [row] = await sql<AtOnceRow[]>`
      WITH seat AS (${takeSeat(sql, clinicId, 'regular', date, sql`${admitted(sql, rule)} ${bookable} AND clock_timestamp() < ${new Date(deadline)}::timestamptz`)}),
      named AS (SELECT seat.*, ${bookingId} AS display_id FROM seat),
      booked AS (
        INSERT INTO bookings (day_id, seq, token, display_id, patient_id, name, phone, source, status, secretary_id, client_created_at)
        SELECT id::bigint, seq, token, display_id, coalesce(${input.patientId}::text, ${patientFallback}), ${input.name}::text, ${input.phone}::text,
               ${input.source}::text, ${input.status}::booking_status, ${fromPatientApp ? null : input.secretaryId}::text, ${input.createdAt}::text
        FROM named
        RETURNING display_id, patient_id, token
      ), bumped AS (${laneBump(sql, clinicId, 'regular', sql`EXISTS (SELECT 1 FROM booked)`)})
      SELECT made.*, full_day.* FROM (SELECT 1) one
      LEFT JOIN (
        SELECT booked.display_id AS booking_id, booked.patient_id, booked.token, named.capacity_total, version::text,
               ${laneNotice(sql, clinicId, 'regular')}
        FROM booked, named, bumped
      ) made ON true
      -- No seat: the day as this statement's snapshot has it, with the lane's version, when that says full (noSeatError).
      LEFT JOIN (
        SELECT d.active_count AS full_active, d.capacity_total AS full_capacity,
               (SELECT v.version::text FROM lane_versions v WHERE v.clinic_id = ${clinicId} AND v.lane = 'regular') AS full_version
        FROM booking_days d
        WHERE d.clinic_id = ${clinicId} AND d.lane = 'regular' AND d.day = ${date} AND d.status = 'open' AND d.active_count >= d.capacity_total
          ${bookable} AND NOT EXISTS (SELECT 1 FROM booked)
      ) full_day ON true`
  } catch (error) {
    if (!violated(error, 'bookings_one_active_per_patient')) throw error
    // A walk-in without a patient id is known by its sequence, which the undone statement did not tell: the
    // transaction finds whose booking that is.
    if (input.patientId === null) return null
    const existing = await activeBookingOf(sql, clinicId, 'regular', date, input.patientId)
    throw bookingErrors.alreadyBooked(existing ?? { booking_id: '', date, token: 0 })
  }
  if (row?.booking_id != null) {
    return { version: Number(row.version), body: bookedBody(input, date, row.booking_id, row.patient_id, row.token, row.capacity_total) }
  }
  // A full day, seen in one snapshot with the lane's version: the refusal the transaction would give, learnt the same.
  if (row?.full_active != null && row.full_capacity != null) throw new DayFull(date, row.full_active, row.full_capacity, Number(row.full_version ?? 0))
  // Anything else (a day to create, closed or archived, a clinic that refuses, the deadline) is the transaction's.
  return null
}

// What bookAtOnce's statement answers: the booking made, or (columns of the LEFT JOINs, null when not) the full day.
interface AtOnceRow {
  booking_id: string | null
  patient_id: string
  token: number
  capacity_total: number
  version: string
  full_active: number | null
  full_capacity: number | null
  full_version: string | null
}

// The seat's sequence as booking ids of `shape` write it (String.padStart: a longer one is kept whole).
function paddedSeq (sql: Queryable, shape: BookingIdShape) {
  return sql`lpad(seq::text, greatest(${BOOKING_ID_SHAPES[shape].digits}::int, length(seq::text)), '0')`
}

// The answer to a regular booking made.
function bookedBody (input: RegularBookingInput, date: string, bookingId: string, patientId: string, token: number, capacityTotal: number): Record<string, unknown> {
  return {
    message: text.bookedAs(input.name),
    booking_id: bookingId,
    token,
    capacity_used: token,
    capacity_total: capacityTotal,
    status: statusLabel(input.status),
    clinic_id: input.clinicId,
    date,
    patient_id: patientId
  }
}

// Whether the patient app may create the date's day: false when a live day exists (its status and capacity decide),
// a refusal when close_table closed the date or the doctor does not work that day.
async function patientMayOpen (tx: TransactionSql, clinicId: number, lane: Lane, date: string, rules: ClinicRules): Promise<boolean> {
  const state = await dateState(tx, clinicId, lane, date)
  if (state.live) return false
  if (state.closed) throw bookingErrors.dayClosed(date)
  if (!worksOn(rules, date)) throw bookingErrors.notWorkingDay(date)
  return true
}

export interface GoldenBookingInput {
  clinicId: number
  date: string
  patientId: string
  name: string
  phone: string
  autoAssign: boolean
}

// Golden (paid) queue, legacy-api.md §3.10: the requested date, or with auto_assign the first day with room within
// 30 days from it (and within the booking horizon). Missing days are created with the clinic's golden capacity, on
// working days only. A closed golden day now refuses bookings (legacy ignored it), and a patient already booked is
// told so instead of being moved.
export async function bookGolden (tx: TransactionSql, input: GoldenBookingInput, options: BookingOptions): Promise<BookingAnswer> {
  const today = iraqToday(options.now)
  assertWithinHorizon(input.date, today, options.horizonDays)
  const rules = await clinicRules(tx, input.clinicId)
  assertBookable(rules)
  const length = input.autoAssign ? searchLength(input.date, today, options.horizonDays) : 1
  let placed: Placed | null = null
  let capacity: number | null = null
  // Why the requested date was passed over, for the message when auto_assign moved the booking.
  let skipped: ApiError | null = null
  for (let i = 0; i < length && placed === null; i++) {
    const date = addDays(input.date, i)
    const state = await dateState(tx, input.clinicId, 'golden', date)
    let refusal: ApiError | null = null
    if (!state.live && state.closed) refusal = bookingErrors.dayClosed(date)
    else if (!state.live && !worksOn(rules, date)) refusal = bookingErrors.notWorkingDay(date)
    if (refusal === null) {
      const existing = await activeBookingOf(tx, input.clinicId, 'golden', date, input.patientId)
      if (existing !== null) throw bookingErrors.alreadyBooked(existing)
      let seat = await reserveSeat(tx, input.clinicId, 'golden', date, 'patient')
      if (seat === null && !state.live) {
        capacity ??= await newDayCapacity(tx, input.clinicId, 'golden', rules)
        await ensureDay(tx, input.clinicId, 'golden', date, 'patient_app', capacity)
        seat = await reserveSeat(tx, input.clinicId, 'golden', date, 'patient')
      }
      if (seat !== null) placed = { seat, date }
      else refusal = await noSeatError(tx, input.clinicId, 'golden', date)
    }
    if (refusal !== null) {
      if (!input.autoAssign) throw refusal
      skipped ??= refusal
    }
  }
  if (placed === null) throw bookingErrors.noDaysAvailable(length, options.horizonDays)
  const { seat, date } = placed
  const bookingId = goldenBookingId(input.clinicId, date, seat.seq)

  // The code is unique per clinic and day by an index; a collision (1 in 9000 per booking already there) is
  // retried inside a savepoint so the seat stays reserved.
  let code = ''
  for (let attempt = 0; ; attempt++) {
    code = goldenCode()
    try {
      await tx.savepoint(async (sp) => {
        await sp`
          INSERT INTO bookings (day_id, seq, token, display_id, patient_id, name, phone, status, golden_code)
          VALUES (${seat.dayId}, ${seat.seq}, ${seat.token}, ${bookingId}, ${input.patientId}, ${input.name}, ${input.phone}, 'booked', ${code})`
      })
      break
    } catch (error) {
      if (violated(error, 'bookings_golden_code') && attempt < 20) continue
      if (violated(error, 'bookings_one_active_per_patient')) throw bookingErrors.alreadyBooked({ booking_id: '', date, token: 0 })
      throw error
    }
  }
  let message = text.bookedAs(input.name)
  if (date !== input.date) message += text.movedFrom(date, input.date, skipped?.code ?? 'day_full')
  return {
    version: await bumpLane(tx, input.clinicId, 'golden'),
    body: {
      message,
      code,
      booking_id: bookingId,
      token: seat.token,
      capacity_used: seat.token,
      capacity_total: seat.capacityTotal,
      status: statusLabel('booked'),
      clinic_id: input.clinicId,
      date,
      patient_id: input.patientId
    }
  }
}
