import t from 'tap'
import { handle, wholeBody, type RequestHead, type ServeOptions } from '../workers/http.ts'
import { ConfigError, loadConfig } from '../src/config.ts'
import { startStack } from './helpers/stack.ts'
import { histogramsBy, latencyBy, quantile } from '../src/metrics/quantiles.ts'
import type { MetricsJson } from '../src/ipc/messages.ts'
import { logMark, logSince } from './helpers/log.ts'
import { Scrape } from './helpers/prometheus.ts'

// What an operator reads, route by route, in-process: /metrics as a Prometheus server parses it, the request log,
// X-Request-Id, STATS_TOKEN and /stats's one naming style. Across real processes (two workers, a restart, the
// terminal view): test/metrics-cluster.test.ts.

const SECRET = { 'Doctor-Secret': 'dev-secret' }
const TOKEN = 'stats-token-0123456789abcdef'

const { app, launch } = await startStack(t, { mode: 'in-process' })

interface Line { msg: string, level: string, proc: string, pid: number, [field: string]: unknown }
const linesSince = (mark: number): Line[] => logSince(mark).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line)

t.test('/metrics is Prometheus text that a parser reads, with every family the operator needs', async (t) => {
  const before = await Scrape.parse((await app.request('/metrics')).text)
  for (let i = 0; i < 7; i++) t.equal((await app.request('/api/booking_days?clinic_id=31', { headers: SECRET })).status, 404)
  for (let i = 0; i < 5; i++) t.equal((await app.request('/')).status, 200)
  const res = await app.request('/metrics')
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const after = await Scrape.parse(res.text)

  const route = { route: '/api/booking_days', method: 'GET' }
  const days = (s: Scrape): number => s.total('tabeby_http_requests_total', route)
  t.equal(days(after) - days(before), 7, 'requests counted by route pattern')
  const failed = { ...route, status_class: '4xx' }
  t.equal(after.total('tabeby_http_requests_total', failed) - before.total('tabeby_http_requests_total', failed), 7, 'and by status class')
  t.equal(after.total('tabeby_http_requests_total', { route: '/', status_class: '2xx' }) - before.total('tabeby_http_requests_total', { route: '/', status_class: '2xx' }), 5)

  const [histogram] = after.samples('tabeby_http_request_duration_seconds', { route: '/api/booking_days' })
  t.ok(histogram !== undefined && 'buckets' in histogram, 'a latency histogram per route')
  const buckets = histogram !== undefined && 'buckets' in histogram ? histogram.buckets : {}
  const bounds = Object.entries(buckets).map(([le, count]) => [Number(le), count] as const).sort((a, b) => a[0] - b[0])
  t.equal(bounds.length, 14, 'every bucket, +Inf included')
  t.ok(bounds.every(([, count], i) => i === 0 || count >= (bounds[i - 1]?.[1] ?? 0)), 'buckets are cumulative')
  t.equal(after.total('tabeby_http_request_duration_seconds', route), days(after), 'the histogram counted each request once')
  t.equal(histogram?.labels?.group, 'bookings', 'labelled with its route group')

  for (const family of [
    'tabeby_http_requests_in_flight', 'tabeby_sse_subscribers', 'tabeby_sse_frames_sent_total', 'tabeby_db_pool_connections',
    'tabeby_db_pool_waiting', 'tabeby_db_pool_timeouts_total', 'tabeby_cache_hits_total', 'tabeby_cache_misses_total', 'tabeby_cache_bytes',
    'tabeby_cache_evictions_total', 'tabeby_rate_limit_decisions_total', 'tabeby_ipc_round_trip_seconds', 'process_resident_memory_bytes',
    'process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds', 'tabeby_process_restarts_total', 'tabeby_process_uptime_seconds'
  ]) t.ok(after.families.has(family), family)
  t.equal(after.family('tabeby_ipc_round_trip_seconds').type, 'histogram')
  const allowed = (s: Scrape, tier: string): number => s.total('tabeby_rate_limit_decisions_total', { tier, decision: 'allowed' })
  t.ok(allowed(after, 'booking') - allowed(before, 'booking') >= 7, 'rate-limit decisions per tier: booking')
  t.ok(allowed(after, 'default') - allowed(before, 'default') >= 5, 'and default')
  t.ok(after.total('tabeby_http_requests_in_flight') >= 1, 'the scrape itself is in flight')
  t.same([...after.by('process_resident_memory_bytes', 'process').keys()].sort(), ['coordinator', 'worker-1'], 'memory per process')
  t.equal(after.total('tabeby_http_requests_total'), after.total('tabeby_process_http_requests_total'), 'the route counters add up to the worker\'s own count')
})

t.test('percentiles come from merged buckets, interpolated as Prometheus\'s histogram_quantile does', async (t) => {
  // Two workers' buckets for one group: 0.01 s → 40 + 20, 0.1 s → 90 + 60 (cumulative), +Inf → 100 + 100.
  const worker = (b1: number, b2: number, total: number, route: string): MetricsJson[number] => ({
    name: 'h',
    help: '',
    type: 'histogram',
    aggregator: 'sum',
    values: [
      { labels: { le: 0.01, group: 'g', route }, value: b1, metricName: 'h_bucket' },
      { labels: { le: 0.1, group: 'g', route }, value: b2, metricName: 'h_bucket' },
      { labels: { le: '+Inf', group: 'g', route }, value: total, metricName: 'h_bucket' },
      { labels: { group: 'g', route }, value: total * 0.05, metricName: 'h_sum' },
      { labels: { group: 'g', route }, value: total, metricName: 'h_count' }
    ]
  }) as unknown as MetricsJson[number]
  const metrics: MetricsJson = [worker(40, 90, 100, '/a'), worker(20, 60, 100, '/b')]
  const merged = histogramsBy(metrics, 'h', 'group').get('g')
  if (merged === undefined) throw new Error('no group g')
  t.equal(merged.count, 200)
  const near = (got: number | null, want: number, what: string): void => { t.ok(got !== null && Math.abs(got - want) < 1e-12, `${what}: ${String(got)}`) }
  near(quantile(merged, 0.25), 0.01 * (50 / 60), 'rank 50 of the 60 below 10 ms')
  near(quantile(merged, 0.5), 0.01 + 0.09 * (40 / 90), 'rank 100: 40 into the 90 between 10 and 100 ms')
  t.equal(quantile(merged, 0.99), 0.1, 'past the last finite bucket: its bound')
  t.same(latencyBy(metrics, 'h', 'group'), { g: { count: 200, mean_ms: 50, p50_ms: 50, p95_ms: 100, p99_ms: 100 } })
  t.equal(quantile({ bounds: new Map(), sum: 0, count: 0 }, 0.5), null, 'nothing observed: no figure')
})

t.test('every request gets an id: a sane X-Request-Id is kept, anything else replaced, and it is echoed', async (t) => {
  const sane = await app.request('/', { headers: { 'X-Request-Id': 'req-42.abc:7' } })
  t.equal(sane.headers['x-request-id'], 'req-42.abc:7')
  for (const insane of ['x'.repeat(129), 'has space', '{"level":"error"}', 'é']) {
    const res = await app.request('/', { headers: { 'X-Request-Id': insane } })
    t.match(res.headers['x-request-id'], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `${insane.slice(0, 20)} → a generated id`)
  }
  const none = await app.request('/no/such/route')
  t.equal(none.status, 404)
  t.match(none.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'on errors too')
})

t.test('one JSON line per request, with the route pattern and never a path; pid and proc stay the writer\'s', async (t) => {
  const mark = logMark()
  await app.request('/api/booking_days?clinic_id=5', { headers: { ...SECRET, 'X-Request-Id': 'trace-1' } })
  await app.request('/api/patient/9647701234567', { method: 'DELETE', headers: { ...SECRET, 'X-Request-Id': 'trace-2' } })
  t.equal((await app.request('/no/such/9647701234567', { headers: { 'X-Request-Id': 'trace-3' } })).status, 404)
  const lines = linesSince(mark).filter((l) => l.msg === 'request')
  const first = lines.find((l) => l.request_id === 'trace-1')
  t.match(first, { level: 'info', method: 'GET', route: '/api/booking_days', status: 404, worker: 1, pid: process.pid })
  t.type(first?.duration_ms, 'number')
  const second = lines.find((l) => l.request_id === 'trace-2')
  t.equal(second?.route, '/api/patient/:patient_id', 'the pattern, not the phone number in the path')
  t.equal(lines.find((l) => l.request_id === 'trace-3')?.route, 'unmatched', 'an unknown path: one label for all')
  t.notOk(logSince(mark).includes('9647701234567'), 'the path is nowhere in the log')
  for (const line of lines) t.same([line.pid, typeof line.proc], [process.pid, 'string'])
})

t.test('an unexpected error is logged with its stack and the request id; the client sees neither', async (t) => {
  const mark = logMark()
  let logged: string | null = null
  const options: ServeOptions = {
    maxBodyBytes: 1024,
    maxUrlBytes: 1024,
    maxHeaderBytes: 4096,
    traffic: { requests: 0, inFlight: 0, errors5xx: 0 },
    route: { pattern: '/boom/:id', group: 'test' },
    done: (request) => { logged = request.id }
  }
  const head: RequestHead = { method: 'GET', path: '/boom/1', rawQuery: '', headers: new Map([['x-request-id', 'boom-1']]), headerBytes: 20, rawParams: ['1'], ip: '127.0.0.1' }
  const reply = await handle(head, () => { throw new TypeError('cannot read property of undefined') }, options, 'default', wholeBody(Buffer.alloc(0))).reply
  t.equal(reply.status, 500)
  t.equal(reply.headers?.['X-Request-Id'], 'boom-1')
  t.notOk(String(reply.body).includes('TypeError'), 'no stack on the wire')
  t.equal(logged, 'boom-1')
  const line = linesSince(mark).find((l) => l.msg === 'unhandled error')
  t.match(line, { level: 'error', request_id: 'boom-1', route: '/boom/:id', method: 'GET', error: 'cannot read property of undefined' })
  t.match(line?.stack, /^TypeError: cannot read property of undefined\n\s+at /)
})

t.test('LOG_REQUESTS_PER_SECOND caps the lines; what it leaves out is counted on the next line', async (t) => {
  const capped = await launch(t, { LOG_REQUESTS_PER_SECOND: '2' })
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20)) // start of a second
  const mark = logMark()
  await Promise.all(Array.from({ length: 30 }, () => capped.request('/', { headers: { 'X-Request-Id': 'burst' } })))
  const burst = linesSince(mark).filter((l) => l.msg === 'request' && l.request_id === 'burst')
  t.ok(burst.length < 30, `${burst.length} of 30 lines written`)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  await capped.request('/', { headers: { 'X-Request-Id': 'after' } })
  const lines = linesSince(mark).filter((l) => l.msg === 'request')
  const skipped = lines.reduce((n, l) => n + Number(l.skipped ?? 0), 0)
  t.equal(burst.length + skipped, 30, 'every request is either a line or counted as skipped')

  const quiet = await launch(t, { LOG_REQUESTS_PER_SECOND: '0' })
  const quietMark = logMark()
  await quiet.request('/', { headers: { 'X-Request-Id': 'quiet' } })
  t.equal(linesSince(quietMark).filter((l) => l.request_id === 'quiet').length, 0, '0: no lines for answered requests')
})

t.test('STATS_TOKEN: the operator routes want the bearer token; /health stays public', async (t) => {
  const guarded = await launch(t, { STATS_TOKEN: TOKEN })
  for (const path of ['/stats', '/metrics', '/healthz', '/cache/stats']) {
    const none = await guarded.request(path)
    t.equal(none.status, 401, `${path} without a token`)
    t.same(none.json(), { detail: 'missing or wrong bearer token: these figures need Authorization: Bearer <STATS_TOKEN>', code: 'stats_token_invalid' })
    t.equal(none.headers['www-authenticate'], 'Bearer')
    t.equal((await guarded.request(path, { headers: { Authorization: `Bearer ${TOKEN}x` } })).status, 401, `${path} with a wrong token`)
    t.equal((await guarded.request(path, { headers: { Authorization: `Basic ${TOKEN}` } })).status, 401, `${path} with another scheme`)
    t.equal((await guarded.request(path, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 200, `${path} with the token`)
  }
  t.equal((await guarded.request('/health')).status, 200, '/health: the host\'s health check needs no token')
  // Hostile credentials and queries: a 401 or a 200, never a 500.
  for (const authorization of ['Bearer', 'Bearer ', `Bearer ${'x'.repeat(6000)}`, `Bearer ${TOKEN} ${TOKEN}`, 'bearer\t' + TOKEN, 'Bearer %00', `Bearer ${TOKEN.toUpperCase()}`]) {
    for (const path of ['/metrics?format=%00&x[]=1', '/stats?x=%E0%A4%A']) {
      const res = await guarded.request(path, { headers: { Authorization: authorization } })
      t.ok([200, 401].includes(res.status), `${path} with ${authorization.slice(0, 24)}: ${res.status}`)
    }
  }
  t.equal((await app.request('/stats')).status, 200, 'unset: public, as the v2 note had them')
  t.throws(() => loadConfig({ STATS_TOKEN: 'short' }), ConfigError, 'a short token is a configuration error')
  t.throws(() => loadConfig({ STATS_TOKEN: 'has a space in it, sixteen+' }), ConfigError)
})

t.test('/stats speaks snake_case throughout and adds latency, event-loop delay, restarts and uptime', async (t) => {
  for (let i = 0; i < 3; i++) await app.request('/api/booking_days?clinic_id=8', { headers: SECRET })
  const body = (await app.request('/stats')).json<Record<string, unknown>>()
  const camel: string[] = []
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`))
    else if (typeof value === 'object' && value !== null) {
      for (const [key, v] of Object.entries(value)) {
        if (/[A-Z]/.test(key)) camel.push(`${path}.${key}`)
        walk(v, `${path}.${key}`)
      }
    }
  }
  walk(body, '')
  t.same(camel, [], 'no camelCase key anywhere')
  t.match(body, {
    timestamp: Number,
    database: { connected: true, pool: { pool_size: Number, checked_in: Number, checked_out: Number, overflow: 0, total_capacity: Number } },
    cache: { size: Number, hits: Number, misses: Number, hit_rate: String },
    latency: { instance: true, groups: { bookings: { count: Number, p50_ms: Number, p95_ms: Number, p99_ms: Number } } },
    event_loop: { 'worker-1': { p50_ms: Number, p99_ms: Number }, coordinator: { p99_ms: Number } },
    restarts: { total: 0 },
    workers: [{ id: 1, pid: Number, uptime: Number, restarts: 0, pool: { in_use: Number, max: Number }, sse: { frames_sent: Number, cut_off: Number } }],
    requests: { total: Number, in_flight: Number, errors_5xx: Number, by_status_class: { '4xx': Number } },
    rate_limits: { by_tier: { default: { allowed: Number, denied: Number } } }
  })
  const groups = (body.latency as { groups: Record<string, { p50_ms: number, p95_ms: number, p99_ms: number }> }).groups
  const bookings = groups.bookings
  t.ok(bookings !== undefined && bookings.p50_ms <= bookings.p95_ms && bookings.p95_ms <= bookings.p99_ms, 'p50 ≤ p95 ≤ p99')
})
