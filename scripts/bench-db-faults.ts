// Database faults under load (issue 11, "Must hold"): instance A (2 workers) takes bookings from `--clients`
// closed-loop clients while PostgreSQL is stopped for `--outage` seconds and started again, while A's worker
// backends are terminated, and while the other instance B's LISTEN backend is terminated. Each client opens a fresh
// connection per request (as phones do) and every request is classified: 200, 503, another status, refused (no
// connection, or reset), or hung (no answer within REQUEST_DEADLINE_MS + 1 s). Then a second start on a live
// DATA_DIR. At the end: every 200 booking is a row, no seat is sold twice, no process of A or B was replaced.
//
//   npx tsx scripts/bench-db-faults.ts [--clients 16] [--outage 10] [--deadline 6000]
//
// Prints JSON (the figures BENCHMARKS.md records) and exits 1 when a must-hold check failed.
import './lib/quiet.ts'
import postgres from 'postgres'
import { setTimeout as sleep } from 'node:timers/promises'
import { request, startDatabase, startServer, tempDir, type TestDatabase, type TestServer } from '../test/helpers/server.ts'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import { SECRET, flag, machine } from './lib/bench.ts'

const args = process.argv.slice(2)
const clientCount = flag(args, 'clients', 16)
const outageSeconds = flag(args, 'outage', 10)
const deadlineMs = flag(args, 'deadline', 6000)
const HUNG_MS = deadlineMs + 1000
const WATCHDOG_MS = (outageSeconds + 240) * 1000

const date = addDays(iraqToday(), 3)
const CLINICS = 20 // bookings spread over clinics 12000..12019
const PROBE_CLINIC = 12_100 // changes made on A and looked for on B
const headers = { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json' }

let db: TestDatabase | null = null
const servers: TestServer[] = []
let sql: postgres.Sql | null = null
async function cleanup (): Promise<void> {
  await sql?.end({ timeout: 2 }).catch(() => {})
  for (const server of servers) await server.cleanup().catch(() => {})
  await db?.destroy().catch(() => {})
}
const watchdog = setTimeout(() => {
  console.error(`bench-db-faults: watchdog after ${WATCHDOG_MS} ms`)
  void cleanup().finally(() => process.exit(1))
}, WATCHDOG_MS)
watchdog.unref()
process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)) })

type Outcome = 'ok' | 'unavailable' | 'other' | 'refused' | 'hung'
interface Sample { start: number, end: number, outcome: Outcome, status: number, code: string | null, bookingId: string | null }

async function send (server: TestServer, method: string, path: string, body?: unknown): Promise<Sample> {
  const start = Date.now()
  try {
    const res = await request(`${server.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: HUNG_MS })
    let parsed: { code?: string, booking_id?: string } = {}
    try { parsed = res.json() } catch {}
    const outcome: Outcome = res.status === 200 ? 'ok' : res.status === 503 ? 'unavailable' : 'other'
    return { start, end: Date.now(), outcome, status: res.status, code: parsed.code ?? null, bookingId: parsed.booking_id ?? null }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return { start, end: Date.now(), outcome: message.startsWith('timeout') ? 'hung' : 'refused', status: 0, code: message.slice(0, 60), bookingId: null }
  }
}

async function healthy (server: TestServer): Promise<number> {
  return (await send(server, 'GET', '/health')).status
}

async function pids (server: TestServer): Promise<{ coordinator: number | null, workers: number[] }> {
  const stats = (await request(`${server.url}/stats`)).json<{ coordinator: { pid: number } | null, workers: Array<{ pid: number }> }>()
  return { coordinator: stats.coordinator?.pid ?? null, workers: stats.workers.map((w) => w.pid).sort() }
}

async function probeCount (server: TestServer): Promise<number> {
  const res = await request(`${server.url}/api/booking_days?clinic_id=${PROBE_CLINIC}`, { headers })
  if (res.status !== 200) return -1
  return res.json<{ days: Record<string, { patients: unknown[] }> }>().days[date]?.patients.length ?? -1
}

// Polls until `probe` is true; returns the ms it took, or null past `limitMs`.
async function within (limitMs: number, everyMs: number, probe: () => Promise<boolean>): Promise<number | null> {
  const started = Date.now()
  while (Date.now() - started < limitMs) {
    if (await probe().catch(() => false)) return Date.now() - started
    await sleep(everyMs)
  }
  return null
}

function tally (samples: Sample[], from: number, to: number): Record<string, unknown> {
  const counts: Record<string, number> = { ok: 0, unavailable: 0, other: 0, refused: 0, hung: 0 }
  const codes: Record<string, number> = {}
  let slowest = 0
  for (const s of samples) {
    if (s.start < from || s.start > to) continue
    counts[s.outcome] = (counts[s.outcome] ?? 0) + 1
    if (s.outcome !== 'ok') codes[`${s.status} ${s.code ?? ''}`] = (codes[`${s.status} ${s.code ?? ''}`] ?? 0) + 1
    slowest = Math.max(slowest, s.end - s.start)
  }
  return { ...counts, slowest_ms: slowest, not_ok: codes }
}

db = await startDatabase()
const env = { DATABASE_URL: db.url, REQUEST_DEADLINE_MS: String(deadlineMs), RATE_LIMIT_AUTH: 'off', RATE_LIMIT_BOOKING: 'off', RATE_LIMIT_DEFAULT: 'off' }
const a = await startServer({ workers: 2, env })
servers.push(a)
const b = await startServer({ workers: 1, env })
servers.push(b)
sql = postgres(db.url, { max: 2, onnotice: () => {} })

const days = { [date]: { capacity_total: 100_000 } }
for (let c = 0; c < CLINICS; c++) await send(a, 'POST', '/api/create_table', { clinic_id: 12_000 + c, days })
await send(a, 'POST', '/api/create_table', { clinic_id: PROBE_CLINIC, days })
let probeBookings = 0
async function probeBooking (): Promise<Sample> {
  const n = probeBookings++
  return await send(a, 'POST', '/api/patient_booking', { clinic_id: PROBE_CLINIC, name: `مسبار ${n}`, phone: '+9647700000000', patient_id: `P-probe-${n}`, date, source: 'secretary_app' })
}
await probeBooking()
await probeCount(b) // B caches the probe clinic: a missed change would leave it stale
const pidsBefore = { a: await pids(a), b: await pids(b) }

// Load and a /health watcher on A, for the whole run.
const samples: Sample[] = []
const health: Array<{ at: number, status: number }> = []
let running = true
let next = 0
const clients = Array.from({ length: clientCount }, async () => {
  while (running) {
    const i = next++
    samples.push(await send(a, 'POST', '/api/patient_booking', { clinic_id: 12_000 + (i % CLINICS), name: `مريض ${i}`, phone: '+9647700000000', patient_id: `P-${i}`, date, source: 'secretary_app' }))
  }
})
const watcher = (async () => {
  while (running) {
    health.push({ at: Date.now(), status: await healthy(a) })
    await sleep(100)
  }
})()
const firstHealth = (status: number, after: number): number | null => health.find((h) => h.at >= after && h.status === status)?.at ?? null
const checks: Array<{ check: string, ok: boolean, value: unknown }> = []
const check = (name: string, ok: boolean, value: unknown): void => { checks.push({ check: name, ok, value }) }
const faults: Record<string, unknown> = {}

await sleep(5000)
const baselineFrom = Date.now() - 4000

// 1. PostgreSQL stopped for --outage seconds, then started on the same port and files.
const stopAt = Date.now()
await db.stop()
const stoppedAt = Date.now()
await sleep(outageSeconds * 1000)
const restartAt = Date.now()
await db.restart()
const backAt = Date.now()
const sawChange = await within(10_000, 20, async () => (await probeBooking()).outcome === 'ok')
const madeAt = Date.now()
const bSees = await within(10_000, 50, async () => await probeCount(b) === probeBookings)
await sleep(1500)
{
  const down = firstHealth(503, stopAt)
  const up = firstHealth(200, backAt)
  const seenAfter = bSees === null ? null : madeAt - backAt + bSees
  faults.postgres_stopped = {
    seconds: outageSeconds,
    stop_took_ms: stoppedAt - stopAt,
    start_took_ms: backAt - restartAt,
    requests: tally(samples, stopAt, backAt + 1000),
    health_503_after_ms: down === null ? null : down - stopAt,
    health_200_after_ms: up === null ? null : up - backAt,
    first_booking_after_ms: sawChange === null ? null : madeAt - backAt,
    other_instance_sees_it_after_ms: seenAfter
  }
  check('/health 503 within 2 s of the outage', down !== null && down - stopAt <= 2000, down === null ? null : down - stopAt)
  check('/health 200 within 2 s of recovery', up !== null && up - backAt <= 2000, up === null ? null : up - backAt)
  check('the other instance sees a change within 2 s of recovery', seenAfter !== null && seenAfter <= 2000, seenAfter)
}

// 2. A's worker backends terminated, three times a second apart.
const terminateAt = Date.now()
let terminated = 0
const instanceA = (await request(`${a.url}/stats`)).json<{ instance: string }>().instance
for (let round = 0; round < 3; round++) {
  const rows = await sql<Array<{ ok: boolean }>>`
    SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name LIKE ${`tabeby:${instanceA}:worker-%`}`
  terminated += rows.filter((r) => r.ok).length
  await sleep(1000)
}
await sleep(2000)
faults.backends_terminated = { rounds: 3, backends: terminated, requests: tally(samples, terminateAt, Date.now()) }

// 3. B's LISTEN backend terminated; A changes the probe clinic at once, during B's re-LISTEN.
const instanceB = (await request(`${b.url}/stats`)).json<{ instance: string }>().instance
const listenAt = Date.now()
await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${`tabeby:${instanceB}:listen`}`
await probeBooking()
const listenSeen = await within(10_000, 50, async () => await probeCount(b) === probeBookings)
await sleep(2000)
const bChanges = (await request(`${b.url}/stats`)).json<{ changes: { resyncs: number, last_gap_ms: number | null } }>().changes
faults.listen_terminated = { requests: tally(samples, listenAt, Date.now()), other_instance_sees_it_after_ms: listenSeen, b_resyncs: bChanges.resyncs, b_last_gap_ms: bChanges.last_gap_ms }
check('the other instance sees a change made during its LISTEN gap within 2 s', listenSeen !== null && listenSeen <= 2000 + (bChanges.last_gap_ms ?? 0), listenSeen)

running = false
await Promise.all([...clients, watcher])
// Up to a second before the stop: requests in flight when it came belong to the outage.
faults.baseline = { requests: tally(samples, baselineFrom, stopAt - 1000) }

// 4. A second server on a live DATA_DIR (an embedded database this time: that is what the directory holds).
const dataDir = tempDir('tabeby-fault-data-')
const owner = await startServer({ workers: 1, env: { DATA_DIR: dataDir, RATE_LIMIT_DEFAULT: 'off' } })
servers.push(owner)
const intruder = await startServer({ workers: 1, waitForReady: false, env: { DATA_DIR: dataDir } })
servers.push(intruder)
const { code } = await intruder.exited
const message = intruder.output().match(/DATA_DIR .* is in use by pid \d+/)?.[0] ?? null
const ownerHealth = await healthy(owner)
faults.second_start = { exit_code: code, message, first_still_serves: ownerHealth }
check('a second start on a live DATA_DIR exits 2 with the message', code === 2 && message !== null, { code, message })
check('and the first keeps serving', ownerHealth === 200, ownerHealth)

// The booking guarantees, and the processes.
const okIds = samples.filter((s) => s.outcome === 'ok' && s.bookingId !== null).map((s) => s.bookingId as string)
const [stored] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM bookings WHERE display_id IN ${sql(okIds)}`
const [doubles] = await sql<Array<{ n: number }>>`
  SELECT count(*)::int AS n FROM (SELECT day_id, token FROM bookings WHERE status <> 'cancelled' GROUP BY day_id, token HAVING count(*) > 1) x`
const [counts] = await sql<Array<{ n: number }>>`
  SELECT count(*)::int AS n FROM booking_days d
  WHERE d.active_count <> (SELECT count(*) FROM bookings b WHERE b.day_id = d.id AND b.status <> 'cancelled')`
check('every 200 booking is stored', stored?.n === okIds.length, { answered_200: okIds.length, stored: stored?.n })
check('no seat is sold twice', doubles?.n === 0 && counts?.n === 0, { duplicate_tokens: doubles?.n, days_miscounted: counts?.n })
const pidsAfter = { a: await pids(a), b: await pids(b) }
const replaced = JSON.stringify(pidsAfter) !== JSON.stringify(pidsBefore) || /exited, restarting/.test(a.output() + b.output())
check('no worker or coordinator exited', !replaced, { before: pidsBefore, after: pidsAfter })
const slowest = Math.max(...samples.map((s) => s.end - s.start))
check('no request waited longer than its deadline + 1 s', slowest <= HUNG_MS && samples.every((s) => s.outcome !== 'hung'), slowest)

const result = {
  machine: machine(),
  clients: clientCount,
  deadline_ms: deadlineMs,
  requests: samples.length,
  faults,
  checks,
  failed: checks.filter((c) => !c.ok).map((c) => c.check)
}
console.log(JSON.stringify(result, null, 2))
await cleanup()
process.exit(result.failed.length === 0 ? 0 : 1)
