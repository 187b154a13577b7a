// SSE fan-out: N live subscribers of one clinic (GET /api/booking_days?clinic_id=…&stream=true), spread over the
// workers by the kernel (SO_REUSEPORT), then one booking at a time: how long until every subscriber has the update
// frame that carries it (p50 / p99 / max over the subscribers, from the moment the booking request is sent), and what
// the whole cluster holds in memory (/stats memory.total_rss: primary + coordinator + workers, PostgreSQL not
// included). A small clinic (1 day × 20 patients) keeps the frames small; the frame size is reported.
//
// The client is built to cost little: one raw socket per subscriber (node:net), and per data chunk one
// Buffer.indexOf for the new booking's patient id (with the few bytes a chunk boundary could split kept aside), no
// EventSource parsing. Still, it is one Node process on the same 2 cores as the server: a subscriber's time is when
// the client got round to its socket, so the figures are upper bounds of what the server delivers.
//
// Needs N + ~500 open files in this process. If the soft limit is lower, the runner starts itself again under
// `bash -c 'ulimit -n …'`; where the hard limit cannot be raised (a container without CAP_SYS_RESOURCE), N is cut to
// what fits and the output says so.
//
//   npx tsx scripts/bench-sse-swarm.ts [--subscribers 10000] [--bookings 5] [--workers 2]
//
// The positions variant (issue 15.6): N subscribers of GET /api/queue/position?stream=true on one clinic's day of
// --patients bookings (subscriber i watches booking i mod patients), while the secretary calls the next patient in
// every 2 s (--advances of them): how long until every subscriber has the frame showing the new token being seen,
// and the database work per advance, counted by pg_stat_statements, once with the first 100 subscribers and once
// with all N (it must not grow with them: the day is loaded once per change for the instance).
//
//   npx tsx scripts/bench-sse-swarm.ts --variant positions [--subscribers 10000] [--patients 200] [--advances 5]
import './lib/quiet.ts'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import { startDatabase, startServer, request, type TestDatabase, type TestServer } from '../test/helpers/server.ts'
import { summarize } from './lib/load.ts'
import { SECRET, benchServerEnv, clientAddress, cpuMeter, flag, machine, mb, postmasterPid, serverStats } from './lib/bench.ts'

const args = process.argv.slice(2)
const requested = flag(args, 'subscribers', 10_000)
const bookings = flag(args, 'bookings', 5)
const workers = flag(args, 'workers', 2)
const positions = args.includes('--variant') && args[args.indexOf('--variant') + 1] === 'positions'
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

const WATCHDOG_MS = (subscribers / 50 + bookings * 40 + 240) * 1000
const CLINIC = 700
const date = addDays(iraqToday(), 1)
const run = Date.now().toString(36)

let db: TestDatabase | null = null
let server: TestServer | null = null
let sql: postgres.Sql | null = null

interface Sub {
  socket: Socket
  needle: Buffer | null
  tail: Buffer
  hitAt: number // performance.now() when the needle was seen, 0 until then
  bytes: number
  open: boolean
  onHit: (() => void) | null
  record: Buffer[] | null
}
const subs: Sub[] = []

async function cleanup (): Promise<void> {
  for (const sub of subs) sub.socket.destroy()
  await sql?.end({ timeout: 2 }).catch(() => {})
  await server?.cleanup().catch(() => {})
  await db?.destroy().catch(() => {})
}
const watchdog = setTimeout(() => {
  console.error(`bench-sse-swarm: watchdog after ${WATCHDOG_MS} ms`)
  void cleanup().finally(() => process.exit(1))
}, WATCHDOG_MS)
watchdog.unref()
process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)) })

function scan (sub: Sub, chunk: Buffer): void {
  sub.bytes += chunk.length
  sub.record?.push(chunk)
  const needle = sub.needle
  if (needle === null) return
  const data = sub.tail.length === 0 ? chunk : Buffer.concat([sub.tail, chunk])
  if (data.indexOf(needle) >= 0) {
    sub.hitAt = performance.now()
    sub.needle = null
    sub.tail = Buffer.alloc(0)
    const onHit = sub.onHit
    sub.onHit = null
    onHit?.()
    return
  }
  // Keep only what could be the start of a needle split by the next chunk (copied: a slice would pin the chunk).
  sub.tail = Buffer.from(data.subarray(Math.max(0, data.length - (needle.length - 1))))
}

const SNAPSHOT = Buffer.from('event: snapshot')

function subscribe (port: number, index: number, path = `/api/booking_days?clinic_id=${CLINIC}&stream=true&timeout=3600&heartbeat=60`): Promise<Sub> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true })
    const sub: Sub = { socket, needle: SNAPSHOT, tail: Buffer.alloc(0), hitAt: 0, bytes: 0, open: true, onHit: null, record: null }
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`subscriber ${index}: no snapshot within 30 s`)) }, 30_000)
    sub.onHit = () => { clearTimeout(timer); resolve(sub) }
    socket.on('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\n` +
        `Host: 127.0.0.1\r\nDoctor-Secret: ${SECRET}\r\nAccept: text/event-stream\r\nX-Forwarded-For: ${clientAddress(index)}\r\n\r\n`)
    })
    let first = ''
    socket.on('data', (chunk: Buffer) => {
      if (first.length < 300) first += chunk.toString().slice(0, 300)
      scan(sub, chunk)
    })
    socket.on('error', () => { sub.open = false })
    socket.on('close', () => {
      sub.open = false
      if (sub.onHit !== null) { clearTimeout(timer); reject(new Error(`subscriber ${index} closed before its snapshot: ${JSON.stringify(first)}`)) }
    })
  })
}

async function post (path: string, body: unknown): Promise<{ status: number, text: string }> {
  if (server === null) throw new Error('no server')
  const res = await request(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': clientAddress(60_000) },
    body: JSON.stringify(body)
  })
  return { status: res.status, text: res.text }
}

interface Delivery {
  booking_answer_ms: number
  reached: number
  missed: number
  from_request_ms: ReturnType<typeof summarize>
  first_ms: number
  cpu_cores: Record<string, number>
}

try {
  if (positions) await positionSwarm()
  else await daySwarm()
} finally {
  await cleanup()
  clearTimeout(watchdog)
}

// The day-stream swarm (see the top of the file).
async function daySwarm (): Promise<void> {
  db = await startDatabase()
  server = await startServer({ workers, env: { ...benchServerEnv, DATABASE_URL: db.url } })
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

  // Subscribe in batches, each batch waiting for its snapshots.
  const connectStarted = performance.now()
  const BATCH = 250
  for (let start = 0; start < subscribers && performance.now() - connectStarted < 300_000; start += BATCH) {
    const batch = await Promise.all(Array.from({ length: Math.min(BATCH, subscribers - start) }, (_, i) => subscribe(server?.port ?? 0, start + i)))
    subs.push(...batch)
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000
  await sleep(3000)
  const held = await serverStats(server)

  const deliveries: Delivery[] = []
  let frameBytes = 0
  for (let b = 1; b <= bookings; b++) {
    const marker = `SWARM-${run}-${b}`
    const needle = Buffer.from(`"patient_id":"${marker}"`)
    let pending = 0
    for (const sub of subs) {
      if (!sub.open) continue
      sub.needle = needle
      sub.tail = Buffer.alloc(0)
      sub.hitAt = 0
      pending++
    }
    const first = subs[0]
    if (b === 1 && first !== undefined) first.record = []
    let allIn: () => void = () => {}
    const everyone = new Promise<void>((resolve) => { allIn = resolve })
    for (const sub of subs) {
      if (sub.needle === null) continue
      sub.onHit = () => { if (--pending === 0) allIn() }
    }
    const meter = cpuMeter({
      load_generator: { pids: [process.pid], tree: false },
      workers: { pids: held.workers.map((w) => w.pid), tree: false },
      coordinator: { pids: held.memory.coordinator === null ? [] : [held.memory.coordinator.pid], tree: false },
      postgres: { pids: [postmasterPid(db.dataDir)], tree: true }
    })
    const sentAt = performance.now()
    const booked = await post('/api/patient_booking', { clinic_id: CLINIC, name: `مريض جديد ${b}`, phone: '+9647700000099', patient_id: marker, date, source: 'secretary_app' })
    const answeredAt = performance.now()
    if (booked.status !== 200) throw new Error(`booking: ${booked.status} ${booked.text}`)
    await Promise.race([everyone, sleep(30_000)])
    const cpu = meter.stop()
    const times: number[] = []
    let missed = 0
    for (const sub of subs) {
      if (sub.hitAt > 0) times.push(sub.hitAt - sentAt)
      else missed++
      sub.needle = null
      sub.onHit = null
    }
    const summary = summarize(times)
    deliveries.push({
      booking_answer_ms: Math.round((answeredAt - sentAt) * 100) / 100,
      reached: times.length,
      missed,
      from_request_ms: summary,
      first_ms: Math.round(Math.min(...times) * 100) / 100,
      cpu_cores: cpu
    })
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
  const median = (values: number[]): number => [...values].sort((a, c) => a - c)[Math.floor((values.length - 1) / 2)] as number
  const p99Median = median(deliveries.map((d) => d.from_request_ms.p99_ms))
  console.log(JSON.stringify({
    machine: machine(),
    settings: { subscribers_requested: requested, subscribers, open_file_limit: fdLimit, limited_by_open_files: subscribers < requested, workers, bookings, clinic: { days: 1, patients: 20 } },
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
    goals: {
      delivery_p99_ms: { goal: 250, measured_median_of_bookings: p99Median, worst: worst((d) => d.from_request_ms.p99_ms), met: p99Median < 250 },
      total_rss_mb: { goal: 600, measured: mb(Math.max(held.memory.total_rss, after.memory.total_rss)), met: Math.max(held.memory.total_rss, after.memory.total_rss) < 600 * 2 ** 20 },
      all_reached: deliveries.every((d) => d.missed === 0)
    }
  }, null, 2))
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
    const needle = Buffer.from(`"now_serving":${called},`)
    let pending = 0
    let allIn: () => void = () => {}
    const everyone = new Promise<void>((resolve) => { allIn = resolve })
    for (const sub of phase) {
      if (!sub.open) continue
      sub.needle = needle
      sub.tail = Buffer.alloc(0)
      sub.hitAt = 0
      pending++
      sub.onHit = () => { if (--pending === 0) allIn() }
    }
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
    if (pending > 0) await Promise.race([everyone, sleep(30_000)])
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
  const connectStarted = performance.now()
  const BATCH = 250
  const few = Math.min(100, subscribers)
  subs.push(...await Promise.all(Array.from({ length: few }, (_, i) => subscribe(port, i, path(i)))))
  await sleep(1000)
  const withFew: Advance[] = []
  for (let a = 0; a < Math.min(3, advances); a++) withFew.push(await advance(subs))
  for (let start = few; start < subscribers && performance.now() - connectStarted < 300_000; start += BATCH) {
    subs.push(...await Promise.all(Array.from({ length: Math.min(BATCH, subscribers - start) }, (_, i) => subscribe(port, start + i, path(start + i)))))
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000
  await sleep(3000)
  const held = await serverStats(server)
  const withAll: Advance[] = []
  for (let a = 0; a < advances; a++) withAll.push(await advance(subs))
  const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor((values.length - 1) / 2)] as number
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
