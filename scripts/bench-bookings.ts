// Booking throughput: a real server (primary, coordinator, 2 uWebSockets.js workers) on an embedded PostgreSQL, and a
// closed-loop load generator (scripts/lib/load.ts) holding `--concurrency` keep-alive connections for `--seconds`.
//
//   (a) spread: bookings over 200 clinics, each with one future day of large capacity (the day rows rarely contend);
//   (b) hot:    every booking for one day of one clinic (every transaction waits for that day row's lock).
//
// Bookings are dated, half from the patient app and half from the secretary app, each with its own patient id. After
// each phase the database is checked: per day, active tokens are exactly 1..n, active_count = active bookings,
// sequences 1..next_seq-1 without holes, one booking per patient; no duplicate display id anywhere; and the number
// of 200 answers equals the number of rows. Prints JSON.
//
// With --statements 1 the database loads pg_stat_statements and each phase also reports what the server ran: the
// statements by total time, their calls per booking and mean time (lock waits included). It costs a little
// throughput, so the headline runs leave it off.
//
// Then the ceiling (`--ceiling 0` leaves it out): the same booking path (src/booking/book.ts, placeRegular) in
// a raw postgres.js loop from this process, no HTTP, with as many connections as the server's workers hold and
// `--concurrency` loops, on clinics of its own; the spread phase's rate is reported as a share of it, and the
// server's CPU per booking (workers + coordinator) against PostgreSQL's. The machine's load average is recorded.
//
//   npx tsx scripts/bench-bookings.ts [--seconds 20] [--concurrency 64] [--clinics 200] [--workers 2] [--statements 1]
//                                    [--pool-budget N]   (DB_POOL_BUDGET for the server; default: its own default)
//                                    [--ceiling 0|1]
import './lib/quiet.ts'
import postgres from 'postgres'
import { loadavg } from 'node:os'
import { placeRegular } from '../src/booking/book.ts'
import { Database } from '../src/db/pool.ts'
import { startDatabase, startServer, request, type TestDatabase, type TestServer } from '../test/helpers/server.ts'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import { runLoad, httpRequest, type LoadResult } from './lib/load.ts'
import { SECRET, benchServerEnv, clientAddress, cpuMeter, flag, machine, postmasterPid, serverStats } from './lib/bench.ts'

const args = process.argv.slice(2)
const seconds = flag(args, 'seconds', 20)
const concurrency = flag(args, 'concurrency', 64)
const clinicCount = flag(args, 'clinics', 200)
const workers = flag(args, 'workers', 2)
const warmupSeconds = flag(args, 'warmup', 3)
const withStatements = flag(args, 'statements', 0) === 1
const poolBudget = flag(args, 'pool-budget', 0) // 0: the server's default DB_POOL_BUDGET
const withCeiling = flag(args, 'ceiling', 1) === 1

// The whole run is bounded: setup, warm-up, two phases, checks.
const WATCHDOG_MS = (seconds * 2 + warmupSeconds + 240) * 1000

const date = addDays(iraqToday(), 3)
const SPREAD_BASE = 10_000 // clinics 10000..10199
const HOT_CLINIC = 20_000
const WARM_BASE = 30_000 // clinics 30000..30009: warm-up only, left out of the checks
const CEILING_BASE = 50_000 // clinics 50000..50199: the raw loop's
const CAPACITY = 100_000
const run = Date.now().toString(36)

let db: TestDatabase | null = null
let server: TestServer | null = null
let sql: postgres.Sql | null = null

async function cleanup (): Promise<void> {
  await sql?.end({ timeout: 2 }).catch(() => {})
  await server?.cleanup().catch(() => {})
  await db?.destroy().catch(() => {})
}

const watchdog = setTimeout(() => {
  console.error(`bench-bookings: watchdog after ${WATCHDOG_MS} ms`)
  void cleanup().finally(() => process.exit(1))
}, WATCHDOG_MS)
watchdog.unref()
process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)) })

async function post (path: string, body: unknown): Promise<void> {
  if (server === null) throw new Error('no server')
  const res = await request(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': clientAddress(4000) },
    body: JSON.stringify(body)
  })
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`)
}

// A booking request for the next clinic in turn: dated, alternately patient app and secretary app, a fresh patient.
function bookingSource (clinicOf: (n: number) => number, prefix: string): (conn: number) => Buffer {
  let n = 0
  return (conn) => {
    n++
    const secretary = n % 2 === 0
    const body = JSON.stringify({
      clinic_id: clinicOf(n),
      name: `مريض ${n}`,
      phone: '+9647700000000',
      patient_id: `${prefix}-${run}-${n}`,
      date,
      source: secretary ? 'secretary_app' : 'patient_app',
      ...(secretary ? { secretary_id: '100001' } : {})
    })
    return httpRequest('POST', '/api/patient_booking', {
      'Doctor-Secret': SECRET,
      'Content-Type': 'application/json',
      'X-Forwarded-For': clientAddress(conn)
    }, body)
  }
}

interface Invariants {
  days: number
  rows: number
  active: number
  active_count_mismatch: number
  token_not_1_to_n: number
  seq_not_1_to_n: number
  duplicate_patients: number
  duplicate_display_ids: number
  ok_answers: number
  answers_equal_rows: boolean
  violations: number
}

async function check (clinics: number[], okAnswers: number): Promise<Invariants> {
  if (sql === null) throw new Error('no database')
  const [row] = await sql<Array<Record<string, string>>>`
    WITH d AS (
      SELECT id, active_count, next_seq FROM booking_days
      WHERE clinic_id = ANY(${clinics}::int[]) AND lane = 'regular' AND day = ${date} AND status <> 'archived'
    ), b AS (
      SELECT day_id,
             count(*) AS total,
             count(*) FILTER (WHERE status <> 'cancelled') AS active,
             count(DISTINCT token) FILTER (WHERE status <> 'cancelled') AS distinct_tokens,
             min(token) FILTER (WHERE status <> 'cancelled') AS min_token,
             max(token) FILTER (WHERE status <> 'cancelled') AS max_token,
             count(DISTINCT seq) AS distinct_seq, min(seq) AS min_seq, max(seq) AS max_seq,
             count(DISTINCT patient_id) AS distinct_patients
      FROM bookings WHERE day_id IN (SELECT id FROM d) GROUP BY day_id
    )
    SELECT count(*) AS days,
           coalesce(sum(coalesce(b.total, 0)), 0) AS rows,
           coalesce(sum(coalesce(b.active, 0)), 0) AS active,
           count(*) FILTER (WHERE coalesce(b.active, 0) <> d.active_count) AS active_count_mismatch,
           count(*) FILTER (WHERE coalesce(b.active, 0) > 0 AND (b.min_token <> 1 OR b.max_token <> b.active OR b.distinct_tokens <> b.active)) AS token_not_1_to_n,
           count(*) FILTER (WHERE coalesce(b.total, 0) <> d.next_seq - 1
                              OR (b.total > 0 AND (b.min_seq <> 1 OR b.max_seq <> b.total OR b.distinct_seq <> b.total))) AS seq_not_1_to_n,
           coalesce(sum(coalesce(b.total, 0) - coalesce(b.distinct_patients, 0)), 0) AS duplicate_patients
    FROM d LEFT JOIN b ON b.day_id = d.id`
  const [dup] = await sql<Array<{ n: string }>>`
    SELECT count(*) AS n FROM (SELECT display_id FROM bookings GROUP BY display_id HAVING count(*) > 1) x`
  const num = (key: string): number => Number(row?.[key] ?? NaN)
  const rows = num('rows')
  const result: Invariants = {
    days: num('days'),
    rows,
    active: num('active'),
    active_count_mismatch: num('active_count_mismatch'),
    token_not_1_to_n: num('token_not_1_to_n'),
    seq_not_1_to_n: num('seq_not_1_to_n'),
    duplicate_patients: num('duplicate_patients'),
    duplicate_display_ids: Number(dup?.n ?? NaN),
    ok_answers: okAnswers,
    answers_equal_rows: okAnswers === rows,
    violations: 0
  }
  result.violations = result.active_count_mismatch + result.token_not_1_to_n + result.seq_not_1_to_n +
    result.duplicate_patients + result.duplicate_display_ids + (result.answers_equal_rows ? 0 : 1) +
    (result.days === clinics.length ? 0 : 1)
  return result
}

interface StatementLine {
  query: string
  calls: number
  per_booking: number
  mean_ms: number
  total_s: number
}

// What the server ran during a phase, heaviest first (our own monitoring queries left out).
async function statements (bookings: number): Promise<StatementLine[]> {
  if (sql === null || !withStatements) return []
  const rows = await sql<Array<{ query: string, calls: string, mean: number, total: number }>>`
    SELECT regexp_replace(query, '[[:space:]]+', ' ', 'g') AS query, calls::text, mean_exec_time AS mean, total_exec_time AS total
    FROM pg_stat_statements
    WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%WITH d AS%' AND query NOT LIKE '%GROUP BY display_id%'
    ORDER BY total_exec_time DESC LIMIT 14`
  return rows.map((r) => ({
    query: r.query.slice(0, 110),
    calls: Number(r.calls),
    per_booking: Math.round(Number(r.calls) / Math.max(1, bookings) * 100) / 100,
    mean_ms: Math.round(r.mean * 1000) / 1000,
    total_s: Math.round(r.total / 10) / 100
  }))
}

interface Phase {
  load: LoadResult
  statements?: StatementLine[]
  bookings_per_second: number
  cpu_cores: Record<string, number>
  pool_timeouts: number
  errors_sample: string[]
  invariants: Invariants
}

async function phase (clinics: number[], clinicOf: (n: number) => number, prefix: string, durationSeconds: number, verify: boolean): Promise<Phase> {
  if (server === null || db === null) throw new Error('not started')
  const samples: string[] = []
  if (withStatements && sql !== null) await sql`SELECT pg_stat_statements_reset()`
  const before = await serverStats(server)
  const meter = cpuMeter({
    load_generator: { pids: [process.pid], tree: false },
    workers: { pids: before.workers.map((w) => w.pid), tree: false },
    coordinator: { pids: before.memory.coordinator === null ? [] : [before.memory.coordinator.pid], tree: false },
    primary: { pids: [server.child.pid as number], tree: false },
    postgres: { pids: [postmasterPid(db.dataDir)], tree: true }
  })
  const load = await runLoad({
    host: '127.0.0.1',
    port: server.port,
    connections: concurrency,
    durationMs: durationSeconds * 1000,
    request: bookingSource(clinicOf, prefix),
    captureBody: (status) => status !== 200 && samples.length < 5,
    onResponse: ({ status, body }) => { if (body !== null && samples.length < 5) samples.push(`${status} ${body.toString().slice(0, 200)}`) },
    timeoutMs: 15_000
  })
  const cpu = meter.stop()
  const after = await serverStats(server)
  const ok = load.statuses['200'] ?? 0
  const ran = await statements(ok)
  return {
    ...(withStatements ? { statements: ran } : {}),
    load,
    bookings_per_second: Math.round(ok / load.seconds),
    cpu_cores: cpu,
    pool_timeouts: after.database.pool.timeouts - before.database.pool.timeouts,
    errors_sample: samples,
    invariants: verify ? await check(clinics, ok) : await check([], 0)
  }
}

// The ceiling: the server's booking path, driven straight through postgres.js with the workers' connection
// count. This process is then both the "server" and the client, so its CPU is reported beside PostgreSQL's.
async function ceiling (clinics: number[], connections: number, durationSeconds: number): Promise<{ bookings_per_second: number, connections: number, cpu_cores: Record<string, number>, errors: number, invariants: Invariants }> {
  if (db === null) throw new Error('not started')
  // The server's own pool class, so the ceiling places bookings the way the routes do (src/booking/book.ts).
  const pool = new Database({ url: db.url, max: connections, applicationName: 'tabeby:bench:ceiling', queueTimeoutMs: 60_000 })
  try {
    let n = 0
    let ok = 0
    let errors = 0
    // Warm the connections and the statements first, as the server's warm-up did.
    const book = async (k: number): Promise<void> => {
      const secretary = k % 2 === 0
      await placeRegular(pool, {
        clinicId: clinics[k % clinics.length] as number,
        name: `مريض ${k}`,
        phone: '+9647700000000',
        source: secretary ? 'secretary_app' : 'patient_app',
        patientId: `C-${run}-${k}`,
        date,
        status: 'booked',
        createdAt: null,
        secretaryId: secretary ? '100001' : null
      }, { secretaryOverbook: true, horizonDays: 60 })
    }
    await Promise.all(Array.from({ length: connections }, () => book(n++)))
    const meter = cpuMeter({
      load_generator: { pids: [process.pid], tree: false },
      postgres: { pids: [postmasterPid(db.dataDir)], tree: true }
    })
    const started = performance.now()
    const end = started + durationSeconds * 1000
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          await book(n++)
          ok++
        } catch {
          errors++
        }
      }
    }))
    const elapsed = (performance.now() - started) / 1000
    const cpu = meter.stop()
    return { bookings_per_second: Math.round(ok / elapsed), connections, cpu_cores: cpu, errors, invariants: await check(clinics, ok + connections) }
  } finally {
    await pool.close()
  }
}

try {
  db = await startDatabase({ statements: withStatements })
  server = await startServer({ workers, env: { ...benchServerEnv, DATABASE_URL: db.url, ...(poolBudget > 0 ? { DB_POOL_BUDGET: String(poolBudget) } : {}) } })
  sql = postgres(db.url, { max: 2, onnotice: () => {} })
  if (withStatements) await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`

  const spread = Array.from({ length: clinicCount }, (_, i) => SPREAD_BASE + i)
  const warm = Array.from({ length: 10 }, (_, i) => WARM_BASE + i)
  const ceilingClinics = Array.from({ length: clinicCount }, (_, i) => CEILING_BASE + i)
  for (const clinic of [...spread, HOT_CLINIC, ...warm, ...(withCeiling ? ceilingClinics : [])]) {
    await post('/api/create_table', { clinic_id: clinic, days: { [date]: { capacity_total: CAPACITY } } })
  }

  const loadBefore = loadavg()
  // Warm-up (JIT, pool connections, prepared statements), on clinics left out of the checks.
  const warmup = await phase(warm, (n) => warm[n % warm.length] as number, 'W', warmupSeconds, false)
  const spreadPhase = await phase(spread, (n) => spread[n % spread.length] as number, 'S', seconds, true)
  const hotPhase = await phase([HOT_CLINIC], () => HOT_CLINIC, 'H', seconds, true)
  const stats = await serverStats(server)
  const ceilingPhase = withCeiling ? await ceiling(ceilingClinics, stats.database.budget.per_worker * workers, seconds) : null
  const loadAfter = loadavg()
  const perBooking = (cores: number, bps: number): number => Math.round(cores / Math.max(1, bps) * 1e6) / 1000 // ms of CPU
  const serverMs = perBooking((spreadPhase.cpu_cores['workers'] ?? 0) + (spreadPhase.cpu_cores['coordinator'] ?? 0), spreadPhase.bookings_per_second)
  const postgresMs = perBooking(spreadPhase.cpu_cores['postgres'] ?? 0, spreadPhase.bookings_per_second)

  const goals = {
    spread: { goal: 1000, measured: spreadPhase.bookings_per_second, met: spreadPhase.bookings_per_second >= 1000 },
    hot: { goal: 300, measured: hotPhase.bookings_per_second, met: hotPhase.bookings_per_second >= 300 },
    invariants: { violations: spreadPhase.invariants.violations + hotPhase.invariants.violations + (ceilingPhase?.invariants.violations ?? 0) },
    spread_of_ceiling: ceilingPhase === null
      ? null
      : { goal: 0.8, measured: Math.round(spreadPhase.bookings_per_second / ceilingPhase.bookings_per_second * 100) / 100, met: spreadPhase.bookings_per_second >= 0.8 * ceilingPhase.bookings_per_second },
    server_cpu_of_postgres: { goal: 0.5, server_ms_per_booking: serverMs, postgres_ms_per_booking: postgresMs, measured: Math.round(serverMs / postgresMs * 100) / 100, met: serverMs <= 0.5 * postgresMs }
  }
  console.log(JSON.stringify({
    machine: machine(),
    load_average: { before: loadBefore.map((v) => Math.round(v * 100) / 100), after: loadAfter.map((v) => Math.round(v * 100) / 100) },
    settings: { seconds, concurrency, clinics: clinicCount, workers, date, db_pool_budget: stats.database.budget, pg_stat_statements: withStatements },
    warmup: { bookings_per_second: warmup.bookings_per_second, statuses: warmup.load.statuses },
    spread: spreadPhase,
    hot: hotPhase,
    ceiling: ceilingPhase,
    goals
  }, null, 2))
} finally {
  await cleanup()
  clearTimeout(watchdog)
}
