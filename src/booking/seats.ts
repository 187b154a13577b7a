import type { Fragment, Queryable, TransactionSql } from '../db/pool.ts'
import { workingDaysOfProfile } from '../domain/working-days.ts'
import { DEFAULT_GOLDEN_CAPACITY, DEFAULT_REGULAR_CAPACITY } from '../domain/queue.ts'
import { ApiError, bookingErrors } from '../errors.ts'
import type { Lane } from './days.ts'

// Seats: creating a clinic's days and reserving a place in one. The reservation is one conditional UPDATE on the
// day row (architecture.md §3): it either takes a seat and a sequence number atomically or returns nothing, so no
// interleaving of workers or instances can overbook a day or hand out one token twice.

export interface ClinicRules {
  known: boolean
  active: boolean
  closed: boolean
  capacity: number | null // receiving_patients
  goldenCapacity: number
  working: Set<number> | null
}

interface RulesRow { status: string, is_closed: boolean, receiving_patients: number | null, golden_capacity: number, profile: unknown }

const RULES_COLUMNS = 'status, is_closed, receiving_patients, golden_capacity, profile'

export async function clinicRules (tx: TransactionSql, clinicId: number): Promise<ClinicRules> {
  const [row] = await tx<RulesRow[]>`SELECT ${tx.unsafe(RULES_COLUMNS)} FROM clinics WHERE id = ${clinicId}`
  return rulesOf(row)
}

function rulesOf (row: RulesRow | undefined): ClinicRules {
  if (row === undefined) {
    return { known: false, active: true, closed: false, capacity: null, goldenCapacity: DEFAULT_GOLDEN_CAPACITY, working: null }
  }
  return {
    known: true,
    active: row.status === 'active',
    closed: row.is_closed,
    capacity: row.receiving_patients,
    goldenCapacity: row.golden_capacity,
    working: workingDaysOfProfile(row.profile)
  }
}

// The patient app books only where the clinic takes bookings (contract.md §2.3); the secretary app books walk-ins.
export function assertBookable (rules: ClinicRules): void {
  if (!rules.active) throw bookingErrors.doctorInactive()
  if (rules.closed) throw bookingErrors.clinicClosed()
}

// Capacity of a day created on the fly: the clinic's own daily capacity, else the latest day's, else the default.
export async function newDayCapacity (tx: TransactionSql, clinicId: number, lane: Lane, rules: ClinicRules): Promise<number> {
  if (lane === 'golden') return rules.goldenCapacity
  if (rules.capacity !== null) return rules.capacity
  const [last] = await tx<Array<{ capacity_total: number }>>`
    SELECT capacity_total FROM booking_days WHERE clinic_id = ${clinicId} AND lane = ${lane} ORDER BY day DESC LIMIT 1`
  return last?.capacity_total ?? DEFAULT_REGULAR_CAPACITY
}

// Only on the path where a reservation found no day: on a busy day this INSERT would queue for the day row's lock
// a second time (measured: it doubled the wait of every booking of a hot day).
// A date whose day was closed by close_table (archived) stays closed: the day a walk-in creates on it again starts
// closed, with the closed day's capacity, so the patient app is still refused and the walk-ins are archived with
// the date. Only reopen_table opens it (src/booking/tables.ts).
export async function ensureDay (tx: TransactionSql, clinicId: number, lane: Lane, date: string, source: string, capacity: number): Promise<void> {
  await tx`
    INSERT INTO booking_days (clinic_id, lane, day, source, status, capacity_total, next_seq)
    VALUES (${clinicId}, ${lane}, ${date}, ${source}, ${statusOnDate(tx, clinicId, lane, date, 'open')},
            coalesce(${closedCapacity(tx, clinicId, lane, date)}, ${capacity}), ${nextSeqOfDate(tx, clinicId, lane, date)})
    ON CONFLICT (clinic_id, lane, day) WHERE status <> 'archived' DO NOTHING`
}

// The status of a day created on `date`: closed when close_table archived a day of that date, else the one asked for.
export function statusOnDate (tx: TransactionSql, clinicId: number, lane: Lane, date: string, wanted: 'open' | 'closed') {
  return tx`(CASE WHEN EXISTS (SELECT 1 FROM booking_days a WHERE a.clinic_id = ${clinicId} AND a.lane = ${lane} AND a.day = ${date} AND a.status = 'archived')
    THEN 'closed' ELSE ${wanted} END)::day_status`
}

// The capacity of the latest archived day of a date, or NULL when none was archived.
export function closedCapacity (tx: TransactionSql, clinicId: number, lane: Lane, date: string) {
  return tx`(SELECT a.capacity_total FROM booking_days a WHERE a.clinic_id = ${clinicId} AND a.lane = ${lane} AND a.day = ${date} AND a.status = 'archived' ORDER BY a.id DESC LIMIT 1)`
}

export interface DateState {
  live: boolean // a day of the date is in the table (open or closed)
  closed: boolean // close_table archived a day of the date
}

export async function dateState (tx: TransactionSql, clinicId: number, lane: Lane, date: string): Promise<DateState> {
  const [row] = await tx<Array<{ live: boolean, closed: boolean }>>`
    SELECT coalesce(bool_or(status <> 'archived'), false) AS live, coalesce(bool_or(status = 'archived'), false) AS closed
    FROM booking_days WHERE clinic_id = ${clinicId} AND lane = ${lane} AND day = ${date}`
  return { live: row?.live === true, closed: row?.closed === true }
}

// A day opened again on a date whose earlier day was archived continues that day's sequence: booking ids are
// unique for good, and the archived day's bookings keep theirs.
export function nextSeqOfDate (tx: TransactionSql, clinicId: number, lane: Lane, date: string) {
  return tx`coalesce((SELECT max(d.next_seq) FROM booking_days d WHERE d.clinic_id = ${clinicId} AND d.lane = ${lane} AND d.day = ${date}), 1)`
}

export interface Seat {
  dayId: string
  seq: number
  token: number // the new booking's place: the day's active count after the reservation
  capacityTotal: number
}

// Who takes a seat: the patient app only on an open day with room; the secretary's walk-in on any live day, a closed
// one included (the patient is at the desk), within capacity or past it (SECRETARY_OVERBOOK=allow). An overbooked
// seat is still counted, so it shows in capacity_used.
export type SeatRule = 'patient' | 'walk-in' | 'walk-in-overbook'

export async function reserveSeat (tx: TransactionSql, clinicId: number, lane: Lane, date: string, rule: SeatRule): Promise<Seat | null> {
  const [row] = await tx<SeatRow[]>`${takeSeat(tx, clinicId, lane, date, admitted(tx, rule))}`
  return seatOf(row)
}

// The day rows a rule may take a seat on.
export function admitted (tx: Queryable, rule: SeatRule): Fragment {
  return rule === 'patient'
    ? tx`status = 'open' AND active_count < capacity_total`
    : rule === 'walk-in' ? tx`status <> 'archived' AND active_count < capacity_total` : tx`status <> 'archived'`
}

interface SeatRow { id: string, seq: number, token: number, capacity_total: number }

export function takeSeat (tx: Queryable, clinicId: number, lane: Lane, date: string, admits: Fragment) {
  return tx`
    UPDATE booking_days
    SET active_count = active_count + 1, next_seq = next_seq + 1, updated_at = now()
    WHERE clinic_id = ${clinicId} AND lane = ${lane} AND day = ${date} AND ${admits}
    RETURNING id::text, next_seq - 1 AS seq, active_count AS token, capacity_total`
}

function seatOf (row: SeatRow | null | undefined): Seat | null {
  if (row === undefined || row === null) return null
  return { dayId: row.id, seq: row.seq, token: row.token, capacityTotal: row.capacity_total }
}

// The patient app's common case in one statement instead of two: the clinic's rules, and a seat on the date's open
// day if the clinic takes bookings (a booking's CPU on this VM is mostly round trips: docs/BENCHMARKS.md). The seat
// is taken only where assertBookable would pass, so a refused clinic changes nothing.
export async function reserveBookableSeat (tx: TransactionSql, clinicId: number, lane: Lane, date: string): Promise<{ rules: ClinicRules, seat: Seat | null }> {
  const admits = tx`${admitted(tx, 'patient')} AND NOT EXISTS (SELECT 1 FROM rules WHERE ${refusesBookings(tx, 'rules')})`
  const [row] = await tx<Array<{ rules: RulesRow | null, seat: SeatRow | null }>>`
    WITH rules AS (SELECT ${tx.unsafe(RULES_COLUMNS)} FROM clinics WHERE id = ${clinicId}),
    seat AS (${takeSeat(tx, clinicId, lane, date, admits)})
    SELECT (SELECT to_jsonb(rules) FROM rules) AS rules, (SELECT to_jsonb(seat) FROM seat) AS seat`
  return { rules: rulesOf(row?.rules ?? undefined), seat: seatOf(row?.seat) }
}

// The clinic row `table` (of clinics' columns) refuses patient-app bookings: assertBookable's rule, in SQL.
export function refusesBookings (sql: Queryable, table: string): Fragment {
  return sql`${sql(table)}.status <> 'active' OR ${sql(table)}.is_closed`
}

// A full day's refusal, with the lane's version as of the reading that found it full: the worker refuses the day's
// next patient-app bookings from memory until it hears of a newer change of the lane (workers/full-days.ts). The day
// row and the version are read by one statement, so from one snapshot; a write that frees a seat bumps the version
// in its own transaction (src/booking/versions.ts), so such a write not in the snapshot has a newer version.
export class DayFull extends ApiError {
  constructor (readonly date: string, readonly active: number, readonly capacity: number, readonly version: number) {
    const error = bookingErrors.dayFull(date, active, capacity)
    super(error.status, error.code, error.message, error.body, error.headers)
  }
}

// Why a reservation found no seat, in the words the client needs.
export async function noSeatError (tx: TransactionSql, clinicId: number, lane: Lane, date: string): Promise<ApiError> {
  const [day] = await tx<Array<{ status: string, active_count: number, capacity_total: number, version: string | null }>>`
    SELECT status, active_count, capacity_total,
      (SELECT version::text FROM lane_versions WHERE clinic_id = ${clinicId} AND lane = ${lane}) AS version
    FROM booking_days
    WHERE clinic_id = ${clinicId} AND lane = ${lane} AND day = ${date}
    ORDER BY (status = 'archived'), id DESC LIMIT 1`
  if (day === undefined) return bookingErrors.dateNotFound()
  // Only archived days left means a close_table took the day between the caller's reading and this one: the date
  // is closed to new bookings, as patientMayOpen would have said a moment later.
  if (day.status === 'archived' || day.status === 'closed') return bookingErrors.dayClosed(date)
  // A seat freed between the reservation and this reading: the answer stands, but it is no fact to learn.
  if (day.active_count < day.capacity_total) return bookingErrors.dayFull(date, day.active_count, day.capacity_total)
  return new DayFull(date, day.active_count, day.capacity_total, Number(day.version ?? 0))
}

export async function explainNoSeat (tx: TransactionSql, clinicId: number, lane: Lane, date: string): Promise<never> {
  throw await noSeatError(tx, clinicId, lane, date)
}

export interface ExistingBooking {
  booking_id: string
  date: string
  token: number
}

export async function activeBookingOf (tx: Queryable, clinicId: number, lane: Lane, date: string, patientId: string): Promise<ExistingBooking | null> {
  const [row] = await tx<ExistingBooking[]>`
    SELECT b.display_id AS booking_id, to_char(d.day, 'YYYY-MM-DD') AS date, b.token
    FROM bookings b JOIN booking_days d ON d.id = b.day_id
    WHERE d.clinic_id = ${clinicId} AND d.lane = ${lane} AND d.day = ${date} AND d.status <> 'archived'
      AND b.patient_id = ${patientId} AND b.status <> 'cancelled'`
  return row ?? null
}

// Postgres' unique and exclusion violations, by constraint: the database's guard answered, not ours.
export function violated (error: unknown, constraint: string): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, constraint_name: name } = error as { code?: unknown, constraint_name?: unknown }
  return (code === '23505' || code === '23P01') && name === constraint
}
