import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { CacheStats, ClusterStats, PoolStats, SseStats, WorkerStats } from '../../src/ipc/messages.ts'
import { processStats } from '../../src/process-stats.ts'
import { ApiError, errors, isDatabaseUnreachable } from '../../src/errors.ts'
import { connectionsByProcess, ping, tableCounts } from '../../src/ops/store.ts'
import { errorFields, log } from '../../src/log.ts'
import { CoordinatorUnavailable } from '../coordinator-client.ts'
import { packageRoot } from '../../src/paths.ts'
import { pushHealth } from '../../src/push/settings.ts'
import { json, type Reply } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { defineRoute } from './define.ts'

export const VERSION = (createRequire(import.meta.url)(join(packageRoot, 'package.json')) as { version: string }).version

// The legacy banner, verbatim: some app builds show it on their "server status" screen.
const banner = {
  message: 'Tabeby API v2.0.0 is running',
  status: 'optimized for 10K+ concurrent users',
  docs: '/docs',
  health: '/health',
  stats: '/stats'
}

// Render restarts an instance whose health check fails, so /health must fail only for what a restart could cure:
// the database unreachable (503). A busy pool is a healthy instance at work (200, with the pool's figures).
const DB_CHECK_TIMEOUT_MS = 1000

interface DatabaseCheck {
  status: 'ok' | 'error'
  message: string
  latency_ms: number
  busy: boolean // every connection of some worker's pool is taken
}

function poolBusy (pool: PoolStats): boolean {
  return pool.waiting > 0 || (pool.max > 0 && pool.inUse >= pool.max)
}

// The coordinator's probe runs on its LISTEN connection, which never waits behind a request or a job: no answer
// there within a second means the database does not answer. Without a coordinator the worker asks through its own
// pool, where a slow answer may only mean a busy pool: then it says busy, not down.
// `busy` here is only this worker's own pool; the caller adds what the other workers' pools say.
async function checkDatabase (ctx: WorkerContext): Promise<DatabaseCheck> {
  const busy = poolBusy(ctx.db.stats())
  const started = performance.now()
  const elapsed = (): number => Math.round(performance.now() - started)
  try {
    const probe = await ctx.coordinator.call('db.probe', null, DB_CHECK_TIMEOUT_MS + 250)
    if (probe.reachable) return { status: 'ok', message: 'Database connection successful', latency_ms: probe.latencyMs, busy }
    log.warn('database check failed', { error: probe.error })
    return { status: 'error', message: `Database connection failed: ${probe.error ?? 'unreachable'}`, latency_ms: probe.latencyMs, busy }
  } catch (error) {
    if (!(error instanceof CoordinatorUnavailable)) throw error
  }
  // A coordinator that is away refuses at once; one that is frozen has already cost its timeout: the whole check
  // stays near a second either way.
  const left = Math.max(250, DB_CHECK_TIMEOUT_MS + 250 - elapsed())
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      ctx.db.run(ping),
      new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${left} ms`)), left) })
    ])
    return { status: 'ok', message: 'Database connection successful', latency_ms: elapsed(), busy }
  } catch (error) {
    if (!isDatabaseUnreachable(error) && (poolBusy(ctx.db.stats()) || (error instanceof ApiError && error.code === 'database_busy'))) {
      return { status: 'ok', message: 'Database busy: every connection is in use', latency_ms: elapsed(), busy: true }
    }
    log.warn('database check failed', errorFields(error))
    const reason = error instanceof Error ? error.message : String(error)
    return { status: 'error', message: `Database connection failed: ${reason}`, latency_ms: elapsed(), busy }
  } finally {
    clearTimeout(timer)
  }
}

// Figures for the whole instance from the coordinator; this worker's own when the coordinator is away.
async function cluster (ctx: WorkerContext): Promise<{ stats: ClusterStats | null, workers: WorkerStats[] }> {
  try {
    const stats = await ctx.coordinator.call('stats.read', null)
    const workers = stats.workers.filter((w) => w.id !== ctx.env.workerId)
    workers.push(ctx.localStats()) // this worker's figures are fresher than its last push
    workers.sort((a, b) => a.id - b.id)
    return { stats, workers }
  } catch {
    return { stats: null, workers: [ctx.localStats()] }
  }
}

function sumPools (workers: WorkerStats[]): PoolStats {
  const total: PoolStats = { max: 0, open: 0, inUse: 0, waiting: 0, timeouts: 0, acquired: 0, deadlines: 0 }
  for (const { pool } of workers) {
    total.max += pool.max
    total.open += pool.open
    total.inUse += pool.inUse
    total.waiting += pool.waiting
    total.timeouts += pool.timeouts
    total.acquired += pool.acquired
    total.deadlines += pool.deadlines
  }
  return total
}

// seed-v2.md §5's connection_pool shape, filled from our pools: no overflow exists, the budget is the capacity.
function legacyPoolShape (ctx: WorkerContext, pool: PoolStats): Record<string, number> {
  return {
    pool_size: pool.open,
    checked_in: Math.max(0, pool.open - pool.inUse),
    checked_out: pool.inUse,
    overflow: 0,
    waiting: pool.waiting,
    total_capacity: ctx.config.dbPoolBudget,
    workers_capacity: pool.max
  }
}

// seed-v2.md §2/§5: {size, hits, misses, hit_rate, usage}, for the whole instance (the cache is the coordinator's).
function legacyCacheShape (cache: CacheStats): Record<string, number | string> {
  return { size: cache.size, hits: cache.hits, misses: cache.misses, hit_rate: cache.hit_rate, usage: cache.usage }
}

function sumSse (workers: WorkerStats[]): SseStats {
  const total: SseStats = { subscribers: 0, channels: 0, framesSent: 0, cutOff: 0 }
  for (const { sse } of workers) {
    total.subscribers += sse.subscribers
    total.channels += sse.channels
    total.framesSent += sse.framesSent
    total.cutOff += sse.cutOff
  }
  return total
}

function uptimeSeconds (startedAt: number): number {
  return Math.round((Date.now() - startedAt) / 100) / 10
}

async function health (ctx: WorkerContext): Promise<{ healthy: boolean, body: Record<string, unknown> }> {
  const [checked, { stats, workers }] = await Promise.all([checkDatabase(ctx), cluster(ctx)])
  const database = { ...checked, busy: checked.busy || workers.some((w) => poolBusy(w.pool)) }
  const healthy = database.status === 'ok'
  return {
    healthy,
    body: {
      status: healthy ? 'healthy' : 'unhealthy',
      version: VERSION,
      timestamp: new Date().toISOString(),
      engine: ctx.engine,
      checks: {
        database,
        coordinator: stats === null
          ? { status: 'degraded', message: 'coordinator unreachable: workers use local fallbacks' }
          : { status: 'ok', message: 'Coordinator connected', pid: stats.coordinator.pid },
        // From the configuration alone: a health check never calls Google.
        phone_login: ctx.phone === null
          ? { status: 'disabled', configured: false, message: 'FIREBASE_PROJECT_ID is not set: phone sign-in answers 503' }
          : { status: 'ok', configured: true, project_id: ctx.phone.projectId, key_fetches: ctx.phone.keyFetches },
        // Push notifications, from the configuration alone as well (the coordinator sends them).
        push: pushHealth(ctx.push)
      },
      performance: {
        connection_pool: legacyPoolShape(ctx, sumPools(workers)),
        cache: stats === null ? null : legacyCacheShape(stats.cache),
        workers: workers.length
      }
    }
  }
}

async function healthz (ctx: WorkerContext): Promise<Reply> {
  const result = await health(ctx)
  let counts: Record<string, number> | null = null
  if (result.healthy) {
    try {
      counts = await ctx.db.run(tableCounts)
    } catch (error) {
      log.warn('healthz counts failed', errorFields(error))
    }
  }
  return json(result.healthy ? 200 : 503, {
    ...result.body,
    statistics: { database: counts },
    endpoints: { health: '/health', healthz: '/healthz', stats: '/stats', docs: '/docs' }
  })
}

// /stats, /cache/stats and /cache/clear sent legacy's time.time(), seconds since the epoch as a float, which the
// dashboard may do arithmetic on; /health and /healthz sent an ISO string. Each keeps its type, and the float ones
// carry the ISO form beside it.
function legacyTimestamp (): { timestamp: number, timestamp_iso: string } {
  const now = Date.now()
  return { timestamp: now / 1000, timestamp_iso: new Date(now).toISOString() }
}

async function stats (ctx: WorkerContext): Promise<Reply> {
  const [{ stats: clusterStats, workers }, database] = await Promise.all([cluster(ctx), checkDatabase(ctx)])
  let connections: Record<string, number> | null = null
  if (database.status === 'ok') {
    try {
      connections = await ctx.db.run((sql) => connectionsByProcess(sql, ctx.env.instance))
    } catch (error) {
      log.warn('connection count failed', errorFields(error))
    }
  }
  const pool = sumPools(workers)
  const sse = sumSse(workers)
  const coordinator = clusterStats?.coordinator ?? null
  const rssWorkers = workers.reduce((total, w) => total + w.rss, 0)
  const rssTotal = rssWorkers + (coordinator?.rss ?? 0) + (clusterStats?.primary.rss ?? 0)
  return json(200, {
    ...legacyTimestamp(),
    version: VERSION,
    engine: ctx.engine,
    // Names this instance's connections in pg_stat_activity (application_name `tabeby:<instance>:<process>`).
    instance: ctx.env.instance,
    database: {
      connected: database.status === 'ok',
      pool: { ...legacyPoolShape(ctx, pool), in_use: pool.inUse, timeouts: pool.timeouts, acquired: pool.acquired, deadlines: pool.deadlines },
      budget: { total: ctx.config.dbPoolBudget, coordinator: ctx.config.dbPoolBudget - ctx.env.dbShare * ctx.config.webConcurrency, per_worker: ctx.env.dbShare },
      connections
    },
    coordinator: coordinator === null
      ? null
      : { pid: coordinator.pid, uptime: uptimeSeconds(coordinator.startedAt), workers_connected: coordinator.workersConnected },
    // Other instances' changes arrive on the coordinator's LISTEN connection; each re-LISTEN after a drop resyncs.
    changes: clusterStats === null
      ? null
      : {
          listening: clusterStats.changes.listening,
          resyncs: clusterStats.changes.resyncs,
          last_gap_ms: clusterStats.changes.lastGapMs,
          gap_since_ms: clusterStats.changes.gapSinceMs,
          notifications: clusterStats.changes.notifications
        },
    cache: clusterStats?.cache ?? null,
    rate_limits: clusterStats === null ? null : { ...clusterStats.limiter, worker_local: workers.reduce((n, w) => n + w.localLimits, 0) },
    sse: { subscribers: sse.subscribers, frames_sent: sse.framesSent, cut_off: sse.cutOff },
    workers: workers.map((w) => ({
      id: w.id,
      pid: w.pid,
      uptime: uptimeSeconds(w.startedAt),
      requests: w.requests,
      in_flight: w.inFlight,
      errors_5xx: w.errors5xx,
      pool: w.pool,
      sse: w.sse
    })),
    memory: {
      total_rss: rssTotal,
      primary: clusterStats === null ? null : { pid: clusterStats.primary.pid, rss: clusterStats.primary.rss },
      coordinator: coordinator === null ? null : { pid: coordinator.pid, rss: coordinator.rss },
      workers: workers.map((w) => ({ id: w.id, pid: w.pid, rss: w.rss, heap_used: w.heapUsed })),
      this_worker: processStats(ctx.startedAt)
    }
  })
}

// seed-v2.md §6: the cache's figures for the whole instance, and an admin-only clear (the legacy one was open).
async function cacheStats (ctx: WorkerContext): Promise<Reply> {
  const stats = await ctx.coordinator.call('cache.stats', null).catch(() => null)
  if (stats === null) throw errors.cacheUnavailable()
  return json(200, {
    cache: { size: stats.size, hits: stats.hits, misses: stats.misses, hit_rate: stats.hit_rate, max_size: stats.max_size, usage: stats.usage, bytes: stats.bytes, max_bytes: stats.max_bytes, evictions: stats.evictions, expired: stats.expired },
    ...legacyTimestamp()
  })
}

export function opsRoutes (ctx: WorkerContext): RouteDef[] {
  return [
    { method: 'get', pattern: '/cache/stats', handler: () => cacheStats(ctx) },
    defineRoute(ctx, {
      method: 'post',
      pattern: '/cache/clear',
      auth: 'admin',
      summary: 'Empty the shared cache of the instance (admin only)',
      handler: async () => {
        const { cleared } = await ctx.coordinator.call('cache.clear', null)
        return json(200, { message: 'Cache cleared successfully', cleared, ...legacyTimestamp() })
      }
    }),
    { method: 'get', pattern: '/', handler: () => json(200, banner) },
    {
      method: 'get',
      pattern: '/health',
      tier: 'exempt',
      handler: async () => {
        const result = await health(ctx)
        return json(result.healthy ? 200 : 503, result.body, result.healthy ? {} : { 'Retry-After': '5' })
      }
    },
    { method: 'get', pattern: '/healthz', tier: 'exempt', handler: () => healthz(ctx) },
    { method: 'get', pattern: '/stats', handler: () => stats(ctx) }
  ]
}
