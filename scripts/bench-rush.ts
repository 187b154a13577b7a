// A morning rush: `--racers` patients (2,000) book one popular doctor's `--seats`-seat day (20) at the same moment,
// each on a connection of its own (as phones do), against a real server (`--workers` 2) on an embedded PostgreSQL.
// Every loser should get the legacy 409 (day full), none a 5xx. `--rounds` rounds, each on a fresh day, first on the
// machine as it is, then (`--burn 2`, the default) while that many CPU-bound processes spin on the cores. After each
// round the database is checked: exactly `seats` bookings, tokens 1..seats, active_count = seats.
// `--off full-days` starts the server with the step switched off (HOT_PATHS_OFF): the ablation. Prints JSON.
//
//   npx tsx scripts/bench-rush.ts [--racers 2000] [--seats 20] [--rounds 3] [--workers 2] [--burn 2] [--off list]
import './lib/quiet.ts'
import { spawn, type ChildProcess } from 'node:child_process'
import { loadavg } from 'node:os'
import postgres from 'postgres'
import { getJson, startDatabase, startServer, request, type TestDatabase, type TestServer } from '../test/helpers/server.ts'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import { runLoad, httpRequest } from './lib/load.ts'
import { SECRET, benchServerEnv, clientAddress, flag, machine } from './lib/bench.ts'

const args = process.argv.slice(2)
const racers = flag(args, 'racers', 2000)
const seats = flag(args, 'seats', 20)
const rounds = flag(args, 'rounds', 3)
const workers = flag(args, 'workers', 2)
const burners = flag(args, 'burn', 2)
const off = args.includes('--off') ? String(args[args.indexOf('--off') + 1] ?? '') : ''
const WATCHDOG_MS = (rounds * 2 * 60 + 240) * 1000

const CLINIC = 40_000
const date = addDays(iraqToday(), 2)

let db: TestDatabase | null = null
let server: TestServer | null = null
let sql: postgres.Sql | null = null
const burning: ChildProcess[] = []

function stopBurning (): void {
  for (const child of burning.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
}

async function cleanup (): Promise<void> {
  stopBurning()
  await sql?.end({ timeout: 2 }).catch(() => {})
  await server?.cleanup().catch(() => {})
  await db?.destroy().catch(() => {})
}
const watchdog = setTimeout(() => {
  console.error(`bench-rush: watchdog after ${WATCHDOG_MS} ms`)
  void cleanup().finally(() => process.exit(1))
}, WATCHDOG_MS)
watchdog.unref()
process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)) })

// A process that only spins: the load of another tenant's CPU-bound job on the same cores.
function burn (count: number): void {
  for (let i = 0; i < count; i++) {
    burning.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
  }
}

interface Round {
  round: number
  burners: number
  load_average: number[]
  seconds: number
  statuses: Record<string, number>
  transport_errors: number
  p50_ms: number
  p99_ms: number
  max_ms: number
  pool_timeouts: number
  refused_from_memory: number
  errors_sample: string[]
  rows: { bookings: number, active_count: number, tokens_1_to_n: boolean }
  met: boolean
}

interface Stats { database: { pool: { timeouts: number } }, hot_paths?: { full_day_refusals: number } }

async function stats (): Promise<Stats> {
  if (server === null) throw new Error('no server')
  const { body } = await getJson<Stats>(`${server.url}/stats`, { 'X-Forwarded-For': '127.10.255.252' })
  return body
}

async function round (n: number, withBurners: number): Promise<Round> {
  if (server === null || sql === null) throw new Error('not started')
  const clinic = CLINIC + n
  const created = await request(`${server.url}/api/create_table`, {
    method: 'POST',
    headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': clientAddress(4000) },
    body: JSON.stringify({ clinic_id: clinic, days: { [date]: { capacity_total: seats } } })
  })
  if (created.status !== 200) throw new Error(`create_table: ${created.status} ${created.text}`)
  if (withBurners > 0) burn(withBurners)
  const before = await stats()
  const samples: string[] = []
  let i = 0
  const result = await runLoad({
    host: '127.0.0.1', port: server.port, connections: racers, maxRequests: racers, durationMs: 120_000, timeoutMs: 60_000,
    request: (conn) => {
      const k = i++
      return httpRequest('POST', '/api/patient_booking', {
        'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': clientAddress(conn + 1)
      }, JSON.stringify({ clinic_id: clinic, name: `مريض ${k}`, phone: '+9647700000000', patient_id: `R${n}-${k}`, date, source: 'patient_app' }))
    },
    captureBody: (status) => status >= 500 && samples.length < 3,
    onResponse: ({ status, body }) => { if (body !== null && samples.length < 3) samples.push(`${status} ${body.toString().slice(0, 160)}`) }
  })
  const load = loadavg().map((v) => Math.round(v * 100) / 100)
  stopBurning()
  const after = await stats()
  const [row] = await sql<Array<{ bookings: number, active_count: number, tokens_ok: boolean }>>`
    SELECT (SELECT count(*)::int FROM bookings b WHERE b.day_id = d.id AND b.status <> 'cancelled') AS bookings, d.active_count,
           (SELECT coalesce(array_agg(token ORDER BY token) = array(SELECT generate_series(1, d.active_count)), d.active_count = 0)
              FROM bookings b WHERE b.day_id = d.id AND b.status <> 'cancelled') AS tokens_ok
    FROM booking_days d WHERE d.clinic_id = ${clinic} AND d.day = ${date} AND d.lane = 'regular' AND d.status <> 'archived'`
  const fives = Object.entries(result.statuses).filter(([status]) => status.startsWith('5')).reduce((sum, [, count]) => sum + count, 0)
  return {
    round: n,
    burners: withBurners,
    load_average: load,
    seconds: result.seconds,
    statuses: result.statuses,
    transport_errors: result.errors + result.timeouts,
    p50_ms: result.latency.p50_ms,
    p99_ms: result.latency.p99_ms,
    max_ms: result.latency.max_ms,
    pool_timeouts: after.database.pool.timeouts - before.database.pool.timeouts,
    refused_from_memory: (after.hot_paths?.full_day_refusals ?? 0) - (before.hot_paths?.full_day_refusals ?? 0),
    errors_sample: samples,
    rows: { bookings: row?.bookings ?? -1, active_count: row?.active_count ?? -1, tokens_1_to_n: row?.tokens_ok === true },
    met: (result.statuses['200'] ?? 0) === seats && (result.statuses['409'] ?? 0) === racers - seats && fives === 0 && result.errors + result.timeouts === 0
  }
}

try {
  db = await startDatabase({})
  server = await startServer({ workers, env: { ...benchServerEnv, DATABASE_URL: db.url, HOT_PATHS_OFF: off } })
  sql = postgres(db.url, { max: 2, onnotice: () => {} })
  const results: Round[] = []
  for (let n = 1; n <= rounds; n++) results.push(await round(n, 0))
  if (burners > 0) for (let n = rounds + 1; n <= rounds * 2; n++) results.push(await round(n, burners))
  console.log(JSON.stringify({
    machine: machine(),
    settings: { racers, seats, rounds, workers, burners, hot_paths_off: off === '' ? [] : off.split(',') },
    rounds: results,
    goals: {
      quiet: { goal: `${seats} × 200, ${racers - seats} × 409, 0 × 5xx`, met: results.filter((r) => r.burners === 0).every((r) => r.met) },
      burning: { goal: `the same with ${burners} CPU-bound processes`, met: burners > 0 && results.filter((r) => r.burners > 0).every((r) => r.met) }
    }
  }, null, 2))
} finally {
  await cleanup()
  clearTimeout(watchdog)
}
