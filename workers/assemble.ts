import type { Config } from '../src/config.ts'
import type { ChildEnv } from '../src/children.ts'
import { Database } from '../src/db/pool.ts'
import type { Engine } from '../src/uws.ts'
import type { Change, FullDay, Revocations, SseStats, WorkerStats } from '../src/ipc/messages.ts'
import type { Lane } from '../src/booking/days.ts'
import { FirebaseVerifier } from '../src/auth/firebase.ts'
import type { StandingChange } from '../src/auth/standing.ts'
import { CoordinatorClient } from './coordinator-client.ts'
import type { ServeOptions, Traffic } from './http.ts'
import type { WorkerContext } from './context.ts'
import { CpuPool } from './cpu/pool.ts'
import { WorkerCache } from './cache.ts'
import { LaneViews, laneReader } from './lanes.ts'
import { SseHub } from './sse.ts'
import { QueueViews, parseQueueChannel, queueReader, type QueueViewName } from './queues.ts'
import { pushSettings } from '../src/push/settings.ts'
import { WorkerStanding } from './standing.ts'
import { RateLimits, rateLimitHeaders } from './rate-limit.ts'
import { SessionRevocations } from './sessions.ts'
import { Lockouts } from './lockouts.ts'
import { cors } from './cors.ts'
import { WorkerMetrics } from './metrics.ts'
import { RequestLog } from './request-log.ts'
import { FullDays } from './full-days.ts'
import { ScreenGuard } from './screens.ts'
import { HeapTrimmer } from './heap-trim.ts'

// A worker's resources and request rules, built from its configuration: worker.ts serves them through uWS, and the
// tests call the same routing table in-process. Nothing here listens on a port.

export interface AssembledWorker {
  context: WorkerContext
  // The rules every request goes through (rate limits and their headers); the draining check is the server's.
  serveOptions: Omit<ServeOptions, 'refuse'>
  // What must hold before the first request, once the coordinator answers: the sessions revoked so far are known,
  // so a restarted worker does not accept a token another one refuses.
  beforeServing: () => Promise<void>
  // Stops the figures pushed to the coordinator, then closes the coordinator link, the pool and the CPU threads.
  close: () => Promise<void>
}

export function assembleWorker (config: Config, env: ChildEnv, engine: Engine): AssembledWorker {
  const startedAt = Date.now()

  const db = new Database({
    url: config.databaseUrl as string,
    max: env.dbShare,
    applicationName: `tabeby:${env.instance}:worker-${env.workerId}`,
    queueTimeoutMs: config.dbQueueTimeoutMs,
    deadlineMs: config.requestDeadlineMs,
    statementTimeoutMs: config.dbStatementTimeoutMs
  })
  const traffic: Traffic = { requests: 0, inFlight: 0, errors5xx: 0 }
  const heapTrimmer = HeapTrimmer.start(config.mallocTrimSeconds)
  const metrics = new WorkerMetrics({
    id: env.workerId,
    startedAt,
    restarts: env.restarts,
    traffic,
    pool: () => db.stats(),
    sse: () => sumHubs(sse.stats(), queueSse.stats()), // as /stats: the days and the queue streams
    localLimits: () => limits.counters.local,
    cacheCopies: () => cache.held(),
    ssePayloadBytes: () => sse.heldBytes() + queueSse.heldBytes(),
    heapTrims: () => heapTrimmer.stats
  })
  const requestLog = new RequestLog(config.logRequestsPerSecond, env.workerId)

  const coordinator = new CoordinatorClient({
    socketPath: env.socketPath,
    timeoutMs: 250,
    onRoundTrip: (op, seconds) => metrics.roundTrip(op, seconds),
    onConnect: () => {
      // Changes made while the socket was down never reached this worker: no copy of before can be trusted.
      cache.forgetAll()
      fullDays.forgetAll()
      coordinator.notify('stats.push', localStats())
      standing.onConnect()
      sse.refreshAll()
      queueSse.refreshAll()
      screens.recheckAll()
      void sessions.resync()
    },
    onEvent: (name, payload) => {
      if (name === 'change') {
        cache.forget(payload as Change)
        fullDays.onChange(payload as Change)
        sse.onChange(payload as Change)
        queueSse.onChange(payload as Change)
        if ((payload as Change).topic === 'display') void screens.recheck((payload as Change).clinicId)
      } else if (name === 'resync') {
        cache.forgetAll()
        fullDays.forgetAll()
        sse.refreshAll()
        queueSse.refreshAll()
        screens.recheckAll()
      } else if (name === 'revoked') {
        sessions.apply(payload as Revocations)
      } else if (name === 'standing') {
        standing.onEvent(payload as StandingChange)
      } else if (name === 'metrics.collect') {
        const { round } = payload as { round: number }
        void metrics.snapshot().then((json) => coordinator.notify('metrics.report', { round, worker: env.workerId, metrics: JSON.stringify(json) }))
      } else if (name === 'day.full') {
        fullDays.keep(payload as FullDay)
      } else if (name === 'limit.reclaim') {
        limits.reclaim((payload as { key: string }).key)
      }
    }
  })
  const sessions = new SessionRevocations(coordinator)
  const standing = new WorkerStanding(coordinator)
  const lockouts = new Lockouts(config, coordinator)
  coordinator.connect()
  const fullDays = new FullDays(coordinator, { enabled: config.hotPaths.has('full-days'), ttlMs: config.cacheTtlSeconds * 1000, horizonDays: config.bookingHorizonDays, waitMs: Math.max(1000, config.requestDeadlineMs - config.dbQueueTimeoutMs) })
  const cache = new WorkerCache(coordinator, { ttlMs: config.cacheTtlSeconds * 1000, ownHits: config.hotPaths.has('worker-hits') })
  const lanes = laneReader(db, cache)
  const views = new LaneViews()
  const sse = new SseHub((channel) => {
    const [lane, clinicId] = channel.split(':')
    return lanes(lane as Lane, Number(clinicId))
  }, (channel, state, viewer) => views.view(channel, state, viewer))
  const queues = queueReader(db, cache, config.queueDefaultServiceMinutes)
  const queueViews = new QueueViews()
  const queueSse = new SseHub<QueueViewName>((channel) => {
    const { lane, clinicId, date } = parseQueueChannel(channel)
    return queues(lane, clinicId, date)
  }, (channel, state, view) => queueViews.view(channel, state, view), { legacyHash: false, skipUnchanged: true })
  const screens = new ScreenGuard(db, queueSse)

  function localStats (): WorkerStats {
    const memory = process.memoryUsage()
    return {
      id: env.workerId,
      pid: process.pid,
      startedAt,
      requests: traffic.requests,
      inFlight: traffic.inFlight,
      errors5xx: traffic.errors5xx,
      pool: db.stats(),
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      sse: sumHubs(sse.stats(), queueSse.stats()),
      localLimits: limits.counters.local,
      restarts: env.restarts,
      roundTrips: { ...coordinator.roundTrips },
      hotPaths: {
        cacheReads: cache.counters.reads,
        cacheOwnHits: cache.counters.own,
        leasedLimits: limits.counters.leased,
        leases: limits.counters.leases,
        reclaims: limits.counters.reclaims,
        fullDayRefusals: fullDays.counters.refusals
      }
    }
  }

  async function publishChange (change: Change): Promise<void> {
    try {
      await coordinator.call('change.publish', change)
    } catch {
      // No coordinator means no shared cache to make stale; the workers bypass it until it is back.
    }
  }

  const cpu = new CpuPool()
  const phone = config.firebaseProjectId === null ? null : new FirebaseVerifier(config.firebaseProjectId, config.firebaseJwksUrl)
  const push = pushSettings(config)
  const context: WorkerContext = {
    config, env, db, coordinator, engine, startedAt, traffic, localStats, publishChange, cpu, cache, lanes, views, sse, queues, queueViews, queueSse, push, sessions, standing, phone, lockouts, metrics, fullDays
  }

  const limits = new RateLimits(config, coordinator, (tier, allowed) => metrics.rateLimit(tier, allowed))

  const statsTimer = setInterval(() => coordinator.notify('stats.push', localStats()), 1000)

  return {
    context,
    serveOptions: {
      maxBodyBytes: config.maxBodyBytes,
      maxUrlBytes: config.maxUrlBytes,
      maxHeaderBytes: config.maxHeaderBytes,
      traffic,
      before: (request) => limits.check(request, request.tier),
      after: rateLimitHeaders,
      cors: cors(config.corsOrigins).decorate,
      done: (request, reply, durationMs, route) => {
        metrics.request(route.group, route.pattern, request.method, reply.status, durationMs / 1000)
        requestLog.write(request, reply, route.pattern, durationMs)
      }
    },
    beforeServing: () => sessions.loadFrom(db),
    close: async () => {
      clearInterval(statsTimer)
      heapTrimmer.stop()
      coordinator.close()
      sessions.close()
      standing.close()
      await Promise.all([db.close(2), cpu.close()])
    }
  }
}

function sumHubs (a: SseStats, b: SseStats): SseStats {
  return { subscribers: a.subscribers + b.subscribers, channels: a.channels + b.channels, framesSent: a.framesSent + b.framesSent, cutOff: a.cutOff + b.cutOff }
}
