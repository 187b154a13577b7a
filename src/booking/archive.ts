import type { Sql, TransactionSql } from '../db/pool.ts'
import { iraqToday } from '../domain/calendar.ts'
import { log } from '../log.ts'
import { bookingErrors } from '../errors.ts'
import { hasLiveDays, noTableOf, renderPatient, type BookingRow, type Lane, type PatientEntry } from './days.ts'
import { statusLabel } from '../domain/status.ts'
import { bumpLane } from './versions.ts'

const SERVED = statusLabel('served')
const CANCELLED = statusLabel('cancelled')

// Archiving a day is a state change of its row plus a frozen summary in day_archives, in one transaction: a crash
// leaves the day either live or archived, never half (legacy's close_table took three commits).

interface DayForArchive {
  id: string
  day: string
  capacity_total: number
}

async function lockDay (tx: TransactionSql, clinicId: number, lane: Lane, date: string): Promise<DayForArchive> {
  const [day] = await tx<DayForArchive[]>`
    SELECT id::text, to_char(day, 'YYYY-MM-DD') AS day, capacity_total FROM booking_days
    WHERE clinic_id = ${clinicId} AND lane = ${lane} AND day = ${date} AND status <> 'archived'
    FOR UPDATE`
  if (day !== undefined) return day
  if (!await hasLiveDays(tx, clinicId, lane)) throw noTableOf(lane)()
  throw bookingErrors.dateNotFound()
}

async function activeBookings (tx: TransactionSql, dayId: string): Promise<BookingRow[]> {
  return await tx<BookingRow[]>`
    SELECT day_id::text, display_id, token, patient_id, name, phone, source, status, golden_code, secretary_id,
           client_created_at, created_at
    FROM bookings WHERE day_id = ${dayId} AND status <> 'cancelled' ORDER BY token`
}

interface Summary {
  capacity_total: number
  capacity_served: number | null
  capacity_cancelled: number | null
  patients: PatientEntry[]
}

// Legacy counted the served and the cancelled entries of the list it archived (a booking cancelled earlier through
// an edit had already left that list); the counts follow the archived list, so they always add up with it.
function counts (patients: PatientEntry[]): { served: number, cancelled: number } {
  let served = 0
  let cancelled = 0
  for (const patient of patients) {
    if (patient.status === SERVED) served++
    else if (patient.status === CANCELLED) cancelled++
  }
  return { served, cancelled }
}

// One archive per clinic, lane and date, and it is complete: a date closed, then given walk-ins (or reopened) and
// closed or archived again, has every booking of both in its one archive. `merge` adds the day's entries to an
// archive already there (an entry with the same booking_id is replaced by the day's, which is newer; entries only
// the archive has are kept, with their order) and recounts; `replace` writes save_table's archive from a list the
// client sent, as legacy's did. Returns true when the archive row was created.
const ARCHIVE_LOCK = 0x7a6267

async function writeArchive (tx: TransactionSql, clinicId: number, lane: Lane, date: string, summary: Summary, mode: 'merge' | 'replace'): Promise<boolean> {
  // Two writers of one date (a close and the nightly run, a save_table) take turns: the merge reads what it adds to.
  await tx`SELECT pg_advisory_xact_lock(${ARCHIVE_LOCK}, hashtext(${`${clinicId}:${lane}:${date}`}))`
  let written = summary
  if (mode === 'merge') {
    const [existing] = await tx<Array<{ patients: unknown }>>`
      SELECT patients FROM day_archives WHERE clinic_id = ${clinicId} AND lane = ${lane} AND day = ${date}`
    if (existing !== undefined && Array.isArray(existing.patients)) {
      const patients = mergeEntries(existing.patients as PatientEntry[], summary.patients)
      const { served, cancelled } = counts(patients)
      written = { capacity_total: summary.capacity_total, capacity_served: served, capacity_cancelled: cancelled, patients }
    }
  }
  // Sent as text and cast to json (not jsonb), so each entry keeps its key order on the wire; the ::text keeps the
  // driver from encoding the already-encoded string a second time.
  const patients = JSON.stringify(written.patients)
  const [row] = await tx<Array<{ created: boolean }>>`
    INSERT INTO day_archives (clinic_id, lane, day, capacity_total, capacity_served, capacity_cancelled, patients)
    VALUES (${clinicId}, ${lane}, ${date}, ${written.capacity_total}, ${written.capacity_served}, ${written.capacity_cancelled}, ${patients}::text::json)
    ON CONFLICT (clinic_id, lane, day) DO UPDATE
      SET capacity_total = EXCLUDED.capacity_total, capacity_served = EXCLUDED.capacity_served,
          capacity_cancelled = EXCLUDED.capacity_cancelled, patients = EXCLUDED.patients, updated_at = now()
    RETURNING (xmax = 0) AS created`
  return row?.created ?? false
}

function mergeEntries (archived: PatientEntry[], day: PatientEntry[]): PatientEntry[] {
  const fresh = new Map<unknown, PatientEntry>()
  for (const entry of day) fresh.set(entry.booking_id, entry)
  const merged = archived.map((entry) => {
    const newer = typeof entry.booking_id === 'string' ? fresh.get(entry.booking_id) : undefined
    if (newer === undefined) return entry
    fresh.delete(entry.booking_id)
    return newer
  })
  return [...merged, ...fresh.values()]
}

async function retireDay (tx: TransactionSql, dayId: string): Promise<void> {
  await tx`
    UPDATE booking_days
    SET status = 'archived', updated_at = now(),
        active_count = (SELECT count(*) FROM bookings WHERE day_id = ${dayId} AND status <> 'cancelled')
    WHERE id = ${dayId}`
}

export interface ArchiveResult {
  version: number
  removedAll: boolean
  created: boolean
}

// close_table / close_table_gold (legacy-api.md §3.7): every booking not served is cancelled, the day is frozen
// into its archive (added to an earlier archive of the date: writeArchive) and leaves the live table.
export async function closeDay (tx: TransactionSql, clinicId: number, lane: Lane, date: string): Promise<ArchiveResult> {
  const day = await lockDay(tx, clinicId, lane, date)
  const before = await activeBookings(tx, day.id)
  await tx`UPDATE bookings SET status = 'cancelled', updated_at = now() WHERE day_id = ${day.id} AND status NOT IN ('served', 'cancelled')`
  const patients = before.map((row) => renderPatient({ ...row, status: row.status === 'served' ? 'served' : 'cancelled' }, lane))
  const { served, cancelled } = counts(patients)
  const created = await writeArchive(tx, clinicId, lane, date, { capacity_total: day.capacity_total, capacity_served: served, capacity_cancelled: cancelled, patients }, 'merge')
  await retireDay(tx, day.id)
  return { version: await bumpLane(tx, clinicId, lane), removedAll: !await hasLiveDays(tx, clinicId, lane), created }
}

export interface ManualArchive {
  capacityTotal: number | null
  capacityServed: number | null
  capacityCancelled: number | null
  patients: PatientEntry[] | null
}

// save_table / save_table_gold (§3.8): a manual archive of a day. Whatever the client did not send is taken from
// the live day; when it sent both capacity_total and patients, missing counts stay null (legacy). The regular day
// stays live; the golden one leaves the table (`retire`). A list the client sent replaces the archive, as legacy's
// did; the live day's own list is added to it (writeArchive), so a date reopened after a close keeps both sessions.
export async function saveDay (tx: TransactionSql, clinicId: number, lane: Lane, date: string, input: ManualArchive, retire: boolean): Promise<ArchiveResult> {
  const complete = input.capacityTotal !== null && input.patients !== null
  let summary: Summary
  let dayId: string | null = null
  if (complete && !retire) {
    summary = { capacity_total: input.capacityTotal as number, capacity_served: input.capacityServed, capacity_cancelled: input.capacityCancelled, patients: input.patients as PatientEntry[] }
  } else {
    const day = await lockDay(tx, clinicId, lane, date)
    dayId = day.id
    const patients = input.patients ?? (await activeBookings(tx, day.id)).map((row) => renderPatient(row, lane))
    const live = counts(patients)
    summary = {
      capacity_total: input.capacityTotal ?? day.capacity_total,
      capacity_served: input.capacityServed ?? (complete ? null : live.served),
      capacity_cancelled: input.capacityCancelled ?? (complete ? null : live.cancelled),
      patients
    }
  }
  const created = await writeArchive(tx, clinicId, lane, date, summary, input.patients === null ? 'merge' : 'replace')
  let version = 0
  if (retire && dayId !== null) {
    await retireDay(tx, dayId)
    version = await bumpLane(tx, clinicId, lane)
  }
  return { version, removedAll: retire && !await hasLiveDays(tx, clinicId, lane), created }
}

export interface ArchiveItem {
  table_date: string
  capacity_total: number
  capacity_served: number | null
  capacity_cancelled: number | null
  patients: PatientEntry[]
}

export async function listArchives (sql: Sql, clinicId: number, lane: Lane, from: string | null, to: string | null, limit: number): Promise<ArchiveItem[]> {
  return await sql<ArchiveItem[]>`
    SELECT to_char(day, 'YYYY-MM-DD') AS table_date, capacity_total, capacity_served, capacity_cancelled, patients
    FROM day_archives
    WHERE clinic_id = ${clinicId} AND lane = ${lane}
      AND (${from}::date IS NULL OR day >= ${from}::date) AND (${to}::date IS NULL OR day <= ${to}::date)
    ORDER BY day DESC
    LIMIT ${limit}`
}

// The nightly archive (legacy: 00:00 Asia/Baghdad): every live day before today (Iraq) is frozen as it stands,
// added to the date's archive when one exists (a close, then walk-ins; a save_table, then more bookings), one
// transaction per clinic. A second runner at the same time (another
// instance's coordinator, or a re-run) waits on the clinic's advisory lock, then finds nothing left to archive.
const NIGHTLY_LOCK = 0x7a6266

export interface NightlyResult {
  clinics: number
  days: number
  changes: Array<{ clinicId: number, lane: Lane, version: number }>
}

export async function archivePastDays (sql: Sql, now: Date = new Date()): Promise<NightlyResult> {
  const today = iraqToday(now)
  const result: NightlyResult = { clinics: 0, days: 0, changes: [] }
  const clinics = await sql<Array<{ clinic_id: number }>>`
    SELECT DISTINCT clinic_id FROM booking_days WHERE day < ${today} AND status <> 'archived' ORDER BY clinic_id`
  for (const { clinic_id: clinicId } of clinics) {
    try {
      const archived = await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${NIGHTLY_LOCK}, ${clinicId})`
        const days = await tx<Array<{ id: string, lane: Lane, day: string, capacity_total: number }>>`
          SELECT id::text, lane, to_char(day, 'YYYY-MM-DD') AS day, capacity_total FROM booking_days
          WHERE clinic_id = ${clinicId} AND day < ${today} AND status <> 'archived'
          ORDER BY lane, day FOR UPDATE`
        const lanes = new Set<Lane>()
        for (const day of days) {
          const patients = (await activeBookings(tx, day.id)).map((row) => renderPatient(row, day.lane))
          const { served, cancelled } = counts(patients)
          await writeArchive(tx, clinicId, day.lane, day.day, { capacity_total: day.capacity_total, capacity_served: served, capacity_cancelled: cancelled, patients }, 'merge')
          await retireDay(tx, day.id)
          lanes.add(day.lane)
        }
        const changes: NightlyResult['changes'] = []
        for (const lane of lanes) changes.push({ clinicId, lane, version: await bumpLane(tx, clinicId, lane) })
        return { changes, days: days.length }
      })
      if (archived.days > 0) result.clinics++
      result.days += archived.days
      result.changes.push(...archived.changes)
    } catch (error) {
      // One clinic's failure rolls back that clinic only; its days stay live and the next run retries them.
      log.error('nightly archive failed for a clinic', { clinicId, error: error instanceof Error ? error.message : String(error) })
    }
  }
  return result
}
