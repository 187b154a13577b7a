import type { Sql, TransactionSql } from '../db/pool.ts'
import type { BookingStatus } from '../domain/status.ts'
import { weekdayOf } from '../domain/calendar.ts'
import type { Lane } from '../booking/days.ts'
import { estimateFor, type Figure } from './eta.ts'
import type { DayQueue } from './state.ts'

// The SQL of the live queue: a day's bookings as the waiting room sees them, and where one booking stands.

interface EntryRow {
  display_id: string
  token: number
  status: BookingStatus
  called_ms: string | null
}

interface EstimateRow {
  weekday: number
  minutes: number
  low: number
  high: number
  samples: number
}

/**
 * One day's queue of a clinic's lane, with the lane's version, the doctor's name and the clinic's service-time
 * estimate, in one snapshot (REPEATABLE READ), so the version names exactly what is rendered. Three short indexed
 * reads, whatever the number of viewers: the result is rendered once per version and shared (workers/queues.ts).
 */
export async function loadDayQueue (sql: Sql, clinicId: number, lane: Lane, date: string, defaultMinutes: number): Promise<DayQueue> {
  return await sql.begin('isolation level repeatable read read only', async (tx) => {
    const [head] = await tx<Array<{ version: string | null, doctor: string | null }>>`
      SELECT (SELECT version::text FROM lane_versions WHERE clinic_id = ${clinicId} AND lane = ${lane}) AS version,
             (SELECT name FROM clinics WHERE id = ${clinicId}) AS doctor`
    const rows = await tx<EntryRow[]>`
      SELECT b.display_id, b.token, b.status, (extract(epoch FROM b.called_at) * 1000)::bigint::text AS called_ms
      FROM bookings b JOIN booking_days d ON d.id = b.day_id
      WHERE d.clinic_id = ${clinicId} AND d.lane = ${lane} AND d.day = ${date} AND d.status <> 'archived'
      ORDER BY b.token`
    const figures = await readFigures(tx, clinicId, weekdayOf(date))
    return {
      clinicId,
      lane,
      date,
      version: Number(head?.version ?? 0),
      doctor: head?.doctor ?? null,
      estimate: estimateFor(figures.get(weekdayOf(date)), figures.get(-1), defaultMinutes),
      entries: rows.filter((row) => row.status !== 'cancelled')
        .map((row) => ({ id: row.display_id, token: row.token, status: row.status, calledAt: row.called_ms === null ? null : Number(row.called_ms) })),
      cancelled: rows.filter((row) => row.status === 'cancelled').map((row) => row.display_id)
    } satisfies DayQueue
  }) as DayQueue
}

async function readFigures (tx: TransactionSql, clinicId: number, weekday: number): Promise<Map<number, Figure>> {
  const rows = await tx<EstimateRow[]>`
    SELECT weekday, minutes, low, high, samples FROM service_estimates WHERE clinic_id = ${clinicId} AND weekday IN (${weekday}, -1)`
  return new Map(rows.map((row) => [row.weekday, { minutes: row.minutes, low: row.low, high: row.high, samples: row.samples }]))
}

export interface BookingPlace {
  clinicId: number
  lane: Lane
  date: string
  status: BookingStatus
  patientId: string | null
}

/** Where a booking (by its display id) lives: its clinic, lane and day, the newest row of that id. */
export async function bookingPlace (sql: Sql, bookingId: string): Promise<BookingPlace | null> {
  const [row] = await sql<Array<{ clinic_id: number, lane: Lane, day: string, status: BookingStatus, patient_id: string | null }>>`
    SELECT d.clinic_id, d.lane, to_char(d.day, 'YYYY-MM-DD') AS day, b.status, b.patient_id
    FROM bookings b JOIN booking_days d ON d.id = b.day_id
    WHERE b.display_id = ${bookingId}`
  return row === undefined ? null : { clinicId: row.clinic_id, lane: row.lane, date: row.day, status: row.status, patientId: row.patient_id }
}
