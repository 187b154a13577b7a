// What must hold in the database after the day, whatever the load did: each check counts its violations, and the
// run fails when any count is not zero. The checks read the database itself, never the server's answers.
import type postgres from 'postgres'
import { loadLane } from '../../src/booking/days.ts'
import { screenDigest, type LaneBody } from './viewers.ts'
import type { Booked } from './generator.ts'

export interface Screen { clinic: number, id: number | null, digest: string | null, connected: boolean }

export interface InvariantInput {
  clinicBase: number
  clinics: number
  yesterday: string // the day the nightly archive took at midnight
  midnightDone: boolean
  booked: Booked[] // every booking answered 200 (replays left out)
  reusedIds: string[] // booking ids the clients saw answered twice for different requests
  replayMismatches: string[] // a retried request (same Idempotency-Key) answered with another booking
  screens: Screen[]
}

export interface Invariants {
  checks: Record<string, { violations: number, detail: string }>
  violations: number
}

export async function checkInvariants (sql: postgres.Sql, input: InvariantInput): Promise<Invariants> {
  const clinics = Array.from({ length: input.clinics }, (_, i) => input.clinicBase + i)
  const checks: Invariants['checks'] = {}
  const put = (name: string, violations: number, detail: string): void => { checks[name] = { violations, detail } }

  // No day over its capacity for the patient app (secretaries may overbook; golden has no secretary path).
  const [capacity] = await sql<Array<{ over: string, days: string }>>`
    WITH d AS (SELECT id, lane, capacity_total FROM booking_days WHERE clinic_id = ANY(${clinics}::int[]) AND status <> 'archived')
    SELECT count(*) AS days,
           count(*) FILTER (WHERE (SELECT count(*) FROM bookings b WHERE b.day_id = d.id AND b.status <> 'cancelled'
                                   AND (d.lane = 'golden' OR b.source = 'patient_app')) > d.capacity_total) AS over
    FROM d`
  put('patient_app_within_capacity', Number(capacity?.over), `live days checked: ${capacity?.days ?? 0}`)

  // Per live day: active tokens exactly 1..n and active_count = n; sequence numbers 1..next_seq-1, none reused.
  const [tokens] = await sql<Array<Record<string, string>>>`
    WITH d AS (
      SELECT id, active_count, next_seq FROM booking_days WHERE clinic_id = ANY(${clinics}::int[]) AND status <> 'archived'
    ), b AS (
      SELECT day_id, count(*) AS total, count(*) FILTER (WHERE status <> 'cancelled') AS active,
             count(DISTINCT token) FILTER (WHERE status <> 'cancelled') AS distinct_tokens,
             min(token) FILTER (WHERE status <> 'cancelled') AS min_token, max(token) FILTER (WHERE status <> 'cancelled') AS max_token,
             count(DISTINCT seq) AS distinct_seq, min(seq) AS min_seq, max(seq) AS max_seq
      FROM bookings WHERE day_id IN (SELECT id FROM d) GROUP BY day_id
    )
    SELECT count(*) FILTER (WHERE coalesce(b.active, 0) <> d.active_count) AS count_mismatch,
           count(*) FILTER (WHERE coalesce(b.active, 0) > 0 AND (b.min_token <> 1 OR b.max_token <> b.active OR b.distinct_tokens <> b.active)) AS token_gaps,
           count(*) FILTER (WHERE coalesce(b.total, 0) <> d.next_seq - 1 OR (b.total > 0 AND (b.min_seq <> 1 OR b.max_seq <> b.total OR b.distinct_seq <> b.total))) AS seq_gaps
    FROM d LEFT JOIN b ON b.day_id = d.id`
  put('tokens_contiguous', Number(tokens?.token_gaps) + Number(tokens?.count_mismatch), `days with token gaps: ${tokens?.token_gaps ?? '?'}, active_count mismatches: ${tokens?.count_mismatch ?? '?'}`)
  put('sequences_never_reused', Number(tokens?.seq_gaps), 'days whose sequence numbers are not exactly 1..next_seq-1')

  // Booking ids: unique in the table, never answered twice for two different requests, a retry answered with its
  // first booking.
  const [dup] = await sql<Array<{ n: string }>>`SELECT count(*) AS n FROM (SELECT display_id FROM bookings GROUP BY display_id HAVING count(*) > 1) x`
  put('booking_ids_unique', Number(dup?.n) + input.reusedIds.length, `duplicated in the table: ${dup?.n ?? '?'}; answered for two requests: ${input.reusedIds.slice(0, 5).join(', ')}`)
  put('idempotent_retries', input.replayMismatches.length, `retries answered with another booking: ${input.replayMismatches.slice(0, 5).join(', ')}`)

  // Every 200 is stored: the booking id, with its clinic, date and lane.
  const ids = input.booked.map((b) => b.id)
  const stored = new Map<string, { clinic: number, date: string, lane: string }>()
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await sql<Array<{ display_id: string, clinic_id: number, day: string, lane: string }>>`
      SELECT b.display_id, d.clinic_id, to_char(d.day, 'YYYY-MM-DD') AS day, d.lane::text AS lane
      FROM bookings b JOIN booking_days d ON d.id = b.day_id WHERE b.display_id = ANY(${ids.slice(i, i + 5000)}::text[])`
    for (const row of rows) stored.set(row.display_id, { clinic: row.clinic_id, date: row.day, lane: row.lane })
  }
  const missing = input.booked.filter((b) => {
    const row = stored.get(b.id)
    return row === undefined || row.clinic !== b.clinic || row.date !== b.date || row.lane !== b.lane
  })
  put('every_200_stored', missing.length, `${input.booked.length} answered 200; missing or different: ${missing.slice(0, 5).map((b) => b.id).join(', ')}`)

  // Midnight: no live day before today is left, and every clinic's yesterday has its archive, with every booking of it.
  if (input.midnightDone) {
    const [archive] = await sql<Array<{ live_past: string, without_archive: string, short: string }>>`
      SELECT (SELECT count(*) FROM booking_days WHERE clinic_id = ANY(${clinics}::int[]) AND day <= ${input.yesterday} AND status <> 'archived') AS live_past,
             (SELECT count(*) FROM unnest(${clinics}::int[]) c WHERE NOT EXISTS (
                SELECT 1 FROM day_archives a WHERE a.clinic_id = c AND a.lane = 'regular' AND a.day = ${input.yesterday})) AS without_archive,
             (SELECT count(*) FROM booking_days d JOIN day_archives a ON a.clinic_id = d.clinic_id AND a.lane = d.lane AND a.day = d.day
              WHERE d.clinic_id = ANY(${clinics}::int[]) AND d.day = ${input.yesterday}
                AND json_array_length(a.patients) <> (SELECT count(*) FROM bookings b WHERE b.day_id = d.id AND b.status <> 'cancelled')) AS short`
    put('nightly_archive', Number(archive?.live_past) + Number(archive?.without_archive) + Number(archive?.short),
      `live days left before today: ${archive?.live_past ?? '?'}, clinics without yesterday's archive: ${archive?.without_archive ?? '?'}, archives missing bookings: ${archive?.short ?? '?'}`)
  }

  // Every viewer's last screen is the database's state of its clinic: the same version and the same queue.
  const truth = new Map<number, { version: number, digest: string }>()
  for (const clinic of new Set(input.screens.map((s) => s.clinic))) {
    const state = await loadLane(sql, clinic, 'regular')
    truth.set(clinic, { version: state.version, digest: screenDigest({ clinic_id: clinic, days: state.days } as unknown as LaneBody) })
  }
  const stale = input.screens.filter((s) => {
    const db = truth.get(s.clinic)
    return db === undefined || s.id !== db.version || s.digest !== db.digest
  })
  put('viewers_see_the_database', stale.length, `${input.screens.length} viewers; stale: ${stale.slice(0, 3).map((s) => `clinic ${s.clinic} at id ${String(s.id)}`).join(', ')}`)

  const violations = Object.values(checks).reduce((n, c) => n + (Number.isFinite(c.violations) ? c.violations : 1), 0)
  return { checks, violations }
}
