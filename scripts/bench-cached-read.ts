// Cached reads: GET /api/booking_days of a 30-day × 20-patient clinic (~141 KB of JSON) from a real server (2
// workers, embedded PostgreSQL), against a bare uWebSockets.js server (scripts/lib/bare-uws.ts, as many processes as
// workers, on the same native build) that answers with the very same bytes. Both are driven by the same load
// generator in the same run, in alternating rounds (A B, then B A, ...), so the ratio is measured under the same
// noise. Plain and with Accept-Encoding: gzip. Then the database's own count of what it ran (pg_stat_statements):
// statements per 1,000 reads, over exactly 1,000 reads and over the whole timed run. Prints JSON.
//
// Also the coordinator round trips per read (the workers' own count, /stats hot_paths) and the machine's load average.
// `--off worker-hits,limit-leases` starts the server with those hot paths switched off (HOT_PATHS_OFF): the ablation.
//
//   npx tsx scripts/bench-cached-read.ts [--seconds 6] [--rounds 5] [--concurrency 64] [--workers 2] [--off list]
import './lib/quiet.ts'
import { fork, type ChildProcess } from 'node:child_process'
import { loadavg } from 'node:os'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { freePort } from '../src/db/embedded.ts'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import { getJson, root, startDatabase, startServer, request, tempDir, type TestDatabase, type TestServer } from '../test/helpers/server.ts'
import { runLoad, httpRequest, type LoadResult } from './lib/load.ts'
import { SECRET, benchServerEnv, clientAddress, cpuMeter, flag, machine, postmasterPid, serverStats, type Root } from './lib/bench.ts'

const args = process.argv.slice(2)
const seconds = flag(args, 'seconds', 6)
const rounds = flag(args, 'rounds', 5)
const concurrency = flag(args, 'concurrency', 64)
const workers = flag(args, 'workers', 2)
const off = args.includes('--off') ? String(args[args.indexOf('--off') + 1] ?? '') : ''
const WATCHDOG_MS = (rounds * 4 * (seconds + 3) + 300) * 1000

const CLINIC = 500
const DAYS = 30
const PATIENTS = 20

let db: TestDatabase | null = null
let server: TestServer | null = null
let sql: postgres.Sql | null = null
const bare: ChildProcess[] = []
const scratch = tempDir('tabeby-bench-read-')

async function cleanup (): Promise<void> {
  for (const child of bare) if (child.exitCode === null) child.kill('SIGTERM')
  await sql?.end({ timeout: 2 }).catch(() => {})
  await server?.cleanup().catch(() => {})
  await db?.destroy().catch(() => {})
  rmSync(scratch, { recursive: true, force: true })
}
const watchdog = setTimeout(() => {
  console.error(`bench-cached-read: watchdog after ${WATCHDOG_MS} ms`)
  void cleanup().finally(() => process.exit(1))
}, WATCHDOG_MS)
watchdog.unref()
process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)) })

const path = `/api/booking_days?clinic_id=${CLINIC}`

function readSource (gzip: boolean): (conn: number) => Buffer {
  const requests = new Map<number, Buffer>()
  return (conn) => {
    let bytes = requests.get(conn)
    if (bytes === undefined) {
      bytes = httpRequest('GET', path, {
        'Doctor-Secret': SECRET,
        'X-Forwarded-For': clientAddress(conn),
        ...(gzip ? { 'Accept-Encoding': 'gzip, deflate' } : {})
      })
      requests.set(conn, bytes)
    }
    return bytes
  }
}

async function fetchBody (port: number, gzip: boolean): Promise<{ body: Buffer, status: number }> {
  let captured: { body: Buffer, status: number } | null = null
  await runLoad({
    host: '127.0.0.1', port, connections: 1, durationMs: 10_000, maxRequests: 1,
    request: readSource(gzip),
    captureBody: () => true,
    onResponse: ({ status, body }) => { captured = { status, body: body ?? Buffer.alloc(0) } }
  })
  if (captured === null) throw new Error('no answer')
  return captured
}

async function setup (): Promise<void> {
  if (server === null) throw new Error('no server')
  const today = iraqToday()
  const days: Record<string, { capacity_total: number }> = {}
  for (let d = 1; d <= DAYS; d++) days[addDays(today, d)] = { capacity_total: PATIENTS }
  const created = await request(`${server.url}/api/create_table`, {
    method: 'POST',
    headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': clientAddress(4000) },
    body: JSON.stringify({ clinic_id: CLINIC, days })
  })
  if (created.status !== 200) throw new Error(`create_table: ${created.status} ${created.text}`)
  // 600 secretary bookings, 20 a day, as the booking routes make them.
  let n = 0
  const result = await runLoad({
    host: '127.0.0.1', port: server.port, connections: 8, durationMs: 120_000, maxRequests: DAYS * PATIENTS,
    request: (conn) => {
      const i = n++
      const day = addDays(today, 1 + Math.floor(i / PATIENTS))
      const patient = (i % PATIENTS) + 1
      return httpRequest('POST', '/api/patient_booking', {
        'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': clientAddress(conn)
      }, JSON.stringify({
        clinic_id: CLINIC,
        name: `مريض تجريبي ${i + 1}`,
        phone: `+96477${String(10_000_000 + i).padStart(8, '0')}`,
        patient_id: `P-${1000 + i}`,
        date: day,
        source: 'secretary_app',
        ...(patient % 5 === 0 ? { status: 'تمت المعاينة' } : {})
      }))
    }
  })
  if ((result.statuses['200'] ?? 0) !== DAYS * PATIENTS) throw new Error(`setup bookings: ${JSON.stringify(result.statuses)}`)
}

function startBare (port: number, bodyPath: string, gzipPath: string, etag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let ready = 0
    for (let i = 0; i < workers; i++) {
      const child = fork(join(root, 'scripts/lib/bare-uws.ts'), [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, BARE_PORT: String(port), BARE_BODY: bodyPath, BARE_GZIP: gzipPath, BARE_ETAG: etag },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc']
      })
      bare.push(child)
      child.once('exit', (code) => { if (ready < workers) reject(new Error(`bare uWS exited with ${code}`)) })
      child.on('message', () => { if (++ready === workers) resolve() })
    }
  })
}

interface HotPaths { coordinator_round_trips: { by_op: Record<string, number> }, cache_reads: number, cache_own_hits: number, leased_limits: number }

// The workers' own count of what crossed to the coordinator, after a push interval so every worker has reported.
async function roundTrips (target: TestServer): Promise<HotPaths> {
  await sleep(1300)
  const { status, body } = await getJson<{ hot_paths: HotPaths }>(`${target.url}/stats`, { 'X-Forwarded-For': '127.10.255.253' })
  if (status !== 200) throw new Error(`/stats answered ${status}`)
  return body.hot_paths
}

interface Segment {
  target: 'tabeby' | 'bare'
  gzip: boolean
  round: number
  result: LoadResult
  cpu_cores: Record<string, number>
}

try {
  db = await startDatabase({ statements: true })
  sql = postgres(db.url, { max: 2, onnotice: () => {} })
  await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`
  server = await startServer({ workers, env: { ...benchServerEnv, DATABASE_URL: db.url, HOT_PATHS_OFF: off } })
  await setup()

  const plain = await fetchBody(server.port, false)
  const gz = await fetchBody(server.port, true)
  if (plain.status !== 200 || gz.status !== 200) throw new Error(`read: ${plain.status} / ${gz.status}`)
  const document = JSON.parse(plain.body.toString()) as { days: Record<string, { patients: unknown[] }> }
  const patients = Object.values(document.days).reduce((n, d) => n + d.patients.length, 0)
  const bodyPath = join(scratch, 'body.json')
  const gzipPath = join(scratch, 'body.json.gz')
  writeFileSync(bodyPath, plain.body)
  writeFileSync(gzipPath, gz.body)
  const barePort = await freePort()
  await startBare(barePort, bodyPath, gzipPath, '"r500-bare"')
  const bareCheck = await fetchBody(barePort, false)
  if (!bareCheck.body.equals(plain.body)) throw new Error('the bare server does not answer the same bytes')

  const stats = await serverStats(server)
  const postgresPid = postmasterPid(db.dataDir)
  const groups = (target: 'tabeby' | 'bare'): Record<string, Root> => target === 'tabeby'
    ? {
        load_generator: { pids: [process.pid], tree: false },
        workers: { pids: stats.workers.map((w) => w.pid), tree: false },
        coordinator: { pids: stats.memory.coordinator === null ? [] : [stats.memory.coordinator.pid], tree: false },
        postgres: { pids: [postgresPid], tree: true }
      }
    : {
        load_generator: { pids: [process.pid], tree: false },
        bare_uws: { pids: bare.map((c) => c.pid as number), tree: false }
      }

  // Warm-up of both: JIT on every side, every worker holding the entry.
  for (const port of [server.port, barePort]) {
    for (const gzip of [false, true]) await runLoad({ host: '127.0.0.1', port, connections: concurrency, durationMs: 2000, request: readSource(gzip) })
  }

  // Database statements over exactly 1,000 reads (25 connections), the clinic's entry already cached.
  const statementsOf = async (): Promise<{ total: number, by_query: Array<{ query: string, calls: number }> }> => {
    if (sql === null) throw new Error('no database')
    const rows = await sql<Array<{ query: string, calls: string }>>`
      SELECT regexp_replace(query, '[[:space:]]+', ' ', 'g') AS query, calls::text FROM pg_stat_statements
      WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC`
    return { total: rows.reduce((n, r) => n + Number(r.calls), 0), by_query: rows.slice(0, 8).map((r) => ({ query: r.query.slice(0, 100), calls: Number(r.calls) })) }
  }
  const thousandReads = async (): Promise<{ reads: number, statements: number, by_query: Array<{ query: string, calls: number }> }> => {
    if (sql === null || server === null) throw new Error('not started')
    await sql`SELECT pg_stat_statements_reset()`
    const result = await runLoad({ host: '127.0.0.1', port: server.port, connections: 25, durationMs: 60_000, maxRequests: 1000, request: readSource(false) })
    const ran = await statementsOf()
    return { reads: result.statuses['200'] ?? 0, statements: ran.total, by_query: ran.by_query }
  }
  const warmThousand = await thousandReads()

  // The timed rounds, tabeby and bare alternating, then the same with gzip.
  const cacheBefore = (await serverStats(server)).cache // /stats queries the database itself: before the reset
  const tripsBefore = await roundTrips(server)
  const loadBefore = loadavg()
  await sql`SELECT pg_stat_statements_reset()`
  const segments: Segment[] = []
  for (let round = 1; round <= rounds; round++) {
    for (const gzip of [false, true]) {
      const order: Array<'tabeby' | 'bare'> = round % 2 === 1 ? ['tabeby', 'bare'] : ['bare', 'tabeby']
      for (const target of order) {
        const meter = cpuMeter(groups(target))
        const result = await runLoad({
          host: '127.0.0.1', port: target === 'tabeby' ? server.port : barePort, connections: concurrency,
          durationMs: seconds * 1000, request: readSource(gzip)
        })
        segments.push({ target, gzip, round, result, cpu_cores: meter.stop() })
      }
    }
  }
  const runStatements = await statementsOf()
  const loadAfter = loadavg()
  const cacheAfter = (await serverStats(server)).cache
  const tripsAfter = await roundTrips(server)

  // And 1,000 reads right after a booking changed the clinic: the first read finds the entry dropped, one worker
  // reloads it (single flight across the instance), every other read waits for that fill or hits.
  const changed = await request(`${server.url}/api/patient_booking`, {
    method: 'POST',
    headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': clientAddress(4001) },
    body: JSON.stringify({ clinic_id: CLINIC, name: 'مريض جديد', phone: '+9647700000001', patient_id: 'P-NEW', date: addDays(iraqToday(), 1), source: 'secretary_app' })
  })
  if (changed.status !== 200) throw new Error(`booking: ${changed.status} ${changed.text}`)
  await sleep(500) // the coordinator's NOTIFY of that change belongs to the write, not to the reads: let it land first
  const coldThousand = await thousandReads()
  const tabebyReads = segments.filter((s) => s.target === 'tabeby').reduce((n, s) => n + s.result.requests, 0)

  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b)
    return sorted[Math.floor((sorted.length - 1) / 2)] as number
  }
  const compare = (gzip: boolean): Record<string, unknown> => {
    const pick = (target: 'tabeby' | 'bare'): Segment[] => segments.filter((s) => s.target === target && s.gzip === gzip)
    const t = pick('tabeby')
    const b = pick('bare')
    const perRound = t.map((s, i) => Math.round(s.result.requests_per_second / ((b[i]?.result.requests_per_second ?? NaN)) * 100) / 100)
    const tRps = median(t.map((s) => s.result.requests_per_second))
    const bRps = median(b.map((s) => s.result.requests_per_second))
    // Server CPU per request (µs), from /proc: less sensitive to the neighbours than requests/s, since it does not
    // depend on how much of the machine we got.
    const serverUs = (list: Segment[], groupsOf: string[]): number => median(list.map((s) =>
      groupsOf.reduce((n, g) => n + (s.cpu_cores[g] ?? 0), 0) / Math.max(1, s.result.requests_per_second) * 1e6)) | 0
    const tUs = serverUs(t, ['workers', 'coordinator', 'postgres'])
    const bUs = serverUs(b, ['bare_uws'])
    const clientUs = (list: Segment[]): number => serverUs(list, ['load_generator'])
    const non200 = (list: Segment[]): number => list.reduce((n, s) => n + s.result.requests - (s.result.statuses['200'] ?? 0) + s.result.errors, 0)
    return {
      tabeby: { rps_median: tRps, p99_ms_median: median(t.map((s) => s.result.latency.p99_ms)), p50_ms_median: median(t.map((s) => s.result.latency.p50_ms)), non_200: non200(t), rounds: t.map((s) => ({ rps: s.result.requests_per_second, p50_ms: s.result.latency.p50_ms, p99_ms: s.result.latency.p99_ms, cpu_cores: s.cpu_cores })) },
      bare: { rps_median: bRps, p99_ms_median: median(b.map((s) => s.result.latency.p99_ms)), p50_ms_median: median(b.map((s) => s.result.latency.p50_ms)), non_200: non200(b), rounds: b.map((s) => ({ rps: s.result.requests_per_second, p50_ms: s.result.latency.p50_ms, p99_ms: s.result.latency.p99_ms, cpu_cores: s.cpu_cores })) },
      server_cpu_us_per_request: { tabeby: tUs, bare: bUs, ratio_bare_over_tabeby: Math.round(bUs / tUs * 100) / 100 },
      client_cpu_us_per_request: { tabeby: clientUs(t), bare: clientUs(b) },
      ratio_per_round: perRound,
      ratio_median_of_rounds: median(perRound),
      ratio_median_rps: Math.round(tRps / bRps * 100) / 100
    }
  }
  const identity = compare(false)
  const gzipped = compare(true)
  const perThousand = (n: number, reads: number): number => Math.round(n / reads * 1000 * 100) / 100
  // The reads' own round trips: the cache lease and the rate-limit check (a /stats read adds its own, left out).
  const readOps = ['cache.lease', 'limit.hit', 'limit.take']
  const trips = readOps.reduce((n, op) => n + (tripsAfter.coordinator_round_trips.by_op[op] ?? 0) - (tripsBefore.coordinator_round_trips.by_op[op] ?? 0), 0)
  const tripsPerRead = Math.round(trips / tabebyReads * 10000) / 10000
  console.log(JSON.stringify({
    machine: machine(),
    load_average: { before: loadBefore.map((n) => Math.round(n * 100) / 100), after: loadAfter.map((n) => Math.round(n * 100) / 100) },
    settings: { seconds, rounds, concurrency, workers, hot_paths_off: off === '' ? [] : off.split(','), clinic: { days: DAYS, patients_per_day: PATIENTS, patients } },
    body_bytes: { identity: plain.body.length, gzip: gz.body.length },
    identity,
    gzip: gzipped,
    database: {
      exactly_1000_reads_cached: warmThousand,
      exactly_1000_reads_after_a_change: coldThousand,
      timed_run: { reads: tabebyReads, statements: runStatements.total, per_1000_reads: perThousand(runStatements.total, tabebyReads), by_query: runStatements.by_query },
      cache: cacheBefore === null || cacheAfter === null ? null : { hits: cacheAfter.hits - cacheBefore.hits, misses: cacheAfter.misses - cacheBefore.misses }
    },
    coordinator_round_trips: {
      reads: tabebyReads,
      by_op: Object.fromEntries(readOps.map((op) => [op, (tripsAfter.coordinator_round_trips.by_op[op] ?? 0) - (tripsBefore.coordinator_round_trips.by_op[op] ?? 0)])),
      per_read: tripsPerRead,
      own_copy_hits: tripsAfter.cache_own_hits - tripsBefore.cache_own_hits,
      leased_limit_checks: tripsAfter.leased_limits - tripsBefore.leased_limits
    },
    goals: {
      ratio_vs_bare_uws: { goal: 0.7, measured: identity.ratio_median_of_rounds, met: (identity.ratio_median_of_rounds as number) >= 0.7 },
      p99_ms: { goal: 20, measured: { identity: (identity.tabeby as { p99_ms_median: number }).p99_ms_median, gzip: (gzipped.tabeby as { p99_ms_median: number }).p99_ms_median }, met: Math.max((identity.tabeby as { p99_ms_median: number }).p99_ms_median, (gzipped.tabeby as { p99_ms_median: number }).p99_ms_median) < 20 },
      round_trips_per_read: { goal: 0, measured: tripsPerRead, met: tripsPerRead < 0.01 },
      ratio_vs_bare_uws_gzip: { goal: 0.5, measured: gzipped.ratio_median_of_rounds, met: (gzipped.ratio_median_of_rounds as number) >= 0.5 },
      statements_per_1000_reads: {
        goal: 5,
        measured: { cached: warmThousand.statements, after_a_change: coldThousand.statements, timed_run_per_1000: perThousand(runStatements.total, tabebyReads) },
        met: Math.max(warmThousand.statements, coldThousand.statements) <= 5
      }
    }
  }, null, 2))
} finally {
  await cleanup()
  clearTimeout(watchdog)
}
