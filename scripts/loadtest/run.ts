// One load test run: a cluster on an embedded database (or a server at --url), 500 clinics × 14 days, the mixed day
// of scripts/loadtest/mix.ts played by generator threads, midnight once, then the database's invariants. Returns
// everything the summary and the report show; the caller prints and draws it.
import { Worker } from 'node:worker_threads'
import { cpus, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { catchUp } from '../../coordinator/jobs.ts'
import { addDays, iraqToday } from '../../src/domain/calendar.ts'
import { startDatabase, startServer, request, type TestDatabase, type TestServer } from '../../test/helpers/server.ts'
import { summarize, type LatencySummary } from '../lib/load.ts'
import { SECRET, benchServerEnv, machine, postmasterPid } from '../lib/bench.ts'
import { checkInvariants, type Invariants, type Screen } from './invariants.ts'
import { intended, mixFor, ROUTES, type Mix, type Route } from './mix.ts'
import { Sampler, type Sample } from './sampler.ts'
import type { Booked, Second, ThreadMessage, ThreadPlan } from './generator.ts'

export interface RunOptions {
  users: number
  seconds: number
  workers: number // WEB_CONCURRENCY of the server this run starts
  threads: number // load generator threads
  clinics?: number
  url?: string // a running server instead of one started here
  databaseUrl?: string // its database, for the invariants (without it they are skipped)
  secret?: string
  env?: Record<string, string> // more server settings (the ablations' variants)
  viewerMode?: 'sse' | 'poll'
  viewerTimeoutSeconds?: number
  label?: string
  log?: (line: string) => void
  // Called with the database after the invariants, before anything is stopped (the test injects a violation here).
  beforeCleanup?: (sql: postgres.Sql, input: Parameters<typeof checkInvariants>[1]) => Promise<void>
}

export interface RouteSummary { statuses: Record<string, number>, latency: LatencySummary, p95_ms: number, unintended: number }

export interface TimelinePoint {
  at: number
  requests: number
  unintended: number
  byRoute: Partial<Record<Route, { n: number, p50: number, p99: number }>>
  delivery: { n: number, p50: number, p99: number }
  viewersConnected: number
  sample: Sample | null
}

export interface RunResult {
  label: string
  machine: string
  settings: Record<string, unknown>
  mix: Mix
  startedAt: string
  seconds: number
  loadAverage: { start: number[], end: number[] }
  routes: Partial<Record<Route, RouteSummary>>
  totals: { requests: number, unintended: number, unintended_rate: number, dropped: number, per_second: number }
  sse: { viewers: number, connected_at_end: number, settle_seconds: number, frames: number, cuts: number, reconnects: number, refused: number, delivery: LatencySummary & { p95_ms: number } }
  processes: Record<string, { rss_mb_first: number, rss_mb_max: number, rss_mb_last: number, cpu_mean: number, fds_first: number, fds_max: number, fds_last: number }>
  database: { budget: number | null, connections_max: number, transactions: number | null, pool_timeouts: number | null, cache_hit_rate: number | string | null }
  midnight: { at: number, days: number, clinics: number, seconds: number } | null
  invariants: Invariants | null
  timeline: TimelinePoint[]
}

const round = (v: number): number => Math.round(v * 100) / 100

// Waits for `promise`, at most `ms` (the threads report; a thread that does not is not waited for forever), leaving
// no timer behind.
async function within (promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}

// Viewers whose last screen is not their clinic's current version yet.
async function behindCount (sql: postgres.Sql, screens: Screen[]): Promise<number> {
  const clinics = [...new Set(screens.map((s) => s.clinic))]
  const rows = await sql<Array<{ clinic_id: number, version: string }>>`
    SELECT clinic_id, version::text FROM lane_versions WHERE lane = 'regular' AND clinic_id = ANY(${clinics}::int[])`
  const versions = new Map(rows.map((r) => [r.clinic_id, Number(r.version)]))
  return screens.filter((s) => s.id !== (versions.get(s.clinic) ?? null)).length
}

export async function runLoadtest (options: RunOptions): Promise<RunResult> {
  const log = options.log ?? ((line: string) => console.error(line))
  const mix = mixFor(options.users, options.clinics ?? 500)
  mix.rush.seconds = Math.min(mix.rush.seconds, Math.max(2, Math.round(options.seconds * 0.2)))
  const secret = options.secret ?? SECRET
  const today = iraqToday()
  const dates = Array.from({ length: mix.days }, (_, i) => addDays(today, i - 1))
  const clinicBase = 50_000
  const runId = Date.now().toString(36)

  let db: TestDatabase | null = null
  let server: TestServer | null = null
  let sql: postgres.Sql | null = null
  const threads: Worker[] = []
  try {
    let baseUrl = options.url ?? ''
    let databaseUrl = options.databaseUrl ?? null
    if (options.url === undefined) {
      db = await startDatabase()
      databaseUrl = db.url
      server = await startServer({ workers: options.workers, env: { ...benchServerEnv, DATABASE_URL: db.url, ...options.env } })
      baseUrl = server.url
    }
    const target = new URL(baseUrl)
    if (databaseUrl !== null) sql = postgres(databaseUrl, { max: 2, onnotice: () => {}, connection: { application_name: 'loadtest' } })

    // The server archives past days once at start; the seed's "yesterday" must come after that run, or it would be
    // archived before the day begins.
    if (sql !== null && server !== null) {
      const s = sql
      const deadline = Date.now() + 60_000
      while (Date.now() < deadline) {
        const [row] = await s`SELECT 1 FROM job_runs WHERE job = 'nightly-archive' AND run_key = ${today} AND finished_at IS NOT NULL`
        if (row !== undefined) break
        await sleep(200)
      }
    }

    log(`seeding ${mix.clinics} clinics × ${mix.days} days (${dates[0] ?? ''} … ${dates.at(-1) ?? ''})`)
    const seedOne = async (i: number): Promise<void> => {
      const clinic = clinicBase + i
      const headers = { 'Doctor-Secret': secret, 'Content-Type': 'application/json', 'X-Forwarded-For': `127.9.${(i >> 8) & 255}.${i & 255}` }
      const regular = Object.fromEntries(dates.map((d) => [d, { capacity_total: mix.capacity }]))
      const golden = Object.fromEntries(dates.slice(1).map((d) => [d, { capacity_total: mix.goldenCapacity }]))
      for (const [path, days] of [['/api/create_table', regular], ['/api/create_golden_table', golden]] as const) {
        const res = await request(`${baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify({ clinic_id: clinic, days }) })
        if (res.status !== 200) throw new Error(`seed ${path} ${clinic}: ${res.status} ${res.text.slice(0, 200)}`)
      }
    }
    for (let i = 0; i < mix.clinics; i += 8) await Promise.all(Array.from({ length: Math.min(8, mix.clinics - i) }, (_, k) => seedOne(i + k)))

    // Who is who among the server's processes, for the sampler.
    const groups: Record<string, number> = { 'load generator': process.pid }
    let budget: number | null = null
    let postmaster: number | null = null
    if (server !== null && db !== null) {
      const stats = await (await request(`${baseUrl}/stats`, { headers: { 'X-Forwarded-For': '127.9.255.254' } })).json<{
        database: { budget: { total: number } }, memory: { primary: { pid: number } | null, coordinator: { pid: number } | null, workers: Array<{ id: number, pid: number }> }
      }>()
      budget = stats.database.budget.total
      if (stats.memory.primary !== null) groups.primary = stats.memory.primary.pid
      if (stats.memory.coordinator !== null) groups.coordinator = stats.memory.coordinator.pid
      for (const w of stats.memory.workers) groups[`worker ${w.id}`] = w.pid
      postmaster = postmasterPid(db.dataDir)
    }
    const xacts = async (): Promise<number | null> => {
      if (sql === null) return null
      const [row] = await sql<Array<{ n: string }>>`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`
      return Number(row?.n ?? NaN)
    }

    // The generator threads.
    const viewerMode = options.viewerMode ?? 'sse'
    const seconds: Second[] = []
    const stopped: Array<{ booked: Booked[], replayMismatches: string[], reusedIds: string[] }> = []
    let viewerFrames = 0
    let cuts = 0
    let collectScreens: (m: Extract<ThreadMessage, { type: 'screens' }>) => void = () => {}
    const waiters = new Map<string, () => void>()
    const counts: Record<string, number> = {}
    const expect = (type: string): Promise<void> => new Promise((resolve) => {
      counts[type] = 0
      waiters.set(type, resolve)
    })
    const arrived = (type: string): void => {
      counts[type] = (counts[type] ?? 0) + 1
      if (counts[type] === options.threads) waiters.get(type)?.()
    }
    const ready = expect('ready')
    for (let thread = 0; thread < options.threads; thread++) {
      const plan: ThreadPlan = {
        host: target.hostname, port: Number(target.port || 80), secret, thread, threads: options.threads, mix, clinicBase, dates,
        durationMs: options.seconds * 1000, viewerMode, runId, viewerTimeoutSeconds: options.viewerTimeoutSeconds ?? 240
      }
      const worker = new Worker(new URL('./generator-boot.mjs', import.meta.url), { workerData: plan })
      worker.on('error', (error) => log(`generator thread ${thread}: ${error.stack ?? error.message}`))
      worker.on('message', (message: ThreadMessage) => {
        if (message.type === 'second') seconds.push(message.second)
        else if (message.type === 'stopped') { stopped.push(message); arrived('stopped') } else if (message.type === 'screens') {
          collectScreens(message)
          arrived('screens')
        } else arrived(message.type)
      })
      threads.push(worker)
    }
    log(`${options.threads} generator thread(s): ${viewerMode === 'sse' ? `${mix.viewers} SSE viewers connecting` : `${mix.viewers} viewers polling once a second`}`)
    await within(ready, 300_000)

    const loadStart = { at: new Date().toISOString(), avg: loadavg() }
    const xactsBefore = await xacts()
    const t0 = performance.now()
    const sampler = new Sampler(groups, postmaster, sql, t0)
    await sampler.sample() // the CPU baseline
    const samples: Sample[] = []
    for (const worker of threads) worker.postMessage({ type: 'go' })
    log(`load: ${options.users} users for ${options.seconds} s (${Object.entries(mix.rates).map(([k, v]) => `${k} ${round(v)}/s`).join(', ')})`)

    let midnight: RunResult['midnight'] = null
    let midnightRun: Promise<void> | null = null
    const midnightAt = options.seconds * mix.midnightFraction * 1000
    let nextLog = 30_000
    while (performance.now() - t0 < options.seconds * 1000) {
      await sleep(1000 - ((performance.now() - t0) % 1000))
      samples.push(await sampler.sample())
      const elapsed = performance.now() - t0
      if (midnightRun === null && elapsed >= midnightAt && sql !== null) {
        // The desk moves to the new day first, then the nightly run takes yesterday, as another instance's
        // coordinator would at 00:00 (coordinator/jobs.ts): its NOTIFYs are what the workers hear of. It runs beside
        // the load (and the sampling), as the real one does.
        const s = sql
        for (const worker of threads) worker.postMessage({ type: 'midnight' })
        midnightRun = sleep(1000).then(async () => {
          const at = (performance.now() - t0) / 1000
          const result = await catchUp(s)
          midnight = { at: round(at), days: result.days, clinics: result.clinics, seconds: round((performance.now() - t0) / 1000 - at) }
          log(`midnight at ${round(at)} s: the nightly archive took ${result.days} days of ${result.clinics} clinics in ${midnight.seconds} s`)
        })
      }
      if (elapsed >= nextLog) {
        const last = samples.at(-1)
        log(`${Math.round(elapsed / 1000)} s: load average ${last?.loadAverage ?? '?'}, db connections ${last?.dbConnections ?? '?'}`)
        nextLog += 30_000
      }
    }
    await midnightRun
    const stopping = expect('stopped')
    for (const worker of threads) worker.postMessage({ type: 'stop' })
    await within(stopping, 60_000)
    const loadSeconds = (performance.now() - t0) / 1000
    const xactsAfter = await xacts()
    const loadEnd = loadavg()
    // The last pushes land: the viewers are asked for their screens until every one shows its clinic's current
    // version (a viewer cut near the end comes back with Last-Event-ID meanwhile), for at most a minute. How long
    // that took is part of the result.
    const settleStart = performance.now()
    let screens: Screen[] = []
    for (;;) {
      const asked = expect('screens')
      const answers: Array<Extract<ThreadMessage, { type: 'screens' }>> = []
      collectScreens = (m) => answers.push(m)
      for (const worker of threads) worker.postMessage({ type: 'screens' })
      await within(asked, 60_000)
      screens = answers.flatMap((m) => m.screens)
      viewerFrames = answers.reduce((n, m) => n + m.viewerFrames, 0)
      cuts = answers.reduce((n, m) => n + m.cuts, 0)
      const behind = sql === null ? 0 : await behindCount(sql, screens)
      if (behind === 0 || performance.now() - settleStart > 60_000) break
      await sleep(2000)
    }
    const settleSeconds = round((performance.now() - settleStart) / 1000)
    log(`stopped; viewers settled in ${settleSeconds} s`)
    const closing = expect('closed')
    for (const worker of threads) worker.postMessage({ type: 'close' })
    await within(closing, 30_000)

    let poolTimeouts: number | null = null
    let cacheHitRate: number | string | null = null
    try {
      const stats = await (await request(`${baseUrl}/stats`, { headers: { 'X-Forwarded-For': '127.9.255.254' } })).json<{ database: { pool: { timeouts: number } }, cache: { hit_rate: number | string } | null }>()
      poolTimeouts = stats.database.pool.timeouts
      cacheHitRate = stats.cache?.hit_rate ?? null
    } catch { /* the summary says null */ }

    const booked = stopped.flatMap((s) => s.booked)
    const invariantInput = {
      clinicBase,
      clinics: mix.clinics,
      yesterday: dates[0] as string,
      midnightDone: midnight !== null,
      booked,
      reusedIds: stopped.flatMap((s) => s.reusedIds),
      replayMismatches: stopped.flatMap((s) => s.replayMismatches),
      screens
    }
    const invariants = sql === null ? null : await checkInvariants(sql, invariantInput)
    log(`invariants: ${invariants === null ? 'not checked' : `${invariants.violations} violations`}`)
    if (sql !== null) await options.beforeCleanup?.(sql, invariantInput)

    return {
      label: options.label ?? 'main',
      machine: `${machine()}; ${cpus().length} cores`,
      settings: { users: options.users, seconds: options.seconds, workers: options.workers, threads: options.threads, url: options.url ?? null, viewer_mode: viewerMode, env: options.env ?? {} },
      mix,
      startedAt: loadStart.at,
      seconds: round(loadSeconds),
      loadAverage: { start: loadStart.avg.map(round), end: loadEnd.map(round) },
      ...aggregate(seconds, samples, loadSeconds),
      sse: {
        viewers: viewerMode === 'sse' ? mix.viewers : 0,
        connected_at_end: screens.filter((v) => v.connected).length,
        settle_seconds: settleSeconds,
        frames: viewerFrames,
        cuts,
        reconnects: lastCount(seconds, 'reconnects'),
        refused: lastCount(seconds, 'refused'),
        delivery: withP95(seconds.flatMap((s) => s.deliveries))
      },
      database: {
        budget,
        connections_max: Math.max(0, ...samples.map((s) => s.dbConnections)),
        transactions: xactsBefore === null || xactsAfter === null ? null : xactsAfter - xactsBefore,
        pool_timeouts: poolTimeouts,
        cache_hit_rate: cacheHitRate
      },
      midnight,
      invariants
    }
  } finally {
    await Promise.all(threads.map((t) => t.terminate()))
    await sql?.end({ timeout: 2 }).catch(() => {})
    await server?.cleanup().catch(() => {})
    await db?.destroy().catch(() => {})
  }
}

function withP95 (values: number[]): LatencySummary & { p95_ms: number } {
  const sorted = Float64Array.from(values).sort()
  const p95 = sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] as number
  return { ...summarize(values), p95_ms: round(p95) }
}

// A thread's viewers count from its start: the run's total is each thread's last (largest) figure, summed.
function lastCount (seconds: Second[], key: 'reconnects' | 'refused'): number {
  const byThread = new Map<number, number>()
  for (const s of seconds) byThread.set(s.thread, Math.max(byThread.get(s.thread) ?? 0, s[key]))
  return [...byThread.values()].reduce((a, b) => a + b, 0)
}

function aggregate (seconds: Second[], samples: Sample[], loadSeconds: number): Pick<RunResult, 'routes' | 'totals' | 'processes' | 'timeline'> {
  const all: Partial<Record<Route, number[]>> = {}
  const statuses: Partial<Record<Route, Record<string, number>>> = {}
  const byAt = new Map<number, Second[]>()
  for (const s of seconds) {
    const list = byAt.get(s.at) ?? []
    list.push(s)
    byAt.set(s.at, list)
    for (const route of ROUTES) {
      const lat = s.latencies[route]
      if (lat !== undefined) (all[route] ??= []).push(...lat)
      for (const [status, n] of Object.entries(s.statuses[route] ?? {})) {
        const into = statuses[route] ??= {}
        into[status] = (into[status] ?? 0) + n
      }
    }
  }
  const routes: Partial<Record<Route, RouteSummary>> = {}
  let requests = 0
  let unintended = 0
  for (const route of ROUTES) {
    const lat = all[route]
    if (lat === undefined) continue
    const st = statuses[route] ?? {}
    const bad = Object.entries(st).filter(([s]) => !intended(route, Number(s))).reduce((n, [, c]) => n + c, 0)
    const summary = withP95(lat)
    routes[route] = { statuses: st, latency: summary, p95_ms: summary.p95_ms, unintended: bad }
    requests += lat.length
    unintended += bad
  }
  const timeline: TimelinePoint[] = []
  // A sample is taken at the end of its second.
  const bySecond = new Map(samples.map((s) => [Math.round(s.at) - 1, s]))
  const sampleAt = (at: number): Sample | null => bySecond.get(at) ?? null
  for (const at of [...byAt.keys()].sort((a, b) => a - b)) {
    const list = byAt.get(at) ?? []
    const point: TimelinePoint = { at, requests: 0, unintended: 0, byRoute: {}, delivery: { n: 0, p50: NaN, p99: NaN }, viewersConnected: 0, sample: sampleAt(at) }
    for (const route of ROUTES) {
      const lat = list.flatMap((s) => s.latencies[route] ?? [])
      if (lat.length === 0) continue
      const sum = summarize(lat)
      point.byRoute[route] = { n: lat.length, p50: sum.p50_ms, p99: sum.p99_ms }
      point.requests += lat.length
      for (const s of list) for (const [status, n] of Object.entries(s.statuses[route] ?? {})) if (!intended(route, Number(status))) point.unintended += n
    }
    const deliveries = list.flatMap((s) => s.deliveries)
    if (deliveries.length > 0) {
      const sum = summarize(deliveries)
      point.delivery = { n: deliveries.length, p50: sum.p50_ms, p99: sum.p99_ms }
    }
    point.viewersConnected = list.reduce((n, s) => n + s.viewersConnected, 0)
    timeline.push(point)
  }
  const processes: RunResult['processes'] = {}
  for (const name of Object.keys(samples[0]?.processes ?? {})) {
    const series = samples.map((s) => s.processes[name]).filter((p) => p !== undefined)
    const rss = series.map((p) => p.rssMb)
    const fds = series.map((p) => p.fds)
    processes[name] = {
      rss_mb_first: rss[0] ?? 0,
      rss_mb_max: Math.max(...rss),
      rss_mb_last: rss.at(-1) ?? 0,
      cpu_mean: round(series.slice(1).reduce((n, p) => n + p.cpu, 0) / Math.max(1, series.length - 1)),
      fds_first: fds[0] ?? 0,
      fds_max: Math.max(...fds),
      fds_last: fds.at(-1) ?? 0
    }
  }
  const dropped = [...new Map(seconds.map((s) => [s.thread, s.dropped])).values()].reduce((a, b) => a + b, 0)
  return {
    routes,
    totals: { requests, unintended, unintended_rate: requests === 0 ? 0 : unintended / requests, dropped, per_second: Math.round(requests / Math.max(1, loadSeconds)) },
    processes,
    timeline
  }
}
