import type { Sql } from '../db/pool.ts'
import { addDays, iraqToday, weekdayOf } from '../domain/calendar.ts'
import { bumpLane } from '../booking/versions.ts'
import type { Lane } from '../booking/days.ts'
import { HISTORY_DAYS, clinicFigures, type CalledDay, type Figure } from './eta.ts'

// The clinics' service-time figures (src/queue/eta.ts), recomputed by the coordinator (coordinator/jobs.ts), never
// on a request: one read of the calls of the last HISTORY_DAYS days, the figures in memory, one upsert. A clinic
// whose figure for today moved gets a new version of today's live lanes, so the places and expected times on every
// phone follow without waiting for the queue to move.

// A change smaller than this is noise on a phone that shows whole minutes.
const MOVED_MINUTES = 0.5

export interface EstimateRun {
  clinics: number
  figures: number
  changes: Array<{ lane: Lane, clinicId: number, version: number }>
}

export async function recomputeEstimates (sql: Sql, now: Date = new Date()): Promise<EstimateRun> {
  const today = iraqToday(now)
  const since = addDays(today, -HISTORY_DAYS)
  // Both lanes together: one doctor sees the regular and the golden queue in turn.
  const rows = await sql<Array<{ clinic_id: number, day: string, calls: string[] }>>`
    SELECT d.clinic_id, to_char(d.day, 'YYYY-MM-DD') AS day,
           array_agg((extract(epoch FROM b.called_at) * 1000)::bigint::text ORDER BY b.called_at) AS calls
    FROM bookings b JOIN booking_days d ON d.id = b.day_id
    WHERE b.called_at IS NOT NULL AND d.day BETWEEN ${since} AND ${today}
    GROUP BY d.clinic_id, d.day`
  const byClinic = new Map<number, CalledDay[]>()
  for (const row of rows) {
    let days = byClinic.get(row.clinic_id)
    if (days === undefined) byClinic.set(row.clinic_id, days = [])
    days.push({ weekday: weekdayOf(row.day), calls: row.calls.map(Number) })
  }
  const figures: Array<{ clinic_id: number, weekday: number } & Figure> = []
  for (const [clinicId, days] of byClinic) {
    for (const [weekday, figure] of clinicFigures(days)) figures.push({ clinic_id: clinicId, weekday, ...figure })
  }

  const todayWeekday = weekdayOf(today)
  const before = await sql<Array<{ clinic_id: number, weekday: number, minutes: number }>>`
    SELECT clinic_id, weekday, minutes FROM service_estimates WHERE weekday IN (${todayWeekday}, -1)`
  const todayFigure = (list: Array<{ clinic_id: number, weekday: number, minutes: number }>, clinicId: number): number | null => {
    const mine = list.filter((f) => f.clinic_id === clinicId)
    return (mine.find((f) => f.weekday === todayWeekday) ?? mine.find((f) => f.weekday === -1))?.minutes ?? null
  }

  await sql.begin(async (tx) => {
    await tx`DELETE FROM service_estimates`
    if (figures.length > 0) {
      await tx`INSERT INTO service_estimates ${tx(figures.map((f) => ({ ...f, computed_at: now })), 'clinic_id', 'weekday', 'minutes', 'low', 'high', 'samples', 'computed_at')}`
    }
  })

  const moved = new Set<number>()
  for (const clinicId of new Set([...byClinic.keys(), ...before.map((b) => b.clinic_id)])) {
    const was = todayFigure(before, clinicId)
    const is = todayFigure(figures, clinicId)
    if (was === null && is === null) continue
    if (was === null || is === null || Math.abs(was - is) >= MOVED_MINUTES) moved.add(clinicId)
  }
  const changes: EstimateRun['changes'] = []
  for (const clinicId of moved) {
    const lanes = await sql<Array<{ lane: Lane }>>`
      SELECT DISTINCT lane FROM booking_days WHERE clinic_id = ${clinicId} AND day = ${today} AND status <> 'archived'`
    for (const { lane } of lanes) {
      const version = await sql.begin(async (tx) => await bumpLane(tx, clinicId, lane)) as number
      changes.push({ lane, clinicId, version })
    }
  }
  return { clinics: byClinic.size, figures: figures.length, changes }
}
