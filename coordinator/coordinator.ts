import { configFromParent } from '../src/config.ts'
import { log, setProcessName } from '../src/log.ts'
import { processStats, rssOf } from '../src/process-stats.ts'
import { childEnv, onParentMessage, tellParent } from '../src/children.ts'
import type { ClusterStats, WorkerStats } from '../src/ipc/messages.ts'
import { IpcServer } from './ipc-server.ts'

// The one process per instance that holds what workers share (architecture.md §1). It never touches HTTP.

setProcessName('coordinator')
const config = configFromParent()
const { socketPath } = childEnv()
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

await server.listen()
log.info('coordinator listening', { socketPath, workers: config.webConcurrency })
tellParent({ type: 'ready' })

process.on('SIGINT', () => {}) // the primary decides when the coordinator stops
onParentMessage((message) => {
  if (message.type === 'shutdown') {
    server.close()
    process.exit(0)
  }
})
