import type { Config } from '../src/config.ts'
import { processStats, rssOf } from '../src/process-stats.ts'
import { withOwnHits, type CacheStats, type Change, type ClusterStats, type LimitGrant, type WorkerStats } from '../src/ipc/messages.ts'
import { Database } from '../src/db/pool.ts'
import { IpcServer, type Peer } from './ipc-server.ts'
import { MetricsCollector, coordinatorRegistry } from './metrics.ts'
import { Kind } from '../src/ipc/protocol.ts'
import { scheduleAdExpiry, scheduleEstimates, scheduleNightly } from './jobs.ts'
import { SharedCache } from './shared-cache.ts'
import { startChangeBus } from './changes.ts'
import { createLimiter } from './limiter.ts'
import { LockoutStore } from '../src/rate-limit/lockout.ts'
import { LimitLeases } from './limit-leases.ts'
import { createRevocations } from './sessions.ts'
import { ActorStanding } from './standing.ts'
import { startPush } from './push.ts'
import { pushSettings } from '../src/push/settings.ts'
import { REVOCATIONS_CHANNEL } from '../src/auth/revocations.ts'
import { STANDING_CHANNEL, announceStanding, parseStandingNotice } from '../src/auth/standing.ts'

// What the coordinator holds for the instance's workers (architecture.md §1): the shared cache, the rate-limit
// counters, the workers' figures, the change fan-out, revoked sessions and actor standing, and the scheduled jobs,
// answering on its IPC socket. It never touches HTTP. coordinator.ts runs it as the primary's child; the in-process
// route tests run it beside their worker.

// A worker pushes its figures every second; one that stopped pushing for 5 s is gone (killed, or wedged).
const STALE_MS = 5000

export interface CoordinatorOptions {
  config: Config
  socketPath: string
  instance: string
  restarts?: number // starts of the coordinator after a crash (the primary says, src/children.ts)
}

export interface RunningCoordinator {
  close: () => Promise<void>
}

export async function startCoordinator ({ config, socketPath, instance, restarts = 0 }: CoordinatorOptions): Promise<RunningCoordinator> {
  const startedAt = Date.now()

  const workerStats = new Map<number, WorkerStats & { receivedAt: number }>()

  function clusterStats (): ClusterStats {
    const now = Date.now()
    const workers: WorkerStats[] = []
    for (const [id, stats] of workerStats) {
      if (now - stats.receivedAt > STALE_MS) workerStats.delete(id)
      else workers.push(stats)
    }
    workers.sort((a, b) => a.id - b.id)
    return {
      coordinator: { ...processStats(startedAt), workersConnected: server.peers.size, restarts },
      cache: cacheStats(),
      limiter: leases === null ? limiter.stats() : { ...limiter.stats(), leases: leases.counters },
      changes: bus.stats(),
      primary: { pid: process.ppid, rss: rssOf(process.ppid) },
      workers
    }
  }

  // The workers' own-copy hits as last pushed (at most a second old), but for the asking worker's, which it adds fresh.
  function cacheStats (except?: number): CacheStats {
    let own = 0
    for (const [id, stats] of workerStats) if (id !== except) own += stats.hotPaths?.cacheOwnHits ?? 0
    return withOwnHits(cache.store.stats(), own)
  }

  const cache = new SharedCache({
    ttlMs: config.cacheTtlSeconds * 1000,
    maxEntries: config.cacheMaxEntries,
    maxBytes: config.cacheMaxBytes
  })
  const limiter = createLimiter(config.redisUrl)
  const leases: LimitLeases<Peer> | null = limiter.memory === null ? null : new LimitLeases<Peer>(limiter.memory, () => server.peers.size, (peer, key) => peer.send([Kind.Event, 0, 'limit.reclaim', { key }]))
  const sweeper = setInterval(() => {
    cache.store.sweep()
    limiter.sweep()
    leases?.sweep()
  }, 5000).unref()

  // The coordinator's job connection (one of its two; the other is LISTEN's). It also sends the NOTIFYs.
  const jobsDb = new Database({
    url: config.databaseDirectUrl ?? config.databaseUrl as string,
    max: 1,
    applicationName: `tabeby:${instance}:coordinator`,
    queueTimeoutMs: 60_000
  })

  // Every committed change, local or from another instance: drop what it makes stale, then tell every worker (their
  // SSE subscribers are waiting for it).
  function applyChange (change: Change): void {
    if (cache.apply(change)) {
      server.broadcast('change', change)
      push.onChange(change)
    }
  }

  // Push notifications (issue 15.5): looked at after each lane change, sent from here, never on a request.
  const push = startPush(jobsDb.sql, pushSettings(config))

  const revocations = createRevocations(jobsDb.sql, (fresh) => server.broadcast('revoked', fresh))
  // Failed sign-in guesses per target (src/rate-limit/lockout.ts), in memory: exact across this instance's workers.
  const lockouts = new LockoutStore(100_000)
  revocations.reload()
  // Deactivated and deleted patients and doctors (src/auth/standing.ts): loaded, reloaded every 30 s, pushed to workers.
  const standing = new ActorStanding(jobsDb.sql, (change) => server.broadcast('standing', change))

  const bus = startChangeBus({
    url: config.databaseDirectUrl ?? config.databaseUrl as string,
    notifySql: jobsDb.sql,
    instance,
    applicationName: `tabeby:${instance}:listen`,
    onForeign: applyChange,
    onResync: (gapMs) => {
      cache.resync()
      server.broadcast('resync', { gapMs })
      revocations.reload()
      standing.reload().catch(() => {}) // a deactivation announced while LISTEN was away is in the rows
    },
    channels: {
      [REVOCATIONS_CHANNEL]: (payload) => revocations.onNotify(payload),
      [STANDING_CHANNEL]: (payload) => {
        const change = parseStandingNotice(payload, instance)
        if (change !== null) standing.publish(change)
      }
    }
  })

  const server: IpcServer = new IpcServer(socketPath, {
    ping: () => ({ pid: process.pid, at: Date.now() }),
    'stats.push': (stats, peer) => {
      peer.worker = { id: stats.id, pid: stats.pid }
      workerStats.set(stats.id, { ...stats, receivedAt: Date.now() })
      return null
    },
    'stats.read': () => clusterStats(),
    // Answered only once the change is applied here, so a worker replies 200 to a write only after every other
    // worker's next read of the same data misses the old copy.
    // Workers answer reads from their own copies (workers/cache.ts), so the change must be in every worker's socket
    // before the writer may answer 200: a client that then reads from another worker finds that worker's copy gone.
    'change.publish': async (change) => {
      applyChange(change)
      // Lane changes were NOTIFYed by their own transaction; the others are told to the other instances here.
      if (change.topic !== 'regular' && change.topic !== 'golden') bus.announce(change)
      await Promise.all([...server.peers].map((peer) => peer.written()))
      return null
    },
    'cache.lease': ({ key, have }) => cache.lease(key, have),
    'cache.fill': ({ key, channel, value, token }) => {
      cache.fill(key, channel, value, token)
      return null
    },
    'cache.stats': (_request, peer) => cacheStats(peer.worker?.id),
    'cache.clear': () => ({ cleared: cache.clear() }),
    'limit.hit': ({ key, limit }) => limiter.hit(key, limit),
    'limit.take': async ({ key, limit }, peer): Promise<LimitGrant> => {
      if (leases === null) return { ...await limiter.hit(key, limit), granted: 0, window: 0 }
      return await leases.take(key, limit, peer)
    },
    'days.full': (fact, from) => {
      for (const peer of server.peers) if (peer !== from) peer.send([Kind.Event, 0, 'day.full', fact])
      return null
    },
    'limit.return': ({ key, units, window }, peer) => {
      leases?.giveBack(key, units, window, peer)
      return null
    },
    'db.probe': () => bus.probe(),
    // The broadcast is written before this answer, so every worker has it queued before the revoking request's 200.
    'sessions.revoke': (revoked) => {
      revocations.revoke(revoked)
      return null
    },
    'sessions.list': () => revocations.list(),
    'lockout.check': ({ key }) => ({ retryMs: lockouts.check(key) }),
    'lockout.fail': ({ key, policy }) => lockouts.fail(key, policy),
    'standing.read': () => ({ entries: standing.entriesForWorker() }),
    // As sessions.revoke: every worker has the change queued before the deactivating request's 200.
    'standing.publish': (change) => {
      standing.publish(change)
      announceStanding(jobsDb.sql, instance, change)
      return null
    },
    'metrics.read': async ({ format }) => {
      const { merged, workers } = await metrics.collect()
      const text = format === 'text' ? await merged.metrics() : JSON.stringify(await merged.getMetricsAsJSON())
      return { text, workers }
    },
    'metrics.report': ({ round, worker, metrics: report }) => {
      metrics.report(round, worker, report)
      return null
    }
  })
  const metrics: MetricsCollector = new MetricsCollector(server, coordinatorRegistry({
    startedAt,
    restarts,
    cache: () => cache.store.stats(),
    limiter: () => limiter.stats(),
    workersConnected: () => server.peers.size
  }))

  server.onDisconnect = (peer) => {
    leases?.forget(peer)
    // A killed worker leaves /stats at once instead of lingering until it goes stale.
    if (peer.worker !== null && workerStats.get(peer.worker.id)?.pid === peer.worker.pid) workerStats.delete(peer.worker.id)
    metrics.forget(peer)
  }

  const stopNightly = scheduleNightly(jobsDb.sql, (result) => {
    for (const { lane, clinicId, version } of result.changes) {
      applyChange({ topic: lane, clinicId, version })
    }
  })

  const stopStanding = standing.start()
  const stopAdExpiry = scheduleAdExpiry(jobsDb.sql, (result) => {
    if (result.expired === 0) return
    const change: Change = { topic: 'ads', clinicId: 0, version: Date.now() }
    applyChange(change)
    bus.announce(change)
  })

  // The lanes whose expected times moved got a new version (src/queue/estimates.ts), NOTIFYed by their transaction.
  const stopEstimates = scheduleEstimates(jobsDb.sql, (result) => {
    for (const { lane, clinicId, version } of result.changes) applyChange({ topic: lane, clinicId, version })
  })

  await server.listen()
  return {
    close: async () => {
      clearInterval(sweeper)
      stopEstimates()
      push.close()
      stopNightly()
      stopStanding()
      stopAdExpiry()
      server.close()
      await Promise.all([jobsDb.close(1), bus.close(), limiter.close()])
    }
  }
}
