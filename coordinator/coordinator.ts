import { configFromParent } from '../src/config.ts'
import { log, setProcessName } from '../src/log.ts'
import { processStats, rssOf } from '../src/process-stats.ts'
import { childEnv, onParentMessage, tellParent } from '../src/children.ts'
import type { ClusterStats, WorkerStats } from '../src/ipc/messages.ts'
import { IpcServer } from './ipc-server.ts'
import { scheduleNightly } from './jobs.ts'
import { Database } from '../src/db/pool.ts'

// The one process per instance that holds what workers share (architecture.md §1). It never touches HTTP.

setProcessName('coordinator')
const config = configFromParent()
const { socketPath, instance } = childEnv()
const startedAt = Date.now()

// A worker pushes its figures every second; one that stopped pushing for 5 s is gone (killed, or wedged).
const STALE_MS = 5000
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
    primary: { pid: process.ppid, rss: rssOf(process.ppid) },
    workers
  }
}

const server = new IpcServer(socketPath, {
  ping: () => ({ pid: process.pid, at: Date.now() }),
  'stats.push': (stats, peer) => {
    peer.worker = { id: stats.id, pid: stats.pid }
    workerStats.set(stats.id, { ...stats, receivedAt: Date.now() })
    return null
  },
  'stats.read': () => clusterStats(),
  'change.publish': (change) => {
    server.broadcast('change', change)
    return null
  }
})

server.onDisconnect = (peer) => {
  // A killed worker leaves /stats at once instead of lingering until it goes stale.
  if (peer.worker !== null && workerStats.get(peer.worker.id)?.pid === peer.worker.pid) workerStats.delete(peer.worker.id)
}

// The coordinator's job connection (one of its two; the other is LISTEN's).
const jobsDb = new Database({
  url: config.databaseDirectUrl ?? config.databaseUrl as string,
  max: 1,
  applicationName: `tabeby:${instance}:coordinator`,
  queueTimeoutMs: 60_000
})
const stopNightly = scheduleNightly(jobsDb.sql, (result) => {
  for (const change of result.changes) server.broadcast('change', { topic: change.lane, clinicId: change.clinicId, version: change.version })
})

await server.listen()
log.info('coordinator listening', { socketPath, workers: config.webConcurrency })
tellParent({ type: 'ready' })

process.on('SIGINT', () => {}) // the primary decides when the coordinator stops
onParentMessage((message) => {
  if (message.type === 'shutdown') {
    stopNightly()
    server.close()
    void jobsDb.close(1).finally(() => process.exit(0))
  }
})
