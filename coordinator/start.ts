import type { Config } from '../src/config.ts'
import { processStats, rssOf } from '../src/process-stats.ts'
import type { Change, ClusterStats, WorkerStats } from '../src/ipc/messages.ts'
import { Database } from '../src/db/pool.ts'
import { IpcServer } from './ipc-server.ts'
import { scheduleAdExpiry, scheduleEstimates, scheduleNightly } from './jobs.ts'
import { SharedCache } from './shared-cache.ts'
import { startChangeBus } from './changes.ts'
import { createLimiter } from './limiter.ts'
import { LockoutStore } from '../src/rate-limit/lockout.ts'
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
}

export interface RunningCoordinator {
  close: () => Promise<void>
}

export async function startCoordinator ({ config, socketPath, instance }: CoordinatorOptions): Promise<RunningCoordinator> {
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
      coordinator: { ...processStats(startedAt), workersConnected: server.peers.size },
      cache: cache.store.stats(),
      limiter: limiter.stats(),
      changes: bus.stats(),
      primary: { pid: process.ppid, rss: rssOf(process.ppid) },
      workers
    }
  }

  const cache = new SharedCache({
    ttlMs: config.cacheTtlSeconds * 1000,
    maxEntries: config.cacheMaxEntries,
    maxBytes: config.cacheMaxBytes
  })
  const limiter = createLimiter(config.redisUrl)
  const sweeper = setInterval(() => {
    cache.store.sweep()
    limiter.sweep()
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

  const server = new IpcServer(socketPath, {
    ping: () => ({ pid: process.pid, at: Date.now() }),
    'stats.push': (stats, peer) => {
      peer.worker = { id: stats.id, pid: stats.pid }
      workerStats.set(stats.id, { ...stats, receivedAt: Date.now() })
      return null
    },
    'stats.read': () => clusterStats(),
    // Answered only once the change is applied here, so a worker replies 200 to a write only after every other
    // worker's next read of the same data misses the old copy.
    'change.publish': (change) => {
      applyChange(change)
      // Lane changes were NOTIFYed by their own transaction; clinic and ads changes are told to the other instances here.
      if (change.topic === 'clinic' || change.topic === 'ads') bus.announce(change)
      return null
    },
    'cache.lease': ({ key, have }) => cache.lease(key, have),
    'cache.fill': ({ key, channel, value, token }) => {
      cache.fill(key, channel, value, token)
      return null
    },
    'cache.stats': () => cache.store.stats(),
    'cache.clear': () => ({ cleared: cache.clear() }),
    'limit.hit': ({ key, limit }) => limiter.hit(key, limit),
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
    }
  })

  server.onDisconnect = (peer) => {
    // A killed worker leaves /stats at once instead of lingering until it goes stale.
    if (peer.worker !== null && workerStats.get(peer.worker.id)?.pid === peer.worker.pid) workerStats.delete(peer.worker.id)
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
