import type { StandingChange } from '../auth/standing.ts'
import type { MetricObjectWithValues, MetricValue, MetricValueWithName } from 'prom-client'

// What workers and the coordinator say to each other. Each op names its request and its reply; the coordinator's
// dispatch table and the worker's client are both typed by this one map, so a new op is added in one place.

export interface PoolStats {
  max: number // connections this process may hold (its share of DB_POOL_BUDGET)
  open: number // connections currently open
  inUse: number // units of work holding a connection right now
  waiting: number // units of work queued for a connection
  timeouts: number // requests that gave up waiting (answered 503)
  acquired: number // units of work served since start
  deadlines: number // units of work that passed REQUEST_DEADLINE_MS (answered 503)
}

export interface WorkerStats {
  id: number
  pid: number
  startedAt: number
  requests: number
  inFlight: number
  errors5xx: number
  pool: PoolStats
  rss: number
  heapUsed: number
  sse: SseStats
  localLimits: number // requests limited by the worker's own counters while the coordinator was away
  restarts: number // how many times the primary has started this worker's slot again after a crash
  roundTrips: RoundTrips // coordinator calls made, by op
  hotPaths: HotPathStats
}

// The hot paths' own figures (workers/cache.ts, workers/rate-limit.ts): how often each answered without the coordinator.
export interface HotPathStats {
  cacheReads: number
  cacheOwnHits: number // served from the worker's copy, no round trip
  leasedLimits: number // rate-limit checks answered from a lease, no round trip
  leases: number // leases received
  reclaims: number // leases given back when the coordinator asked
  fullDayRefusals: number // bookings refused from memory (a day known full)
}

export interface SseStats {
  subscribers: number
  channels: number
  framesSent: number
  cutOff: number
}

export interface ProcessStats {
  pid: number
  startedAt: number
  rss: number
  heapUsed: number
}

export interface LimiterStats {
  store: 'memory' | 'redis'
  keys: number
  checks: number
  allowed: number
  denied: number
  evicted: number
  fallbacks: number // checks answered from memory because Redis was unreachable
  // With Redis: checks that waited for Redis and got no answer (each one a slow request), how often the breaker
  // opened, and whether it is open now (every check answered from memory at once, Redis probed in the background).
  redisFailures?: number
  breakerOpened?: number
  breaker?: 'open' | 'closed'
  // Rate-limit leases (coordinator/limit-leases.ts), in memory only: grants, units granted, returned, reclaims asked.
  leases?: { granted: number, units: number, returned: number, reclaims: number }
}

// The LISTEN connection that carries other instances' changes (coordinator/changes.ts).
export interface ChangeBusStats {
  listening: boolean
  resyncs: number // re-LISTENs after a drop, each followed by a resync of the cache and the SSE channels
  lastGapMs: number | null // how long the last drop lasted
  gapSinceMs: number | null // how long the current drop has lasted, while not listening
  notifications: number
}

// The database as the coordinator's idle connection sees it: unreachable means no answer within a second.
export interface DatabaseProbe {
  reachable: boolean
  latencyMs: number
  error: string | null
}

export interface ClusterStats {
  coordinator: ProcessStats & { workersConnected: number, restarts: number }
  cache: CacheStats
  limiter: LimiterStats
  changes: ChangeBusStats
  primary: { pid: number, rss: number | null }
  workers: WorkerStats[]
}

// What a worker spent through the coordinator, by op: a cached read in the steady state should cost none.
export type RoundTrips = Record<string, number>

export interface LimitGrant extends LimitResult {
  granted: number // units beyond this request's, for the worker to spend locally in this window
  window: number // the window's identity (its start on the coordinator's clock), carried back by limit.return
}

export interface LimitResult {
  allowed: boolean
  limit: number
  remaining: number
  /** Milliseconds until this key's window ends and `remaining` is back to `limit`. */
  resetMs: number
}

/** Ready-to-send response bytes, rendered once per version and shared by every worker. */
export interface CachedResponse {
  body: Uint8Array
  /** The data version the body was rendered from; the ETag is derived from it. */
  version: number
  etag: string
  contentType: string
  gzip?: Uint8Array
  br?: Uint8Array
  /** True in the shared cache and on the socket: `body` is left empty and is the gunzipped `gzip` (workers/cache.ts). */
  bodyOmitted?: boolean
}

/** Field names follow the legacy v2 `cache.stats()` (`size`, `hit_rate`, `max_size`, `usage`) that `/health` shows. */
export interface CacheStats {
  size: number
  bytes: number
  hits: number
  misses: number
  evictions: number
  expired: number
  hit_rate: string
  max_size: number
  max_bytes: number
  usage: string
}

// The instance's cache figures with the reads the workers answered from their own copies counted as the hits they
// are (workers/cache.ts): the coordinator's store only sees the reads that reached it.
export function withOwnHits (stats: CacheStats, ownHits: number): CacheStats {
  const hits = stats.hits + ownHits
  const lookups = hits + stats.misses
  return { ...stats, hits, hit_rate: `${(lookups === 0 ? 0 : (hits / lookups) * 100).toFixed(2)}%` }
}

// The answer to a read's lease: the entry (null when the worker's own copy is the current one), or "you load it
// and fill" (single flight: one loader per key for the whole instance), or "load it yourself, don't fill" (the
// loader failed or the result arrived stale).
export type Lease =
  | { state: 'hit', value: CachedResponse | null }
  | { state: 'fill', token: number } // the fill must carry it back: a fill for a flight that no longer exists is dropped
  | { state: 'miss' }

// A committed mutation: which clinic's which data changed, and the version it now has (booking_version_seq for
// the booking lanes; a clock for profile data). Caches drop what it names; SSE subscribers get the new state.
// An ads change names no clinic in particular (clinicId 0): every ads listing shows many clinics. A display change
// says a screen key of the clinic was revoked (its version the revocation's microsecond): screens are rechecked.
export interface Change {
  topic: 'regular' | 'golden' | 'clinic' | 'ads' | 'display'
  clinicId: number
  version: number
}

// The cache keys a change makes stale, for the coordinator's cache and each worker's own copies alike: a lane's days
// (`days:regular:7:…`), or a clinic's profile and every directory listing.
export function stalePrefixes (change: Change): string[] {
  if (change.topic === 'clinic') return [`clinic:${change.clinicId}:`, 'clinics:', 'ads:']
  if (change.topic === 'ads') return ['ads:']
  if (change.topic === 'display') return [] // nothing cached shows a screen key
  return [`days:${change.topic}:${change.clinicId}:`]
}

// One process's metrics as prom-client's getMetricsAsJSON gives them (src/metrics/): what a worker reports when the
// coordinator collects, and what the coordinator answers once it has merged every process's.
export type MetricsJson = Array<MetricObjectWithValues<MetricValue<string> | MetricValueWithName<string>>>
// A day whose last seat a booking took, as of the lane version that booking's transaction made (workers/full-days.ts).
export interface FullDay {
  clinicId: number
  lane: 'regular' | 'golden'
  date: string
  version: number
  active: number
  capacity: number
}

// Revoked dashboard session families and the moment each stops mattering (src/auth/revocations.ts).
export type Revocations = Array<[family: string, until: number]>

export interface Ops {
  ping: { req: null, res: { pid: number, at: number } }
  'stats.push': { req: WorkerStats, res: null }
  'stats.read': { req: null, res: ClusterStats }
  'change.publish': { req: Change, res: null }
  'cache.lease': { req: { key: string, have: number }, res: Lease }
  'cache.fill': { req: { key: string, channel: string, value: CachedResponse | null, token: number }, res: null }
  'cache.stats': { req: null, res: CacheStats }
  'cache.clear': { req: null, res: { cleared: number } }
  'limit.hit': { req: { key: string, limit: number }, res: LimitResult }
  // A check that may come with a lease: `granted` more units of the key's window for the worker to spend locally
  // (coordinator/limit-leases.ts), returned with `limit.return` when the coordinator reclaims them.
  'limit.take': { req: { key: string, limit: number }, res: LimitGrant }
  'limit.return': { req: { key: string, units: number, window: number }, res: null }
  // Told to every other worker as the 'day.full' event.
  'days.full': { req: FullDay, res: null }
  'db.probe': { req: null, res: DatabaseProbe }
  // Answered once the families are pushed to every worker.
  'sessions.revoke': { req: Revocations, res: null }
  'sessions.list': { req: null, res: Revocations }
  // src/rate-limit/lockout.ts: whether a sign-in target is locked (ms until it is not), and a failed attempt on it.
  'lockout.check': { req: { key: string }, res: { retryMs: number } }
  'lockout.fail': { req: { key: string, policy: { failures: number, windowMs: number } }, res: { retryMs: number, locked: boolean } }
  // src/auth/standing.ts: a worker's copy of the deactivated and deleted actors, and a change to it (answered once
  // every worker has been sent it).
  'standing.read': { req: null, res: { entries: Array<[string, number | null]> } }
  'standing.publish': { req: StandingChange, res: null }
  // The instance's metrics (src/metrics/): the coordinator asks every worker for its own (the `metrics.collect`
  // event, answered with `metrics.report`), merges them with its own, and answers as Prometheus text or as JSON text
  // (MetricsJson). `workers`: the ids whose figures are in it. Metrics travel as JSON text, not as msgpack records:
  // their many label shapes would crowd the record structures the hot calls share.
  'metrics.read': { req: { format: 'text' | 'json' }, res: { text: string, workers: number[] } }
  'metrics.report': { req: { round: number, worker: number, metrics: string }, res: null }
}

export type OpName = keyof Ops

// Pushed by the coordinator to every worker, no reply.
export interface Events {
  hello: { pid: number }
  change: Change
  // Changes from other instances may have been missed (the LISTEN connection dropped): drop every cached copy and
  // re-render every live SSE channel.
  resync: { gapMs: number }
  revoked: Revocations
  standing: StandingChange
  // Report your metrics for this round (`metrics.report`).
  'metrics.collect': { round: number }
  // Another worker needs the rest of this key's window: give back what is left of its lease.
  'limit.reclaim': { key: string }
  'day.full': FullDay
}

export type EventName = keyof Events
