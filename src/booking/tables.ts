import type { TransactionSql } from '../db/pool.ts'
import { addDays, iraqToday } from '../domain/calendar.ts'
import { bookingErrors } from '../errors.ts'
import { text } from './messages.ts'
import { clinicRules, nextSeqOfDate, statusOnDate } from './seats.ts'
import { bumpLane } from './versions.ts'
import { hasLiveDays, noTableOf, type Lane } from './days.ts'

// Creating days: create_table / create_golden_table (a set of dated days) and add_day (the next one).

// Keys the server owns; anything else a client put on a day is kept verbatim, as legacy did.
const ownKeys = new Set(['source', 'status', 'capacity_total', 'capacity_used', 'patients', 'inline_next'])

export interface PostedDay {
  source?: string
  status?: string
  capacity_total?: number
  [key: string]: unknown
}

function extraOf (day: PostedDay): Record<string, unknown> {
  const extra: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(day)) if (!ownKeys.has(key) && !key.startsWith('_archived_')) extra[key] = value
  return extra
}

// Legacy accepted any status string and acted only on "closed".
function dayStatus (status: string | undefined): 'open' | 'closed' {
  return status === 'closed' ? 'closed' : 'open'
}

export interface TableAnswer {
  body: Record<string, unknown>
  version: number | null // the lane's new version when something changed
}

// The first posted date is "the" date (legacy: the first key in insertion order). A posted day that exists is
// updated (capacity, status, extra keys); its bookings are never touched, and a posted `patients` list is ignored:
// bookings are made through the booking routes only.
export async function createTable (tx: TransactionSql, lane: Lane, clinicId: number, days: Array<[string, PostedDay]>): Promise<TableAnswer> {
  const first = days[0]
  if (first === undefined) throw bookingErrors.daysEmpty()
  const [firstDate, firstDay] = first
  const rules = await clinicRules(tx, clinicId)
  let capacity = firstDay.capacity_total ?? null
  if (capacity === null) {
    capacity = lane === 'golden' ? rules.goldenCapacity : rules.capacity
    if (capacity === null) throw bookingErrors.capacityUnknown()
  }
  if (lane === 'regular' && await hasLiveDays(tx, clinicId, lane)) {
    const [existing] = await tx<Array<{ capacity_total: number }>>`
      SELECT capacity_total FROM booking_days WHERE clinic_id = ${clinicId} AND lane = ${lane} AND day = ${firstDate} AND status <> 'archived'`
    if (existing !== undefined) {
      return { version: null, body: { status: text.exists, message: `date already exists: ${firstDate}`, capacity_total: existing.capacity_total } }
    }
  }
  // Day rows are locked in date order, as every other multi-day writer locks them: two overlapping create_table
  // calls posting their days in different orders cannot deadlock.
  for (const [date, day] of [...days].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    const dayCapacity = day.capacity_total ?? capacity
    // A date closed by close_table stays closed (only reopen_table opens it); the status a client posts for any
    // other day is stored, as legacy overwrote it.
    const posted = dayStatus(day.status)
    await tx`
      INSERT INTO booking_days (clinic_id, lane, day, source, status, capacity_total, extra, next_seq)
      VALUES (${clinicId}, ${lane}, ${date}, ${day.source ?? 'patient_app'}, ${statusOnDate(tx, clinicId, lane, date, posted)}, ${dayCapacity},
              ${tx.json(extraOf(day) as never)}, ${nextSeqOfDate(tx, clinicId, lane, date)})
      ON CONFLICT (clinic_id, lane, day) WHERE status <> 'archived' DO UPDATE
        SET source = EXCLUDED.source, capacity_total = EXCLUDED.capacity_total, extra = EXCLUDED.extra, updated_at = now(),
            status = CASE WHEN booking_days.status = 'closed' THEN ${statusOnDate(tx, clinicId, lane, date, posted)} ELSE ${posted}::day_status END`
  }
  return { version: await bumpLane(tx, clinicId, lane), body: { status: text.created, message: `تم انشاء القائمة بهذا التاريخ: ${firstDate}`, capacity_total: capacity } }
}

export interface AddDayInput {
  clinicId: number
  date: string | null
  capacityTotal: number | null
  status: string | undefined
  forceAdd: boolean
}

export async function addDay (tx: TransactionSql, input: AddDayInput): Promise<TableAnswer> {
  const { clinicId } = input
  if (!await hasLiveDays(tx, clinicId, 'regular')) {
    const [any] = await tx`SELECT 1 FROM booking_days WHERE clinic_id = ${clinicId} AND lane = 'regular' LIMIT 1`
    if (any === undefined) throw bookingErrors.noTable()
    if (input.date === null) throw bookingErrors.noDaysYet()
  }
  let date = input.date
  let capacity = input.capacityTotal
  if (date === null) {
    const [last] = await tx<Array<{ day: string, active_count: number, capacity_total: number }>>`
      SELECT to_char(day, 'YYYY-MM-DD') AS day, active_count, capacity_total FROM booking_days
      WHERE clinic_id = ${clinicId} AND lane = 'regular' AND status <> 'archived' ORDER BY day DESC LIMIT 1`
    if (last === undefined) throw bookingErrors.noDaysYet()
    if (last.active_count < last.capacity_total && !input.forceAdd) {
      return {
        version: null,
        body: { status: text.rejected, message: `last day ${last.day} not full yet (${last.active_count}/${last.capacity_total})`, date_added: null }
      }
    }
    date = addDays(last.day, 1)
    capacity ??= last.capacity_total
  } else if (capacity === null) {
    // Legacy: the latest day's capacity; we fall back on the clinic's own before refusing.
    const [last] = await tx<Array<{ capacity_total: number }>>`
      SELECT capacity_total FROM booking_days WHERE clinic_id = ${clinicId} AND lane = 'regular' ORDER BY day DESC LIMIT 1`
    capacity = last?.capacity_total ?? (await clinicRules(tx, clinicId)).capacity ?? 0
  }
  if (capacity <= 0) throw bookingErrors.capacityInvalid()
  const wanted = dayStatus(input.status)
  const [inserted] = await tx<Array<{ status: 'open' | 'closed' }>>`
    INSERT INTO booking_days (clinic_id, lane, day, source, status, capacity_total, next_seq)
    VALUES (${clinicId}, 'regular', ${date}, 'patient_app', ${statusOnDate(tx, clinicId, 'regular', date, wanted)}, ${capacity},
            ${nextSeqOfDate(tx, clinicId, 'regular', date)})
    ON CONFLICT (clinic_id, lane, day) WHERE status <> 'archived' DO NOTHING
    RETURNING status`
  if (inserted === undefined) return { version: null, body: { status: text.exists, date_added: date } }
  // A date close_table closed gets its day closed, whatever was asked: said so, rather than "added" alone, since
  // the patient app would be refused on it (only reopen_table opens it).
  const message = inserted.status === 'closed' && wanted === 'open' ? `${text.dayAddedClosed}: ${date}` : `${text.dayAdded}: ${date}`
  return { version: await bumpLane(tx, clinicId, 'regular'), body: { status: text.created, message, date_added: date } }
}

export interface ReopenAnswer {
  reopened: boolean // false: the day was open already, nothing changed
  capacityTotal: number
  version: number | null
}

// reopen_table / reopen_table_gold (ours, no legacy counterpart): the one way a closed day takes patient-app
// bookings again. A live closed day (closed by its status, or a walk-in's day on a date close_table closed) is set
// open; a date whose only day close_table archived gets a new open day with that day's capacity, continuing its
// booking ids. What was archived stays archived: the next close or the nightly archive adds to it (archive.ts).
export async function reopenDay (tx: TransactionSql, clinicId: number, lane: Lane, date: string, now?: Date): Promise<ReopenAnswer> {
  if (date < iraqToday(now)) throw bookingErrors.pastDate(date)
  // Twice at most: a concurrent booking or reopen may create the date's day between the two statements below.
  for (let attempt = 0; attempt < 2; attempt++) {
    const [live] = await tx<Array<{ id: string, status: string, capacity_total: number }>>`
      SELECT id::text, status, capacity_total FROM booking_days
      WHERE clinic_id = ${clinicId} AND lane = ${lane} AND day = ${date} AND status <> 'archived'
      FOR UPDATE`
    if (live !== undefined) {
      if (live.status === 'open') return { reopened: false, capacityTotal: live.capacity_total, version: null }
      await tx`UPDATE booking_days SET status = 'open', updated_at = now() WHERE id = ${live.id}`
      return { reopened: true, capacityTotal: live.capacity_total, version: await bumpLane(tx, clinicId, lane) }
    }
    const [archived] = await tx<Array<{ capacity_total: number }>>`
      SELECT capacity_total FROM booking_days
      WHERE clinic_id = ${clinicId} AND lane = ${lane} AND day = ${date} AND status = 'archived' ORDER BY id DESC LIMIT 1`
    if (archived === undefined) {
      const [any] = await tx`SELECT 1 FROM booking_days WHERE clinic_id = ${clinicId} AND lane = ${lane} LIMIT 1`
      throw any === undefined ? noTableOf(lane)() : bookingErrors.dateNotFound()
    }
    const [created] = await tx`
      INSERT INTO booking_days (clinic_id, lane, day, source, status, capacity_total, next_seq)
      VALUES (${clinicId}, ${lane}, ${date}, 'patient_app', 'open', ${archived.capacity_total}, ${nextSeqOfDate(tx, clinicId, lane, date)})
      ON CONFLICT (clinic_id, lane, day) WHERE status <> 'archived' DO NOTHING
      RETURNING 1`
    if (created !== undefined) return { reopened: true, capacityTotal: archived.capacity_total, version: await bumpLane(tx, clinicId, lane) }
  }
  throw bookingErrors.dateNotFound() // unreachable: the second pass finds the day the first one lost to
}
