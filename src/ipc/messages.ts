// What workers and the coordinator say to each other. Each op names its request and its reply; the coordinator's
// dispatch table and the worker's client are both typed by this one map, so a new op is added in one place.

export interface PoolStats {
  max: number // connections this process may hold (its share of DB_POOL_BUDGET)
  open: number // connections currently open
  inUse: number // units of work holding a connection right now
  waiting: number // units of work queued for a connection
  timeouts: number // requests that gave up waiting (answered 503)
  acquired: number // units of work served since start
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
}

export interface ProcessStats {
  pid: number
  startedAt: number
  rss: number
  heapUsed: number
}

export interface ClusterStats {
  coordinator: ProcessStats & { workersConnected: number }
  primary: { pid: number, rss: number | null }
  workers: WorkerStats[]
}

export interface LimitResult {
  allowed: boolean
  limit: number
  remaining: number
  resetMs: number
}

// A committed mutation: which clinic's which data changed, and the version it now has (booking_version_seq for
// the booking lanes; a clock for profile data). Caches drop what it names; SSE subscribers get the new state.
export interface Change {
  topic: 'regular' | 'golden' | 'clinic'
  clinicId: number
  version: number
}

export interface Ops {
  ping: { req: null, res: { pid: number, at: number } }
  'stats.push': { req: WorkerStats, res: null }
  'stats.read': { req: null, res: ClusterStats }
  'change.publish': { req: Change, res: null }
}

export type OpName = keyof Ops

// Pushed by the coordinator to every worker, no reply.
export interface Events {
  hello: { pid: number }
  change: Change
}

export type EventName = keyof Events
