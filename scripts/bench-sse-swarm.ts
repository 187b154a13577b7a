// SSE fan-out: N live subscribers of one clinic (GET /api/booking_days?clinic_id=…&stream=true), spread over the
// workers by the kernel (SO_REUSEPORT), then one booking at a time: how long until every subscriber has the update
// frame that carries it (first / p50 / p99 / max over the subscribers, from the moment the booking request is sent;
// spread = p99 − first), and what the whole cluster holds in memory (/stats memory.total_rss: primary + coordinator +
// workers, PostgreSQL not included). A small clinic (1 day × 20 patients) keeps the frames small; the frame size is
// reported.
//
// Then, in the same run, the baseline (issue 14.4; --no-bare skips it): once the server and its subscribers are gone,
// a bare uWebSockets.js cluster (scripts/lib/bare-sse.ts: as many processes as workers, one port) gets the same number
// of subscribers from the same client, and as many rounds as bookings, each a POST whose body is a frame of the same
// byte size as the server's update frame carrying the round's marker. The goals compare the two: the fan-out's spread
// ≤ 1.15× the bare one, delivery p99 ≤ the bare p99 + 30 ms (medians of the rounds), cluster RSS ≤ 500 MB.
//
// The client (scripts/lib/sse-swarm-client.ts) is one Node process on the same 2 cores as the server: a subscriber's
// time is when the client got round to its socket, so the figures are upper bounds of what the server delivers, and
// the same bound holds for the bare server: that is why only the ratios travel.
//
// Needs N + ~500 open files in this process. If the soft limit is lower, the runner starts itself again under
// `bash -c 'ulimit -n …'`; where the hard limit cannot be raised (a container without CAP_SYS_RESOURCE), N is cut to
// what fits and the output says so.
//
//   npx tsx scripts/bench-sse-swarm.ts [--subscribers 10000] [--bookings 5] [--workers 2] [--no-bare] [--compiled]
//
// --compiled runs the server as production does (`npm run build`, then the Procfile's `node dist/src/main.js`)
// instead of through tsx, which holds ~0.7 of tsx's RSS per process (docs/BENCHMARKS.md, runtime).
//
// The positions variant (issue 15.6): N subscribers of GET /api/queue/position?stream=true on one clinic's day of
// --patients bookings (subscriber i watches booking i mod patients), while the secretary calls the next patient in
// every 2 s (--advances of them): how long until every subscriber has the frame showing the new token being seen,
// and the database work per advance, counted by pg_stat_statements, once with the first 100 subscribers and once
// with all N (it must not grow with them: the day is loaded once per change for the instance).
//
//   npx tsx scripts/bench-sse-swarm.ts --variant positions [--subscribers 10000] [--patients 200] [--advances 5]
import './lib/quiet.ts'
import { execFileSync, fork, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import { startDatabase, startServer, request, type TestDatabase, type TestServer } from '../test/helpers/server.ts'
import { freePort } from '../src/db/embedded.ts'
import { summarize } from './lib/load.ts'
import { SECRET, benchServerEnv, clientAddress, cpuMeter, flag, machine, mb, postmasterPid, serverStats } from './lib/bench.ts'
import { armAll, deliver, release, subscribeAll, type Delivery, type Sub } from './lib/sse-swarm-client.ts'

const args = process.argv.slice(2)
const requested = flag(args, 'subscribers', 10_000)
const bookings = flag(args, 'bookings', 5)
const workers = flag(args, 'workers', 2)
const positions = args.includes('--variant') && args[args.indexOf('--variant') + 1] === 'positions'
const withBare = !args.includes('--no-bare')
const compiled = args.includes('--compiled')
const patients = flag(args, 'patients', 200)
const advances = flag(args, 'advances', 5)
const FD_MARGIN = 500

function openFileLimit (): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
  const soft = Number(line?.split(/\s{2,}/)[1])
  return Number.isFinite(soft) ? soft : 1024
}

// Raise the limit by starting again under bash's ulimit, once.
if (openFileLimit() < requested + FD_MARGIN && process.env.BENCH_SSE_ULIMIT_TRIED === undefined) {
  const want = Math.max(65_536, requested + FD_MARGIN)
  const child = spawnSync('bash', ['-c', `ulimit -n ${want} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_SSE_ULIMIT_TRIED: '1' },
    timeout: 30 * 60 * 1000
  })
  process.exit(child.status ?? 1)
}
const fdLimit = openFileLimit()
const subscribers = Math.min(requested, fdLimit - FD_MARGIN)

const WATCHDOG_MS = (subscribers / 50 + bookings * 40 + 240) * 1000 * (withBare && !positions ? 2 : 1)
const CLINIC = 700
const date = addDays(iraqToday(), 1)
const run = Date.now().toString(36)
const root = join(import.meta.dirname, '..')

let db: TestDatabase | null = null
let server: TestServer | null = null
let sql: postgres.Sql | null = null
let bare: ChildProcess | null = null
const subs: Sub[] = []

async function stopServer (): Promise<void> {
  await sql?.end({ timeout: 2 }).catch(() => {})
  await server?.cleanup().catch(() => {})
  await db?.destroy().catch(() => {})
  sql = null
  server = null
  db = null
}
async function cleanup (): Promise<void> {
  for (const sub of subs) sub.socket.destroy()
  if (bare !== null && bare.exitCode === null) bare.kill('SIGTERM')
  await stopServer()
}
const watchdog = setTimeout(() => {
  console.error(`bench-sse-swarm: watchdog after ${WATCHDOG_MS} ms`)
  void cleanup().finally(() => process.exit(1))
}, WATCHDOG_MS)
watchdog.unref()
process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)) })

async function post (path: string, body: unknown): Promise<{ status: number, text: string }> {
  if (server === null) throw new Error('no server')
  const res = await request(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': clientAddress(60_000) },
    body: JSON.stringify(body)
  })
  return { status: res.status, text: res.text }
}

const median = (values: number[]): number => [...values].sort((a, c) => a - c)[Math.floor((values.length - 1) / 2)] as number

try {
  if (positions) await positionSwarm()
  else await daySwarm()
} finally {
  await cleanup()
  clearTimeout(watchdog)
}

// The day-stream swarm (see the top of the file).
async function daySwarm (): Promise<void> {
  if (compiled) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  db = await startDatabase()
  server = await startServer({ workers, build: compiled ? 'procfile' : 'source', env: { ...benchServerEnv, DATABASE_URL: db.url } })
  sql = postgres(db.url, { max: 1, onnotice: () => {} })
  const created = await post('/api/create_table', { clinic_id: CLINIC, days: { [date]: { capacity_total: 20 } } })
  if (created.status !== 200) throw new Error(`create_table: ${created.status} ${created.text}`)
  for (let i = 1; i <= 20; i++) {
    const booked = await post('/api/patient_booking', { clinic_id: CLINIC, name: `مريض ${i}`, phone: `+96477000000${String(i).padStart(2, '0')}`, patient_id: `P-${i}`, date, source: 'secretary_app' })
    if (booked.status !== 200) throw new Error(`booking: ${booked.status} ${booked.text}`)
  }
  const jsonBody = await request(`${server.url}/api/booking_days?clinic_id=${CLINIC}`, { headers: { 'Doctor-Secret': SECRET } })

  await sleep(2000) // let the workers push fresh figures to the coordinator
  const idle = await serverStats(server)

  const connectSeconds = await subscribeAll(subs, server.port, subscribers, () => `/api/booking_days?clinic_id=${CLINIC}&stream=true&timeout=3600&heartbeat=60`)
  await sleep(3000)
  const held = await serverStats(server)

  const deliveries: Delivery[] = []
  let frameBytes = 0
  for (let b = 1; b <= bookings; b++) {
    const marker = `SWARM-${run}-${b}`
    const first = subs[0]
    if (b === 1 && first !== undefined) first.record = []
    deliveries.push(await deliver(subs, Buffer.from(`"patient_id":"${marker}"`), async () => await post('/api/patient_booking', {
      clinic_id: CLINIC, name: `مريض جديد ${b}`, phone: '+9647700000099', patient_id: marker, date, source: 'secretary_app'
    }), {
      workers: { pids: held.workers.map((w) => w.pid), tree: false },
      coordinator: { pids: held.memory.coordinator === null ? [] : [held.memory.coordinator.pid], tree: false },
      postgres: { pids: [postmasterPid((db as TestDatabase).dataDir)], tree: true }
    }))
    if (b === 1 && first !== undefined) {
      await sleep(200)
      const text = Buffer.concat(first.record ?? []).toString()
      first.record = null
      const start = text.indexOf('event: update')
      const end = text.indexOf('\n\n', start)
      frameBytes = start >= 0 && end > start ? Buffer.byteLength(text.slice(start, end + 2)) : NaN
    }
    await sleep(2000)
  }
  const after = await serverStats(server)
  const open = subs.filter((s) => s.open).length

  const worst = (pick: (d: Delivery) => number): number => Math.max(...deliveries.map(pick))
  const p99Median = median(deliveries.map((d) => d.from_request_ms.p99_ms))
  const spreadMedian = median(deliveries.map((d) => d.spread_ms))
  const totalRss = Math.max(held.memory.total_rss, after.memory.total_rss)

  // The baseline, with the server and every socket of its phase gone.
  await release(subs)
  await stopServer()
  const baseline = withBare ? await bareSwarm(frameBytes) : null

  console.log(JSON.stringify({
    machine: machine(),
    settings: { subscribers_requested: requested, subscribers, open_file_limit: fdLimit, limited_by_open_files: subscribers < requested, workers, bookings, clinic: { days: 1, patients: 20 }, bare_baseline: withBare, server_form: compiled ? 'compiled' : 'tsx' },
    connect: { seconds: Math.round(connectSeconds * 10) / 10, per_second: Math.round(subscribers / connectSeconds), still_open_at_end: open },
    spread: held.workers.map((w) => ({ worker: w.id, subscribers: w.sse.subscribers })),
    frame: { update_frame_bytes: frameBytes, json_body_bytes: Buffer.byteLength(jsonBody.text) },
    deliveries,
    memory_mb: {
      idle_total_rss: mb(idle.memory.total_rss),
      with_subscribers_total_rss: mb(held.memory.total_rss),
      after_bookings_total_rss: mb(after.memory.total_rss),
      per_subscriber_kb: Math.round((held.memory.total_rss - idle.memory.total_rss) / subscribers / 1024 * 10) / 10,
      with_subscribers: {
        primary: mb(held.memory.primary?.rss ?? NaN),
        coordinator: mb(held.memory.coordinator?.rss ?? NaN),
        workers: held.memory.workers.map((w) => ({ id: w.id, rss: mb(w.rss), heap_used: mb(w.heap_used) }))
      }
    },
    bare: baseline,
    goals: {
      delivery_p99_ms: { goal: 250, measured_median_of_bookings: p99Median, worst: worst((d) => d.from_request_ms.p99_ms), met: p99Median < 250 },
      total_rss_mb: { goal: 500, measured: mb(totalRss), bare: baseline?.memory_mb.with_subscribers_total_rss ?? null, met: totalRss <= 500 * 2 ** 20 },
      ...(baseline === null
        ? {}
        : {
            spread_vs_bare: {
              goal: 1.15,
              tabeby_spread_ms_median: spreadMedian,
              bare_spread_ms_median: baseline.spread_ms_median,
              ratio: Math.round(spreadMedian / baseline.spread_ms_median * 100) / 100,
              met: spreadMedian <= 1.15 * baseline.spread_ms_median
            },
            p99_vs_bare: {
              goal_ms_over_bare: 30,
              tabeby_p99_ms_median: p99Median,
              bare_p99_ms_median: baseline.p99_ms_median,
              difference_ms: Math.round((p99Median - baseline.p99_ms_median) * 100) / 100,
              met: p99Median <= baseline.p99_ms_median + 30
            }
          }),
      all_reached: deliveries.every((d) => d.missed === 0) && (baseline?.deliveries.every((d) => d.missed === 0) ?? true)
    }
  }, null, 2))
}

function rssOf (pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
    return Number(line?.split(/\s+/)[1]) * 1024
  } catch {
    return NaN
  }
}

// The bare baseline (see the top of the file): the same subscribers, rounds and frame size against scripts/lib/bare-sse.ts.
async function bareSwarm (frameBytes: number) {
  if (!Number.isFinite(frameBytes) || frameBytes <= 0) throw new Error(`no update frame size to match: ${frameBytes}`)
  const port = await freePort()
  const child = fork(join(root, 'scripts/lib/bare-sse.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BARE_PORT: String(port), BARE_WORKERS: String(workers) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  bare = child
  const pids = await new Promise<number[]>((resolve, reject) => {
    child.once('exit', (code) => { reject(new Error(`bare SSE exited with ${code}`)) })
    child.once('message', (message: { pids: number[] }) => { resolve(message.pids) })
  })
  const counts = (): Promise<number[]> => new Promise((resolve) => {
    const got: number[] = []
    const on = (message: { worker: number, subscribers: number }): void => {
      got[message.worker] = message.subscribers
      if (got.filter((n) => n !== undefined).length === workers) { child.off('message', on); resolve(got) }
    }
    child.on('message', on)
    child.send('count')
  })
  const totalRss = (): number => pids.reduce((sum, pid) => sum + rssOf(pid), 0)
  const idleRss = totalRss()
  const connectSeconds = await subscribeAll(subs, port, subscribers, () => '/sse?stream=true')
  await sleep(3000)
  const spread = await counts()
  const heldRss = totalRss()

  const deliveries: Delivery[] = []
  for (let b = 1; b <= bookings; b++) {
    const needle = `"patient_id":"BARE-${run}-${b}"`
    const head = `event: update\nid: ${b}\ndata: {"clinic_id":${CLINIC},"days":{},${needle},"pad":"`
    const tail = '"}\n\n'
    const pad = frameBytes - Buffer.byteLength(head) - Buffer.byteLength(tail)
    if (pad < 0) throw new Error(`the update frame (${frameBytes} bytes) is smaller than the bare frame's skeleton`)
    const frame = head + 'x'.repeat(pad) + tail
    deliveries.push(await deliver(subs, Buffer.from(needle), async () => {
      const res = await request(`http://127.0.0.1:${port}/change`, { method: 'POST', headers: { 'Content-Type': 'text/event-stream' }, body: frame })
      return { status: res.status, text: res.text }
    }, { bare_uws: { pids, tree: false } }))
    await sleep(2000)
  }
  const afterRss = totalRss()
  const open = subs.filter((s) => s.open).length
  await release(subs)
  child.kill('SIGTERM')
  return {
    processes: { primary: 1, workers },
    connect: { seconds: Math.round(connectSeconds * 10) / 10, per_second: Math.round(subscribers / connectSeconds), still_open_at_end: open },
    spread: spread.map((n, worker) => ({ worker, subscribers: n })),
    frame_bytes: frameBytes,
    deliveries,
    p99_ms_median: median(deliveries.map((d) => d.from_request_ms.p99_ms)),
    spread_ms_median: median(deliveries.map((d) => d.spread_ms)),
    memory_mb: { idle_total_rss: mb(idleRss), with_subscribers_total_rss: mb(heldRss), after_rounds_total_rss: mb(afterRss) }
  }
}

// The positions variant (see the top of the file).
async function positionSwarm (): Promise<void> {
  db = await startDatabase({ statements: true })
  server = await startServer({ workers, env: { ...benchServerEnv, DATABASE_URL: db.url } })
  sql = postgres(db.url, { max: 1, onnotice: () => {} })
  await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`
  const created = await post('/api/create_table', { clinic_id: CLINIC, days: { [date]: { capacity_total: patients } } })
  if (created.status !== 200) throw new Error(`create_table: ${created.status} ${created.text}`)
  const ids: string[] = []
  for (let i = 1; i <= patients; i++) {
    const booked = await post('/api/patient_booking', { clinic_id: CLINIC, name: `مريض ${i}`, phone: '+9647700000001', patient_id: `P-${i}`, date, source: 'secretary_app' })
    if (booked.status !== 200) throw new Error(`booking: ${booked.status} ${booked.text}`)
    ids.push((JSON.parse(booked.text) as { booking_id: string }).booking_id)
  }
  const statementCalls = async (): Promise<number> => {
    const [row] = await (sql as postgres.Sql)<Array<{ n: string }>>`
      SELECT coalesce(sum(calls), 0)::text AS n FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'`
    return Number(row?.n ?? 0)
  }

  let called = 0
  interface Advance { subscribers: number, statements: number, reached: number, missed: number, from_request_ms: ReturnType<typeof summarize>, cpu_cores: Record<string, number> }
  const advance = async (phase: Sub[]): Promise<Advance> => {
    called++
    const everyone = armAll(phase, Buffer.from(`"now_serving":${called},`))
    const held = await serverStats(server as TestServer)
    const meter = cpuMeter({
      load_generator: { pids: [process.pid], tree: false },
      workers: { pids: held.workers.map((w) => w.pid), tree: false },
      postgres: { pids: [postmasterPid((db as TestDatabase).dataDir)], tree: true }
    })
    const before = await statementCalls()
    const sentAt = performance.now()
    const res = await post('/api/edit_patient_booking', { clinic_id: CLINIC, booking_id: ids[called - 1], status: 'in_progress' })
    if (res.status !== 200) throw new Error(`advance: ${res.status} ${res.text}`)
    await Promise.race([everyone, sleep(30_000)])
    const cpu = meter.stop()
    await sleep(2000) // the secretary's pace; also lets late statements land before they are counted
    const statements = await statementCalls() - before - 1 // the count's own statement
    const times: number[] = []
    let missed = 0
    for (const sub of phase) {
      if (sub.hitAt > 0) times.push(sub.hitAt - sentAt)
      else if (sub.open) missed++
      sub.needle = null
      sub.onHit = null
    }
    return { subscribers: phase.length, statements, reached: times.length, missed, from_request_ms: summarize(times), cpu_cores: cpu }
  }

  const path = (i: number): string => `/api/queue/position?booking_id=${ids[i % patients] as string}&stream=true&timeout=3600&heartbeat=60`
  const port = server.port
  const few = Math.min(100, subscribers)
  let connectSeconds = await subscribeAll(subs, port, few, path)
  await sleep(1000)
  const withFew: Advance[] = []
  for (let a = 0; a < Math.min(3, advances); a++) withFew.push(await advance(subs))
  connectSeconds += await subscribeAll(subs, port, subscribers, path, few)
  await sleep(3000)
  const held = await serverStats(server)
  const withAll: Advance[] = []
  for (let a = 0; a < advances; a++) withAll.push(await advance(subs))
  const p99Median = median(withAll.map((d) => d.from_request_ms.p99_ms))
  console.log(JSON.stringify({
    machine: machine(),
    variant: 'positions',
    settings: { subscribers_requested: requested, subscribers: subs.length, open_file_limit: fdLimit, workers, patients, advances, pace_ms: 2000 },
    connect: { seconds: Math.round(connectSeconds * 10) / 10, still_open_at_end: subs.filter((s) => s.open).length },
    spread: held.workers.map((w) => ({ worker: w.id, subscribers: w.sse.subscribers })),
    advances_with_100: withFew,
    advances_with_all: withAll,
    memory_mb: { with_subscribers_total_rss: mb(held.memory.total_rss) },
    statements_per_advance: {
      with_100_subscribers: median(withFew.map((d) => d.statements)),
      with_all_subscribers: median(withAll.map((d) => d.statements)),
      grows_with_subscribers: median(withAll.map((d) => d.statements)) > median(withFew.map((d) => d.statements))
    },
    goals: {
      delivery_p99_ms: { goal: 250, measured_median_of_advances: p99Median, worst: Math.max(...withAll.map((d) => d.from_request_ms.p99_ms)), met: p99Median < 250 },
      all_reached: withAll.every((d) => d.missed === 0)
    }
  }, null, 2))
}
