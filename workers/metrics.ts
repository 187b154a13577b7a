import type { Registry } from 'prom-client'
import type { MetricsJson, PoolStats, SseStats } from '../src/ipc/messages.ts'
import { countedElsewhere, gaugedElsewhere, processRegistry } from '../src/metrics/process.ts'
import { CounterTally, HistogramTally, RequestTally } from '../src/metrics/tally.ts'
import type { CopiesHeld } from './cache.ts'
import type { TrimStats } from './heap-trim.ts'
import type { Traffic } from './http.ts'

// A worker's own metrics. What the request path pays: one counter increment and one histogram observation per
// request, one histogram observation per coordinator round trip, one counter increment per rate-limit decision, each
// a Map lookup and an add (src/metrics/tally.ts). Everything else (in-flight, pool, SSE) is read from the objects
// that already keep it, and only when the coordinator collects (GET /metrics or /stats), which is also when
// anything is serialised.

// Request latency, seconds: fine below 100 ms, where a cached read lives, coarse up to the request deadline.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
// A round trip to the coordinator: a few tens of microseconds when idle.
const IPC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25]

export interface WorkerSources {
  id: number
  startedAt: number
  restarts: number
  traffic: Traffic
  pool: () => PoolStats
  sse: () => SseStats
  localLimits: () => number
  // Response data the worker keeps: its cache copies, and the bytes of the SSE hubs' current payloads.
  cacheCopies: () => CopiesHeld
  ssePayloadBytes: () => number
  heapTrims: () => TrimStats
}

export class WorkerMetrics {
  readonly registry: Registry
  readonly name: string
  // Requests answered (the sum over `tabeby_http_requests_total`'s series, kept per process so the merged counter
  // can be checked against the workers' own).
  answered = 0
  private readonly requests = new RequestTally(
    { name: 'tabeby_http_requests_total', help: 'Requests answered, by route pattern, method and status class' },
    { name: 'tabeby_http_request_duration_seconds', help: 'Time from a request\'s arrival to its answer (an SSE stream: to its headers), by route group and route pattern', bounds: LATENCY_BUCKETS })

  private readonly limits = new CounterTally('tabeby_rate_limit_decisions_total', 'Rate-limit checks by tier and outcome (allowed, denied)')
  private readonly roundTrips = new HistogramTally('tabeby_ipc_round_trip_seconds', 'Worker-to-coordinator calls, from the call to its answer, by operation', IPC_BUCKETS)

  constructor (sources: WorkerSources) {
    this.name = `worker-${sources.id}`
    const registry = processRegistry({ name: this.name, startedAt: sources.startedAt, restarts: sources.restarts })
    this.registry = registry
    const own = { process: this.name }
    countedElsewhere(registry, 'tabeby_process_http_requests_total', 'Requests answered by this process (the sum of its tabeby_http_requests_total series)', ['process'], () => [[own, this.answered]])
    gaugedElsewhere(registry, 'tabeby_http_requests_in_flight', 'Requests arrived and not yet answered', ['process'], () => [[own, sources.traffic.inFlight]])
    gaugedElsewhere(registry, 'tabeby_db_pool_connections', 'Database connections of this process\'s pool: max (its share of DB_POOL_BUDGET), open, in use', ['process', 'state'], () => {
      const pool = sources.pool()
      return [[{ ...own, state: 'max' }, pool.max], [{ ...own, state: 'open' }, pool.open], [{ ...own, state: 'in_use' }, pool.inUse]]
    })
    gaugedElsewhere(registry, 'tabeby_db_pool_waiting', 'Units of work queued for a database connection', ['process'], () => [[own, sources.pool().waiting]])
    countedElsewhere(registry, 'tabeby_db_pool_timeouts_total', 'Requests that gave up waiting for a database connection (503)', ['process'], () => [[own, sources.pool().timeouts]])
    countedElsewhere(registry, 'tabeby_db_pool_deadlines_total', 'Units of work that passed REQUEST_DEADLINE_MS (503)', ['process'], () => [[own, sources.pool().deadlines]])
    countedElsewhere(registry, 'tabeby_db_pool_acquired_total', 'Units of work that got a database connection', ['process'], () => [[own, sources.pool().acquired]])
    gaugedElsewhere(registry, 'tabeby_sse_subscribers', 'Open SSE streams', ['process'], () => [[own, sources.sse().subscribers]])
    gaugedElsewhere(registry, 'tabeby_sse_channels', 'Queues with at least one SSE subscriber', ['process'], () => [[own, sources.sse().channels]])
    countedElsewhere(registry, 'tabeby_sse_frames_sent_total', 'SSE frames written', ['process'], () => [[own, sources.sse().framesSent]])
    countedElsewhere(registry, 'tabeby_sse_cut_off_total', 'SSE subscribers dropped for not reading', ['process'], () => [[own, sources.sse().cutOff]])
    gaugedElsewhere(registry, 'tabeby_worker_cache_bytes', 'Bytes of the worker\'s own cache copies, by form (plain, gzip, br)', ['process', 'form'], () => {
      const copies = sources.cacheCopies()
      return [[{ ...own, form: 'plain' }, copies.plain], [{ ...own, form: 'gzip' }, copies.gzip], [{ ...own, form: 'br' }, copies.br]]
    })
    gaugedElsewhere(registry, 'tabeby_worker_cache_entries', 'Copies in the worker\'s own cache', ['process'], () => [[own, sources.cacheCopies().entries]])
    gaugedElsewhere(registry, 'tabeby_sse_payload_bytes', 'Bytes of the SSE payloads the worker keeps between pushes: each queue view\'s last one, shared by its subscribers', ['process'], () => [[own, sources.ssePayloadBytes()]])
    countedElsewhere(registry, 'tabeby_malloc_trims_total', 'Calls of malloc_trim, which hands the freed pages of the C heap back to the system (MALLOC_TRIM_SECONDS)', ['process'], () => [[own, sources.heapTrims().trims]])
    countedElsewhere(registry, 'tabeby_malloc_trim_seconds_total', 'Time spent in malloc_trim, on the event loop', ['process'], () => [[own, sources.heapTrims().seconds]])
    countedElsewhere(registry, 'tabeby_malloc_trim_released_bytes_total', 'RSS given back by malloc_trim (before minus after, over the calls that lowered it)', ['process'], () => [[own, sources.heapTrims().released]])
    countedElsewhere(registry, 'tabeby_rate_limit_local_total', 'Rate-limit checks counted by the worker alone while the coordinator was away', ['process'], () => [[own, sources.localLimits()]])
  }

  request (group: string, route: string, method: string, status: number, seconds: number): void {
    this.answered++
    this.requests.observe(group, route, method, status, seconds)
  }

  rateLimit (tier: string, allowed: boolean): void {
    if (allowed) this.limits.add(tier, () => ({ tier, decision: 'allowed' }))
    else this.limits.add(`${tier} denied`, () => ({ tier, decision: 'denied' }))
  }

  roundTrip (op: string, seconds: number): void {
    this.roundTrips.observe(op, () => ({ op }), seconds)
  }

  async snapshot (): Promise<MetricsJson> {
    const own = await this.registry.getMetricsAsJSON() as MetricsJson
    return [...own, ...this.requests.json(), this.limits.json(), this.roundTrips.json()]
  }
}
