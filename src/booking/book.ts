import type { TransactionSql } from '../db/pool.ts'
import { addDays, iraqToday } from '../domain/calendar.ts'
import { goldenBookingId, goldenCode, regularBookingId, secretaryBookingId } from '../domain/identifiers.ts'
import { statusLabel, type BookingStatus } from '../domain/status.ts'
import { candidateDays, SEARCH_HORIZON_DAYS } from '../domain/working-days.ts'
import { bookingErrors } from '../errors.ts'
import { text } from './messages.ts'
import { bumpLane } from './versions.ts'
import { activeBookingOf, assertBookable, clinicRules, ensureDay, explainNoSeat, newDayCapacity, reserveSeat, violated, type ClinicRules, type ExistingBooking, type Seat } from './seats.ts'
import type { Lane } from './days.ts'

// A booking is one short transaction: reserve a seat (conditional UPDATE of the day row), insert the booking,
// commit. The day row's lock serializes bookings of one day; everything else runs in parallel.

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

interface Placed {
  seat: Seat
  date: string
}

// The patient app's automatic search (legacy-api.md §3.3): from today in Iraq over the next 30 calendar days, on the
// clinic's working days, the first open day with room. Unlike legacy, a patient already booked on the day the
// search reaches is told so (409 naming the booking) instead of being moved silently to the next day.
async function searchAndReserve (tx: TransactionSql, input: RegularBookingInput, rules: ClinicRules, today: string): Promise<Placed> {
  const candidates = candidateDays(today, SEARCH_HORIZON_DAYS, rules.working)
  if (candidates.length === 0) throw bookingErrors.noDaysAvailable()
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
    const seat = await reserveSeat(tx, input.clinicId, 'regular', date, true)
    if (seat !== null) return { seat, date }
  }
  throw bookingErrors.noDaysAvailable()
}

export async function bookRegular (tx: TransactionSql, input: RegularBookingInput, options: { secretaryOverbook: boolean, now?: Date }): Promise<BookingAnswer> {
  const today = iraqToday(options.now)
  const fromPatientApp = input.source === 'patient_app'
  // The clinic's rules are read only when needed: the patient app must find the clinic bookable; a secretary's
  // walk-in needs them only to create a missing day.
  let rules: ClinicRules | null = null
  const rulesOf = async (): Promise<ClinicRules> => {
    rules ??= await clinicRules(tx, input.clinicId)
    return rules
  }
  if (fromPatientApp) assertBookable(await rulesOf())

  let placed: Placed
  if (input.date === null) {
    if (!fromPatientApp) throw bookingErrors.dateRequired()
    placed = await searchAndReserve(tx, input, await rulesOf(), today)
  } else {
    const date = input.date
    if (fromPatientApp && date < today) throw bookingErrors.pastDate(date)
    const withinCapacity = fromPatientApp || !options.secretaryOverbook
    // The common case first: the day exists and has room, and one UPDATE takes the seat. Everything else (a day
    // to create, a closed or full one) is looked at only when it did not.
    let seat = await reserveSeat(tx, input.clinicId, 'regular', date, withinCapacity)
    if (seat === null) {
      // A day closed by close_table is archived: the patient app may not reopen it by booking (the secretary may,
      // for a walk-in, and create_table/add_day open it again on purpose).
      if (fromPatientApp && await onlyArchived(tx, input.clinicId, 'regular', date)) throw bookingErrors.dayClosed(date)
      const capacity = await newDayCapacity(tx, input.clinicId, 'regular', await rulesOf())
      // Try again whether this call created the day or a concurrent first booking did (it waited for that one).
      await ensureDay(tx, input.clinicId, 'regular', date, input.source, capacity)
      seat = await reserveSeat(tx, input.clinicId, 'regular', date, withinCapacity)
    }
    placed = { seat: seat ?? await explainNoSeat(tx, input.clinicId, 'regular', date), date }
  }

  const { seat, date } = placed
  const bookingId = fromPatientApp
    ? regularBookingId(input.clinicId, date, seat.seq)
    : secretaryBookingId(input.clinicId, date, seat.seq)
  // Legacy gave secretary walk-ins their 3-digit sequence as patient id; a patient-app booking without one is
  // identified by its own booking id (legacy's P-101… counter collided with real account ids P-<id>).
  const patientId = input.patientId ?? (fromPatientApp ? bookingId : String(seat.seq).padStart(3, '0'))
  // One active booking per patient and day is the index's to enforce (contract.md §2.4): a second one inserts
  // nothing, and the transaction, seat included, is rolled back by the 409.
  const inserted = await tx`
    INSERT INTO bookings (day_id, seq, token, display_id, patient_id, name, phone, source, status, secretary_id, client_created_at)
    VALUES (${seat.dayId}, ${seat.seq}, ${seat.token}, ${bookingId}, ${patientId}, ${input.name}, ${input.phone}, ${input.source},
            ${input.status}, ${fromPatientApp ? null : input.secretaryId}, ${input.createdAt})
    ON CONFLICT (day_id, patient_id) WHERE status <> 'cancelled' AND patient_id IS NOT NULL DO NOTHING
    RETURNING 1`
  if (inserted.length === 0) {
    const existing = await activeBookingOf(tx, input.clinicId, 'regular', date, patientId)
    throw bookingErrors.alreadyBooked(existing ?? { booking_id: '', date, token: 0 })
  }
  return {
    version: await bumpLane(tx, input.clinicId, 'regular'),
    body: {
      message: text.bookedAs(input.name),
      booking_id: bookingId,
      token: seat.token,
      capacity_used: seat.token,
      capacity_total: seat.capacityTotal,
      status: statusLabel(input.status),
      clinic_id: input.clinicId,
      date,
      patient_id: patientId
    }
  }
}

async function onlyArchived (tx: TransactionSql, clinicId: number, lane: Lane, date: string): Promise<boolean> {
  const [row] = await tx<Array<{ live: boolean }>>`
    SELECT bool_or(status <> 'archived') AS live FROM booking_days WHERE clinic_id = ${clinicId} AND lane = ${lane} AND day = ${date}`
  return row?.live === false
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
// 30 days from it. Missing days are created with the clinic's golden capacity. A closed golden day now refuses
// bookings (legacy ignored it), and a patient already booked is told so instead of being moved.
export async function bookGolden (tx: TransactionSql, input: GoldenBookingInput): Promise<BookingAnswer> {
  const rules = await clinicRules(tx, input.clinicId)
  assertBookable(rules)
  const horizon = input.autoAssign ? SEARCH_HORIZON_DAYS : 1
  let placed: Placed | null = null
  let capacity: number | null = null
  for (let i = 0; i < horizon && placed === null; i++) {
    const date = addDays(input.date, i)
    if (await onlyArchived(tx, input.clinicId, 'golden', date)) {
      if (!input.autoAssign) throw bookingErrors.dayClosed(date)
      continue
    }
    const existing = await activeBookingOf(tx, input.clinicId, 'golden', date, input.patientId)
    if (existing !== null) throw bookingErrors.alreadyBooked(existing)
    let seat = await reserveSeat(tx, input.clinicId, 'golden', date, true)
    if (seat === null) {
      capacity ??= await newDayCapacity(tx, input.clinicId, 'golden', rules)
      await ensureDay(tx, input.clinicId, 'golden', date, 'patient_app', capacity)
      seat = await reserveSeat(tx, input.clinicId, 'golden', date, true)
    }
    if (seat !== null) placed = { seat, date }
    else if (!input.autoAssign) await explainNoSeat(tx, input.clinicId, 'golden', date)
  }
  if (placed === null) throw bookingErrors.noDaysAvailable()
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
  if (date !== input.date) message += ` (تم الحجز في ${date} لأن ${input.date} ممتلئ)`
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
