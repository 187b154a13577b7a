import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { Target } from './helpers/client.ts'
import { root, waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'
import { appHeaders, day, framesOf, type OpenStream } from './helpers/booking-api.ts'
import { Scrape } from './helpers/prometheus.ts'

// /metrics and /stats of a real instance, two workers and a coordinator as processes, behind STATS_TOKEN: the merged
// counters add up to the workers' own, every figure the operator needs is there and moves under load, a crashed
// worker's restart is counted, and the terminal view (scripts/stats.ts) shows the same instance.

// Two workers, a crash and two runs of the terminal view: longer than tap's default on a busy machine.
t.setTimeout(480_000)

const TOKEN = 'cluster-stats-token-0123456789'
const auth = { Authorization: `Bearer ${TOKEN}` }
const { app: server } = await startStack(t, { mode: 'cluster', workers: 2, env: { STATS_TOKEN: TOKEN, MALLOC_TRIM_SECONDS: '1' } })

const scrape = async (): Promise<Scrape> => {
  const res = await server.request('/metrics', { headers: auth })
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${res.text}`)
  return await Scrape.parse(res.text)
}

interface Stats {
  requests: { total: number, in_flight: number, by_status_class: Record<string, number> }
  latency: { instance: boolean, workers: number[], groups: Record<string, { count: number, p50_ms: number, p95_ms: number, p99_ms: number }> }
  event_loop: Record<string, { p50_ms: number, p99_ms: number, max_ms: number }>
  restarts: { total: number }
  workers: Array<{ id: number, pid: number, uptime: number, restarts: number, requests: number }>
  coordinator: { pid: number, restarts: number }
  memory: { primary: { pid: number } }
}
const stats = async (): Promise<Stats> => (await server.request('/stats', { headers: auth })).json<Stats>()

const post = (base: Target, path: string, body: unknown) => base.request(path, { method: 'POST', headers: appHeaders, body: JSON.stringify(body) })

t.test('under load, every figure is there and moves; the merged counters add up to the workers\' own', async (t) => {
  await waitFor('both workers in /stats', async () => (await stats()).workers.length === 2)
  t.equal((await server.request('/metrics')).status, 401, 'STATS_TOKEN guards /metrics')
  t.equal((await post(server, '/api/create_table', { clinic_id: 501, days: { [day(2)]: { capacity_total: 40 } } })).status, 200)
  const stream: OpenStream = await server.openStream('/api/booking_days?clinic_id=501&stream=true&heartbeat=15&timeout=60', appHeaders)
  // A queue view too: its hub keeps each subscriber's last payload, to skip a version that leaves the view as it was.
  const serving: OpenStream = await server.openStream('/api/queue/now_serving?clinic_id=501&stream=true', { 'Doctor-Secret': 'dev-secret' })
  t.teardown(() => { stream.close(); serving.close() })
  await waitFor('the SSE snapshots', async () => [stream, serving].every((s) => framesOf(s.text()).some((f) => f.event === 'snapshot')))

  const before = await scrape()
  const READS = 120
  // Fresh connections (helpers/client.ts): the kernel spreads them over both workers.
  for (let i = 0; i < READS; i += 20) {
    await Promise.all(Array.from({ length: 20 }, () => server.request('/api/booking_days?clinic_id=501', { headers: appHeaders })))
  }
  const booked = await post(server, '/api/patient_booking', { clinic_id: 501, name: 'مريض المقاييس', phone: '+9647700000001', patient_id: 'M-1', date: day(2), source: 'secretary_app' })
  t.equal(booked.status, 200)
  await waitFor('the SSE update', async () => framesOf(stream.text()).some((f) => f.event === 'update'))
  const after = await scrape()

  const route = { route: '/api/booking_days', method: 'GET' }
  const moved = (name: string, labels: Record<string, string> = {}): number => after.total(name, labels) - before.total(name, labels)
  // The SSE request itself is counted under the same route when it was answered (its headers): before the first scrape.
  t.equal(moved('tabeby_http_requests_total', route), READS, 'each read counted once, by route pattern')
  t.equal(moved('tabeby_http_requests_total', { ...route, status_class: '2xx' }), READS, 'and status class')
  t.equal(moved('tabeby_http_request_duration_seconds', route), READS, 'each read observed once in the merged histogram')
  const perWorker = after.by('tabeby_process_http_requests_total', 'process')
  t.same([...perWorker.keys()].sort(), ['worker-1', 'worker-2'])
  t.ok([...perWorker.values()].every((n) => n > 0), `both workers answered some (${[...perWorker.values()].join(', ')})`)
  t.equal(after.total('tabeby_metrics_workers_reported'), 2, 'both workers answered the collection')
  t.equal(after.total('tabeby_http_requests_total'), after.total('tabeby_process_http_requests_total'), 'the merged route counters = the sum of the workers\' own counts')
  t.equal(after.total('tabeby_http_request_duration_seconds'), after.total('tabeby_http_requests_total'), 'the merged histograms hold every answered request')

  t.ok(moved('tabeby_cache_hits_total') > 0, `cache hits moved (${moved('tabeby_cache_hits_total')})`)
  t.ok(moved('tabeby_cache_misses_total') > 0, 'cache misses moved (the booking made the clinic stale)')
  t.ok(after.total('tabeby_cache_bytes') > 0, 'the cache holds bytes')
  t.ok(moved('tabeby_rate_limit_decisions_total', { tier: 'booking', decision: 'allowed' }) >= READS + 1, 'rate-limit decisions of the booking tier')
  // Rate limits are mostly spent from leases now (issue 14), so the reads need few round trips; the booking's change
  // and the cache's fills still cross the socket, and every one of them is observed.
  t.ok(moved('tabeby_ipc_round_trip_seconds') > 0, `IPC round trips observed (${moved('tabeby_ipc_round_trip_seconds')})`)
  t.ok(moved('tabeby_db_pool_acquired_total') > 0, 'the pools served database work')
  t.same([...after.by('tabeby_db_pool_connections', 'process').keys()].sort(), ['worker-1', 'worker-2'], 'pool figures per worker')
  t.equal(after.total('tabeby_sse_subscribers'), 2, 'the SSE subscribers')
  t.ok(moved('tabeby_sse_frames_sent_total') >= 1, 'SSE frames sent')
  // What the workers keep of the day: the days subscriber's payload (the body with its hash) is let go once sent, so
  // the workers hold only the queue view's last payload, and the cache's copy the update was rendered from.
  const plain = (await server.request('/api/booking_days?clinic_id=501', { headers: appHeaders })).text.length
  const queueView = framesOf(serving.text()).filter((f) => f.event === 'snapshot' || f.event === 'update').at(-1)?.data ?? ''
  t.equal(after.total('tabeby_sse_payload_bytes'), Buffer.byteLength(queueView), `the SSE payload kept: the queue view's (${queueView}), no day's`)
  t.ok(after.total('tabeby_worker_cache_entries') >= 1, 'a worker keeps a copy')
  t.ok(after.total('tabeby_worker_cache_bytes', { form: 'plain' }) >= plain, 'its plain bytes are counted')
  // MALLOC_TRIM_SECONDS=1 here: each worker hands its freed heap back on its own timer, a second after it started.
  t.same([...after.by('tabeby_malloc_trims_total', 'process').keys()].sort(), ['worker-1', 'worker-2'], 'malloc_trim calls per worker')
  const trimmed = await waitFor('a malloc_trim in each worker', async () => {
    const scraped = await scrape()
    return [...scraped.by('tabeby_malloc_trims_total', 'process').values()].every((n) => n >= 1) ? scraped : null
  })
  t.ok(trimmed.total('tabeby_malloc_trim_seconds_total') > 0, 'the time those calls took is counted')
  t.equal(trimmed.by('tabeby_malloc_trim_released_bytes_total', 'process').size, 2, 'what they gave back, per worker')
  t.ok(after.total('tabeby_http_requests_in_flight') >= 1, 'in flight: the scrape itself')
  for (const family of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds', 'tabeby_process_uptime_seconds']) {
    t.same([...after.by(family, 'process').keys()].sort(), ['coordinator', 'worker-1', 'worker-2'], `${family} per process`)
  }
  t.ok(after.total('tabeby_primary_resident_memory_bytes') > 0, 'the primary\'s memory')
  t.ok(moved('process_cpu_seconds_total') > 0, 'CPU time moved')

  const body = await stats()
  t.equal(body.latency.instance, true)
  t.same(body.latency.workers, [1, 2], 'the latency figures are both workers\' merged')
  const bookings = body.latency.groups.bookings
  t.ok(bookings !== undefined && bookings.count >= READS + 2, 'latency of the bookings group')
  t.ok(bookings !== undefined && bookings.p50_ms > 0 && bookings.p50_ms <= bookings.p95_ms && bookings.p95_ms <= bookings.p99_ms, `p50 ${bookings?.p50_ms} ≤ p95 ${bookings?.p95_ms} ≤ p99 ${bookings?.p99_ms} ms`)
  t.same(Object.keys(body.event_loop).sort(), ['coordinator', 'worker-1', 'worker-2'], 'event-loop delay per process')
  t.ok(body.workers.every((w) => w.uptime > 0 && w.restarts === 0), 'uptime and restarts per worker')
})

t.test('a crashed worker is restarted, and its restart is counted in /stats and /metrics', async (t) => {
  const victim = (await stats()).workers.find((w) => w.id === 1)
  if (victim === undefined) throw new Error('no worker 1')
  process.kill(victim.pid, 'SIGKILL')
  const replaced = await waitFor('worker 1 to come back', async () => {
    const body = await stats()
    const worker = body.workers.find((w) => w.id === 1)
    return worker !== undefined && worker.pid !== victim.pid ? { body, worker } : null
  }, 60_000, 200)
  t.equal(replaced.worker.restarts, 1)
  t.ok(replaced.body.restarts.total >= 1)
  const after = await waitFor('the new worker in /metrics', async () => {
    const s = await scrape()
    return s.by('tabeby_process_restarts_total', 'process').has('worker-1') ? s : null
  }, 20_000, 200)
  t.equal(after.total('tabeby_process_restarts_total', { process: 'worker-1' }), 1)
  t.equal(after.total('tabeby_process_restarts_total', { process: 'worker-2' }), 0)
  t.ok(after.total('tabeby_process_uptime_seconds', { process: 'worker-1' }) < after.total('tabeby_process_uptime_seconds', { process: 'worker-2' }), 'the new worker is younger')
})

t.test('request lines carry the worker\'s own pid and proc, and the request id sent', async (t) => {
  await server.request('/', { headers: { 'X-Request-Id': 'cluster-line-1' } })
  const line = await waitFor('the request line', async () => server.output().split('\n').find((l) => l.includes('"request_id":"cluster-line-1"')))
  const parsed = JSON.parse(line) as { proc: string, pid: number, worker: number, route: string, status: number }
  const pids = new Map((await stats()).workers.map((w) => [w.id, w.pid]))
  t.equal(parsed.proc, `worker-${parsed.worker}`)
  t.equal(parsed.pid, pids.get(parsed.worker), 'the pid of the worker that answered')
  t.match(parsed, { route: '/', status: 200 })
})

t.test('npm run stats shows the running instance, frame after frame', async (t) => {
  const body = await stats()
  const run = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/stats.ts'), '--url', server.url, '--frames', '3', '--interval', '1'], {
    cwd: root,
    env: { PATH: process.env.PATH, STATS_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  run.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  run.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  // Traffic while it watches, so the rate has something to show.
  const traffic = (async () => {
    for (let i = 0; i < 30 && run.exitCode === null; i++) {
      await server.request('/')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })()
  const code = await new Promise<number | null>((resolve) => run.on('exit', resolve))
  await traffic
  t.equal(code, 0, err)
  const frames = out.trim().split(/\n+(?=Tabeby )/)
  t.equal(frames.length, 3, 'three frames, one after another (not a terminal: no redraw)')
  t.match(frames[0], /requests\/s …/, 'no rate before a second read')
  t.match(frames[2], /requests\/s \d+\.\d/, 'a rate from the second frame on')
  const last = frames[2] ?? ''
  for (const w of body.workers) t.match(last, new RegExp(`worker-${w.id}\\s+${w.pid}\\s`), `worker ${w.id} with its pid`)
  t.match(last, new RegExp(`coordinator\\s+${body.coordinator.pid}\\s`))
  t.match(last, new RegExp(`primary\\s+${body.memory.primary.pid}\\s`))
  t.match(last, /bookings\s+\d+\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms/, 'latency of a route group')
  t.match(last, /cache\s+hit rate \d+\.\d\d%/)
  t.match(last, /sse\s+subscribers \d+/)
  t.match(last, /limits\s+memory/)
  t.match(last, /restarts 1/, 'the restart counted above')

  const refused = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/stats.ts'), '--url', server.url, '--frames', '1'], { cwd: root, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] })
  let refusal = ''
  refused.stderr.on('data', (chunk: Buffer) => { refusal += chunk.toString() })
  t.equal(await new Promise<number | null>((resolve) => refused.on('exit', resolve)), 2, 'without the token: exit 2')
  t.match(refusal, /401.*STATS_TOKEN/)
})
