import type { TransactionSql } from '../db/pool.ts'
import { addDays } from '../domain/calendar.ts'
import { bookingErrors } from '../errors.ts'
import { text } from './messages.ts'
import { clinicRules, nextSeqOfDate } from './seats.ts'
import { bumpLane } from './versions.ts'
import { hasLiveDays, type Lane } from './days.ts'

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
    await tx`
      INSERT INTO booking_days (clinic_id, lane, day, source, status, capacity_total, extra, next_seq)
      VALUES (${clinicId}, ${lane}, ${date}, ${day.source ?? 'patient_app'}, ${dayStatus(day.status)}, ${dayCapacity},
              ${tx.json(extraOf(day) as never)}, ${nextSeqOfDate(tx, clinicId, lane, date)})
      ON CONFLICT (clinic_id, lane, day) WHERE status <> 'archived' DO UPDATE
        SET source = EXCLUDED.source, status = EXCLUDED.status, capacity_total = EXCLUDED.capacity_total,
            extra = EXCLUDED.extra, updated_at = now()`
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
  const [inserted] = await tx`
    INSERT INTO booking_days (clinic_id, lane, day, source, status, capacity_total, next_seq)
    VALUES (${clinicId}, 'regular', ${date}, 'patient_app', ${dayStatus(input.status)}, ${capacity}, ${nextSeqOfDate(tx, clinicId, 'regular', date)})
    ON CONFLICT (clinic_id, lane, day) WHERE status <> 'archived' DO NOTHING
    RETURNING 1`
  if (inserted === undefined) return { version: null, body: { status: text.exists, date_added: date } }
  return { version: await bumpLane(tx, clinicId, 'regular'), body: { status: text.created, message: `${text.dayAdded}: ${date}`, date_added: date } }
}
