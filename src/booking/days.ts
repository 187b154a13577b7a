import type { Sql, TransactionSql } from '../db/pool.ts'
import { statusLabel, type BookingStatus } from '../domain/status.ts'
import { utcIso } from '../domain/calendar.ts'
import { bookingErrors, type ErrorEntry } from '../errors.ts'

// Renders a clinic's lane the way the legacy server stored it in its JSON blob: {date: {source, status,
// capacity_total, capacity_used, patients: [...]}}, sorted by date, from rows. The apps parse this shape.

export type Lane = 'regular' | 'golden'

// Whether a clinic has a live (not archived) day on a lane: what legacy called having a table.
export async function hasLiveDays (sql: Sql | TransactionSql, clinicId: number, lane: Lane): Promise<boolean> {
  const [row] = await sql`SELECT 1 FROM booking_days WHERE clinic_id = ${clinicId} AND lane = ${lane} AND status <> 'archived' LIMIT 1`
  return row !== undefined
}

// The 404 of a clinic without a table; legacy worded it per lane.
export function noTableOf (lane: Lane): ErrorEntry<[]> {
  return lane === 'golden' ? bookingErrors.noGoldenTable : bookingErrors.noTable
}

export interface BookingRow {
  day_id: string
  display_id: string
  token: number
  patient_id: string | null
  name: string
  phone: string
  source: string | null
  status: BookingStatus
  golden_code: string | null
  secretary_id: string | null
  client_created_at: string | null
  created_at: Date
}

interface DayRow {
  id: string
  day: string
  source: string
  status: 'open' | 'closed' | 'archived'
  capacity_total: number
  active_count: number
  extra: Record<string, unknown>
}

export type PatientEntry = Record<string, string | number | boolean | null>
export type DayEntry = Record<string, unknown> & { patients: PatientEntry[] }

// Regular and golden entries differ: golden ones carry the 4-digit code and no source (legacy-api.md §1.4).
export function renderPatient (row: BookingRow, lane: Lane): PatientEntry {
  const createdAt = row.client_created_at ?? utcIso(row.created_at)
  if (lane === 'golden') {
    return {
      booking_id: row.display_id,
      token: row.token,
      patient_id: row.patient_id,
      name: row.name,
      phone: row.phone,
      status: statusLabel(row.status),
      code: row.golden_code,
      created_at: createdAt
    }
  }
  const entry: PatientEntry = {
    booking_id: row.display_id,
    token: row.token,
    patient_id: row.patient_id,
    name: row.name,
    phone: row.phone,
    source: row.source,
    status: statusLabel(row.status),
    created_at: createdAt
  }
  if (row.secretary_id !== null) entry.secretary_id = row.secretary_id
  return entry
}

export interface LaneState {
  version: number
  days: Record<string, DayEntry>
  dayCount: number
}

// One consistent snapshot (REPEATABLE READ): the version names exactly the state rendered, so an ETag or an SSE
// id never labels a mix of two states.
export async function loadLane (sql: Sql, clinicId: number, lane: Lane): Promise<LaneState> {
  return await sql.begin('isolation level repeatable read read only', async (tx) => readLane(tx, clinicId, lane)) as LaneState
}

export async function readLane (tx: TransactionSql, clinicId: number, lane: Lane): Promise<LaneState> {
  const [versionRow] = await tx<Array<{ version: string | null }>>`
    SELECT version::text AS version FROM lane_versions WHERE clinic_id = ${clinicId} AND lane = ${lane}`
  const dayRows = await tx<DayRow[]>`
    SELECT id::text, to_char(day, 'YYYY-MM-DD') AS day, source, status, capacity_total, active_count, extra
    FROM booking_days
    WHERE clinic_id = ${clinicId} AND lane = ${lane} AND status <> 'archived'
    ORDER BY day`
  const bookingRows = dayRows.length === 0
    ? []
    : await tx<BookingRow[]>`
      SELECT b.day_id::text, b.display_id, b.token, b.patient_id, b.name, b.phone, b.source, b.status,
             b.golden_code, b.secretary_id, b.client_created_at, b.created_at
      FROM bookings b JOIN booking_days d ON d.id = b.day_id
      WHERE d.clinic_id = ${clinicId} AND d.lane = ${lane} AND d.status <> 'archived' AND b.status <> 'cancelled'
      ORDER BY d.day, b.token`
  const byDay = new Map<string, PatientEntry[]>()
  for (const row of bookingRows) {
    let list = byDay.get(row.day_id)
    if (list === undefined) byDay.set(row.day_id, list = [])
    list.push(renderPatient(row, lane))
  }
  const days: Record<string, DayEntry> = {}
  for (const day of dayRows) {
    // Client-sent keys first, then ours, so ours win; legacy kept them verbatim beside its own.
    days[day.day] = {
      ...day.extra,
      source: day.source,
      status: day.status,
      capacity_total: day.capacity_total,
      capacity_used: day.active_count,
      patients: byDay.get(day.id) ?? []
    }
  }
  return { version: Number(versionRow?.version ?? 0), days, dayCount: dayRows.length }
}
