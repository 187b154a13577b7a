import type { Config } from '../src/config.ts'
import type { ChildEnv } from '../src/children.ts'
import type { Database } from '../src/db/pool.ts'
import type { Engine } from '../src/uws.ts'
import type { Change, WorkerStats } from '../src/ipc/messages.ts'
import type { CoordinatorClient } from './coordinator-client.ts'
import type { CpuPool } from './cpu/pool.ts'
import type { WorkerCache } from './cache.ts'
import type { LaneReader, LaneViews } from './lanes.ts'
import type { SseHub } from './sse.ts'
import type { QueueReader, QueueViewName, QueueViews } from './queues.ts'
import type { PushSettings } from '../src/push/settings.ts'
import type { SessionRevocations } from './sessions.ts'
import type { WorkerStanding } from './standing.ts'
import type { FullDays } from './full-days.ts'
import type { FirebaseVerifier } from '../src/auth/firebase.ts'
import type { Lockouts } from './lockouts.ts'
import type { Handler, Method, Traffic } from './http.ts'
import type { Tier } from '../src/rate-limit/policy.ts'
import type { WorkerMetrics } from './metrics.ts'

// What a route module is given: the worker's own resources, never module-level singletons. workers/assemble.ts
// builds them, for the worker process and for the in-process route tests (test/helpers/app.ts), which run the same
// routes around a database of their own.
export interface WorkerContext {
  config: Config
  env: ChildEnv
  db: Database
  coordinator: CoordinatorClient
  engine: Engine
  startedAt: number
  traffic: Traffic
  localStats: () => WorkerStats
  // Call after the transaction that made the change has committed, never inside it. It resolves once the
  // coordinator has dropped the stale copies (or could not be reached), so a 200 sent after it is safe.
  publishChange: (change: Change) => Promise<void>
  cpu: CpuPool
  cache: WorkerCache
  lanes: LaneReader
  views: LaneViews // patients' redacted views of lanes, AUTH_MODE=strict only
  sse: SseHub
  // A day's live queue (now serving, places): read through the shared cache, viewed per worker, streamed by its hub.
  queues: QueueReader
  queueViews: QueueViews
  queueSse: SseHub<QueueViewName>
  // Whether push notifications are configured (the coordinator sends them; workers only register devices and report).
  push: PushSettings
  sessions: SessionRevocations // revoked dashboard sessions: the guard's copy, and how a route publishes one
  // App actors whose tokens no longer count (AUTH_MODE=strict), kept current by the coordinator.
  standing: WorkerStanding
  // Days known full: a patient-app booking for one is refused from memory (workers/full-days.ts).
  fullDays: FullDays
  // Firebase ID-token verification for phone login; null when FIREBASE_PROJECT_ID is not set.
  phone: FirebaseVerifier | null
  // Failed guesses per sign-in target and their lockout (workers/lockouts.ts).
  lockouts: Lockouts
  // This worker's counters and histograms (workers/metrics.ts); the coordinator merges every worker's.
  metrics: WorkerMetrics
}

export interface RouteDef {
  method: Method
  pattern: string
  handler: Handler
  mirror?: boolean // also served under /backend, like the legacy routers that had the mirror
  // Rate-limit tier; by default `auth` for /auth/*, `default` otherwise (architecture.md §6).
  tier?: Tier
  // This route's request body limit, when it is not MAX_BODY_BYTES (an image upload's is higher).
  maxBodyBytes?: number
  // The area the route belongs to, for the latency figures (set in workers/routes/index.ts from the module).
  group?: string
}
