// What the metrics and the request log cost a request: the request pipeline (workers/http.ts `handle`: size limits,
// request id, handler, X-Request-Id, traffic figures) run in-process with a handler that answers at once, without
// the per-request hook, with the metrics only (a counter and a histogram), with the metrics and the request log
// capped as by default (LOG_REQUESTS_PER_SECOND=100), and with a line for every request. Rounds alternate the
// variants; the table gives the median of the rounds, and the cost is the difference to the pipeline without a hook.
//
//   npx tsx scripts/bench-observability.ts [--requests 20000] [--rounds 5] > /dev/null
//
// The request lines go to stdout, as in production (synchronous writes, here to /dev/null); the results go to stderr.
import { performance } from 'node:perf_hooks'
import { handle, wholeBody, type Reply, type RequestHead, type ServeOptions, type Traffic } from '../workers/http.ts'
import { WorkerMetrics } from '../workers/metrics.ts'
import { RequestLog } from '../workers/request-log.ts'
import { flag, machine } from './lib/bench.ts'

const args = process.argv.slice(2)
const requests = flag(args, 'requests', 20_000)
const rounds = flag(args, 'rounds', 5)

const traffic: Traffic = { requests: 0, inFlight: 0, errors5xx: 0 }
const metrics = new WorkerMetrics({
  id: 1,
  startedAt: Date.now(),
  restarts: 0,
  traffic,
  pool: () => ({ max: 19, open: 1, inUse: 0, waiting: 0, timeouts: 0, acquired: 0, deadlines: 0 }),
  sse: () => ({ subscribers: 0, channels: 0, framesSent: 0, cutOff: 0 }),
  localLimits: () => 0,
  cacheCopies: () => ({ entries: 0, plain: 0, gzip: 0, br: 0 }),
  ssePayloadBytes: () => 0,
  heapTrims: () => ({ trims: 0, seconds: 0, released: 0 })
})
const capped = new RequestLog(100, 1)
const everyLine = new RequestLog(Number.MAX_SAFE_INTEGER, 1)

const base: ServeOptions = {
  maxBodyBytes: 65_536,
  maxUrlBytes: 8192,
  maxHeaderBytes: 8192,
  traffic,
  route: { pattern: '/api/booking_days', group: 'bookings' }
}
const variants: Record<string, ServeOptions> = {
  'no hook': base,
  metrics: { ...base, done: (request, reply, ms, route) => metrics.request(route.group, route.pattern, request.method, reply.status, ms / 1000) },
  'metrics + log (100 lines/s)': {
    ...base,
    done: (request, reply, ms, route) => {
      metrics.request(route.group, route.pattern, request.method, reply.status, ms / 1000)
      capped.write(request, reply, route.pattern, ms)
    }
  },
  'metrics + a line every request': {
    ...base,
    done: (request, reply, ms, route) => {
      metrics.request(route.group, route.pattern, request.method, reply.status, ms / 1000)
      everyLine.write(request, reply, route.pattern, ms)
    }
  }
}

const answer: Reply = { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8', ETag: '"r1-1"' }, body: '{"ok":true}' }
const handler = (): Reply => answer
const head = (): RequestHead => ({
  method: 'GET',
  path: '/api/booking_days',
  rawQuery: 'clinic_id=7',
  headers: new Map([['host', 'api'], ['doctor-secret', 'x'], ['accept-encoding', 'gzip']]),
  headerBytes: 60,
  rawParams: [],
  ip: '127.0.0.1'
})
const body = wholeBody(Buffer.alloc(0))

async function run (options: ServeOptions): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < requests; i++) await handle(head(), handler, options, 'booking', body).reply
  return (performance.now() - started) * 1e6 / requests // ns per request
}

const results = new Map<string, number[]>(Object.keys(variants).map((name) => [name, []]))
await run(base) // warm-up
for (let round = 0; round < rounds; round++) {
  const names = Object.keys(variants)
  if (round % 2 === 1) names.reverse()
  for (const name of names) results.get(name)?.push(await run(variants[name] as ServeOptions))
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN
const bare = median(results.get('no hook') ?? [])
process.stderr.write(`${machine()}; ${requests} requests × ${rounds} rounds per variant\n\n| variant | ns / request (median) | added to the pipeline | rounds |\n|---|---|---|---|\n`)
for (const [name, values] of results) {
  const ns = median(values)
  process.stderr.write(`| ${name} | ${ns.toFixed(0)} | ${name === 'no hook' ? '—' : `+${(ns - bare).toFixed(0)} ns`} | ${values.map((v) => v.toFixed(0)).join(' ')} |\n`)
}
