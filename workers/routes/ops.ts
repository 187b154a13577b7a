import { createRequire } from 'node:module'
import { join } from 'node:path'
import { withOwnHits, type CacheStats, type ClusterStats, type LimiterStats, type MetricsJson, type PoolStats, type SseStats, type WorkerStats } from '../../src/ipc/messages.ts'
import { processStats } from '../../src/process-stats.ts'
import { gaugeBy, latencyBy } from '../../src/metrics/quantiles.ts'
import { ApiError, errors, isDatabaseUnreachable } from '../../src/errors.ts'
import { connectionsByProcess, ping, tableCounts } from '../../src/ops/store.ts'
import { errorFields, log } from '../../src/log.ts'
import { CoordinatorUnavailable } from '../coordinator-client.ts'
import { packageRoot } from '../../src/paths.ts'
import { pushHealth } from '../../src/push/settings.ts'
import { json, type Reply } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { defineRoute } from './define.ts'
import { clusterMetrics, metricsRoutes, statsAccess } from './metrics.ts'
import { bannerReply, cacheClearReply, cacheStatsReply, healthReply, healthzReply, statsReply } from './ops-replies.ts'
import { hotPathStats } from '../hot-stats.ts'
import { HealthState } from '../health.ts'

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

// /stats speaks snake_case throughout, as its legacy fields do (issue 12.14): the IPC figures' own names are
// camelCase, so they are renamed here rather than passed through.
function poolFields (pool: PoolStats): Record<string, number> {
  return { max: pool.max, open: pool.open, in_use: pool.inUse, waiting: pool.waiting, timeouts: pool.timeouts, acquired: pool.acquired, deadlines: pool.deadlines }
}

function sseFields (sse: SseStats): Record<string, number> {
  return { subscribers: sse.subscribers, channels: sse.channels, frames_sent: sse.framesSent, cut_off: sse.cutOff }
}

function limiterFields (limiter: LimiterStats): Record<string, unknown> {
  return {
    store: limiter.store,
    keys: limiter.keys,
    checks: limiter.checks,
    allowed: limiter.allowed,
    denied: limiter.denied,
    evicted: limiter.evicted,
    fallbacks: limiter.fallbacks,
    ...(limiter.redisFailures === undefined ? {} : { redis_failures: limiter.redisFailures }),
    ...(limiter.breakerOpened === undefined ? {} : { breaker_opened: limiter.breakerOpened }),
    ...(limiter.breaker === undefined ? {} : { breaker: limiter.breaker })
  }
}

const ms = (seconds: number | undefined): number | null => seconds === undefined ? null : Math.round(seconds * 100_000) / 100

// Each process's event-loop delay since the previous collection (prom-client's monitorEventLoopDelay figures).
function eventLoop (metrics: MetricsJson): Record<string, Record<string, number | null>> {
  const figure = (name: string): Map<string, number> => gaugeBy(metrics, `nodejs_eventloop_lag_${name}_seconds`, 'process')
  const [p50, p99, max, mean] = ['p50', 'p99', 'max', 'mean'].map(figure) as [Map<string, number>, Map<string, number>, Map<string, number>, Map<string, number>]
  const out: Record<string, Record<string, number | null>> = {}
  for (const process of [...p99.keys()].sort()) {
    out[process] = { p50_ms: ms(p50.get(process)), p99_ms: ms(p99.get(process)), max_ms: ms(max.get(process)), mean_ms: ms(mean.get(process)) }
  }
  return out
}

// A merged counter's total per value of `label` (requests by status class, say).
function countedBy (metrics: MetricsJson, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const value of metrics.find((m) => m.name === name)?.values ?? []) {
    const key = String(value.labels[label])
    out[key] = (out[key] ?? 0) + value.value
  }
  return out
}

// Rate-limit decisions per tier, from the workers' merged counter: { default: { allowed, denied }, … }.
function limitsByTier (metrics: MetricsJson): Record<string, { allowed: number, denied: number }> {
  const out: Record<string, { allowed: number, denied: number }> = {}
  for (const value of metrics.find((m) => m.name === 'tabeby_rate_limit_decisions_total')?.values ?? []) {
    const tier = out[String(value.labels.tier)] ??= { allowed: 0, denied: 0 }
    if (value.labels.decision === 'denied') tier.denied += value.value
    else tier.allowed += value.value
  }
  return out
}

async function stats (ctx: WorkerContext): Promise<Reply> {
  const [{ stats: clusterStats, workers }, database, collected] = await Promise.all([cluster(ctx), checkDatabase(ctx), clusterMetrics(ctx)])
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
  const thisWorker = processStats(ctx.startedAt)
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
      : { pid: coordinator.pid, uptime: uptimeSeconds(coordinator.startedAt), workers_connected: coordinator.workersConnected, restarts: coordinator.restarts },
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
    rate_limits: clusterStats === null
      ? null
      : { ...limiterFields(clusterStats.limiter), worker_local: workers.reduce((n, w) => n + w.localLimits, 0), by_tier: limitsByTier(collected.metrics) },
    sse: { subscribers: sse.subscribers, frames_sent: sse.framesSent, cut_off: sse.cutOff },
    requests: {
      total: workers.reduce((n, w) => n + w.requests, 0),
      in_flight: workers.reduce((n, w) => n + w.inFlight, 0),
      errors_5xx: workers.reduce((n, w) => n + w.errors5xx, 0),
      by_status_class: countedBy(collected.metrics, 'tabeby_http_requests_total', 'status_class')
    },
    // Percentiles per route group (workers/routes/index.ts) from the workers' merged histogram buckets, since each
    // worker started; `instance: false` when the coordinator was away and only this worker's are shown.
    latency: {
      instance: collected.merged,
      workers: collected.workers,
      groups: latencyBy(collected.metrics, 'tabeby_http_request_duration_seconds', 'group')
    },
    event_loop: eventLoop(collected.metrics),
    restarts: {
      total: workers.reduce((n, w) => n + w.restarts, 0) + (coordinator?.restarts ?? 0),
      coordinator: coordinator?.restarts ?? null,
      workers: workers.reduce((n, w) => n + w.restarts, 0)
    },
    hot_paths: hotPathStats(workers),
    workers: workers.map((w) => ({
      id: w.id,
      pid: w.pid,
      uptime: uptimeSeconds(w.startedAt),
      restarts: w.restarts,
      requests: w.requests,
      in_flight: w.inFlight,
      errors_5xx: w.errors5xx,
      pool: poolFields(w.pool),
      sse: sseFields(w.sse)
    })),
    memory: {
      total_rss: rssTotal,
      primary: clusterStats === null ? null : { pid: clusterStats.primary.pid, rss: clusterStats.primary.rss },
      coordinator: coordinator === null ? null : { pid: coordinator.pid, rss: coordinator.rss },
      workers: workers.map((w) => ({ id: w.id, pid: w.pid, rss: w.rss, heap_used: w.heapUsed })),
      this_worker: { pid: thisWorker.pid, started_at: thisWorker.startedAt, rss: thisWorker.rss, heap_used: thisWorker.heapUsed }
    }
  })
}

// seed-v2.md §6: the cache's figures for the whole instance, and an admin-only clear (the legacy one was open).
async function cacheStats (ctx: WorkerContext): Promise<Reply> {
  const shared = await ctx.coordinator.call('cache.stats', null).catch(() => null)
  if (shared === null) throw errors.cacheUnavailable()
  const stats = withOwnHits(shared, ctx.cache.counters.own) // the other workers' are in the coordinator's answer
  return json(200, {
    cache: { size: stats.size, hits: stats.hits, misses: stats.misses, hit_rate: stats.hit_rate, max_size: stats.max_size, usage: stats.usage, bytes: stats.bytes, max_bytes: stats.max_bytes, evictions: stats.evictions, expired: stats.expired },
    ...legacyTimestamp()
  })
}

export function opsRoutes (ctx: WorkerContext): RouteDef[] {
  const guard = statsAccess(ctx)
  // /health from a state a background check keeps fresh (workers/health.ts); HOT_PATHS_OFF=health-memory checks per request.
  const healthState = ctx.config.hotPaths.has('health-memory') ? new HealthState(() => health(ctx)) : null
  return [
    defineRoute(ctx, {
      method: 'get',
      pattern: '/cache/stats',
      auth: 'none',
      summary: "The instance's shared cache: size, hit rate, bytes, evictions",
      responses: { 200: cacheStatsReply },
      errors: [errors.statsToken, errors.cacheUnavailable],
      handler: ({ request }) => { guard(request); return cacheStats(ctx) }
    }),
    defineRoute(ctx, {
      method: 'post',
      pattern: '/cache/clear',
      auth: 'admin',
      summary: 'Empty the shared cache of the instance (admin only)',
      responses: { 200: cacheClearReply },
      errors: [errors.coordinatorUnavailable],
      handler: async () => {
        const { cleared } = await ctx.coordinator.call('cache.clear', null)
        return json(200, { message: 'Cache cleared successfully', cleared, ...legacyTimestamp() })
      }
    }),
    defineRoute(ctx, { method: 'get', pattern: '/', auth: 'none', summary: 'The legacy banner', responses: { 200: bannerReply }, handler: () => json(200, banner) }),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/health',
      auth: 'none',
      tier: 'exempt',
      summary: 'Health check for the host: 503 only when the database does not answer',
      responses: { 200: healthReply, 503: healthReply },
      handler: async () => {
        const result = healthState === null ? await health(ctx) : await healthState.answer()
        return json(result.healthy ? 200 : 503, result.body, result.healthy ? {} : { 'Retry-After': '5' })
      }
    }),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/healthz',
      auth: 'none',
      tier: 'exempt',
      summary: "The health check with the tables' row counts",
      responses: { 200: healthzReply, 503: healthzReply },
      errors: [errors.statsToken],
      handler: ({ request }) => { guard(request); return healthz(ctx) }
    }),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/stats',
      auth: 'none',
      summary: 'Figures for the whole instance: pools, cache, rate limits, SSE, workers, memory',
      responses: { 200: statsReply },
      errors: [errors.statsToken],
      handler: ({ request }) => { guard(request); return stats(ctx) }
    }),
    ...metricsRoutes(ctx)
  ]
}
