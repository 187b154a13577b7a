import { configFromParent } from '../src/config.ts'
import { Database } from '../src/db/pool.ts'
import { log, setProcessName } from '../src/log.ts'
import { childEnv, exitOnFatal, onParentMessage, tellParent } from '../src/children.ts'
import { loadUws, type ListenSocket } from '../src/uws.ts'
import type { Change, Revocations, WorkerStats } from '../src/ipc/messages.ts'
import { CoordinatorClient } from './coordinator-client.ts'
import { errors } from '../src/errors.ts'
import { errorReply, route, serve, type ServeOptions, type Traffic } from './http.ts'
import type { WorkerContext } from './context.ts'
import { allRoutes } from './routes/index.ts'
import { CpuPool } from './cpu/pool.ts'
import { WorkerCache } from './cache.ts'
import { LaneViews, laneReader } from './lanes.ts'
import { SseHub } from './sse.ts'
import { WorkerStanding } from './standing.ts'
import { FirebaseVerifier } from '../src/auth/firebase.ts'
import type { StandingChange } from '../src/auth/standing.ts'
import { RateLimits, rateLimitHeaders } from './rate-limit.ts'
import { SessionRevocations } from './sessions.ts'
import type { Lane } from '../src/booking/days.ts'

// One stateless HTTP worker: every worker listens on PORT (SO_REUSEPORT, the kernel spreads connections), holds
// its share of the database budget, and asks the coordinator for whatever is shared.

const env = childEnv()
setProcessName(`worker-${env.workerId}`)
exitOnFatal(log.error)
const config = configFromParent()
const { uws, engine } = loadUws()
const startedAt = Date.now()

const db = new Database({
  url: config.databaseUrl as string,
  max: env.dbShare,
  applicationName: `tabeby:${env.instance}:worker-${env.workerId}`,
  queueTimeoutMs: config.dbQueueTimeoutMs,
  deadlineMs: config.requestDeadlineMs,
  statementTimeoutMs: config.dbStatementTimeoutMs
})
const coordinator = new CoordinatorClient({
  socketPath: env.socketPath,
  timeoutMs: 250,
  onConnect: () => {
    coordinator.notify('stats.push', localStats())
    standing.onConnect()
    sse.refreshAll()
    void sessions.resync()
  },
  onEvent: (name, payload) => {
    if (name === 'change') {
      cache.forget(payload as Change)
      sse.onChange(payload as Change)
    } else if (name === 'resync') {
      cache.forgetAll()
      sse.refreshAll()
    } else if (name === 'revoked') {
      sessions.apply(payload as Revocations)
    } else if (name === 'standing') {
      standing.onEvent(payload as StandingChange)
    }
  }
})
const sessions = new SessionRevocations(coordinator)
const standing = new WorkerStanding(coordinator)
coordinator.connect()
const cache = new WorkerCache(coordinator)
const lanes = laneReader(db, cache)
const views = new LaneViews()
const sse = new SseHub((channel) => {
  const [lane, clinicId] = channel.split(':')
  return lanes(lane as Lane, Number(clinicId))
}, (channel, state, viewer) => views.view(channel, state, viewer))

const traffic: Traffic = { requests: 0, inFlight: 0, errors5xx: 0 }

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
    sse: sse.stats(),
    localLimits: limits.counters.local
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
const context: WorkerContext = { config, env, db, coordinator, engine, startedAt, traffic, localStats, publishChange, cpu, cache, lanes, views, sse, sessions, standing, phone }

const limits = new RateLimits(config, coordinator)

let draining = false
const serveOptions: ServeOptions = {
  maxBodyBytes: config.maxBodyBytes,
  maxUrlBytes: config.maxUrlBytes,
  maxHeaderBytes: config.maxHeaderBytes,
  traffic,
  before: (request) => limits.check(request, request.tier),
  after: rateLimitHeaders,
  refuse: () => {
    if (!draining) return null
    return errorReply(errors.shuttingDown())
  }
}

const app = uws.App()
for (const def of allRoutes(context)) {
  const tier = def.tier ?? (def.pattern.startsWith('/auth/') ? 'auth' : 'default')
  const options = def.maxBodyBytes === undefined ? serveOptions : { ...serveOptions, maxBodyBytes: def.maxBodyBytes }
  route(app, def.method, def.pattern, def.handler, options, tier)
  // The legacy server serves most routers again under /backend (legacy-api.md §2 preamble).
  if (def.mirror === true) route(app, def.method, `/backend${def.pattern}`, def.handler, options, tier)
}
app.any('/*', serve(() => { throw errors.notFound() }, serveOptions))

// Take traffic only once the coordinator answers (it normally does within milliseconds): a worker that listened
// first would count its first requests' rate limits alone, on its share. A coordinator that stays away does not
// keep the worker from serving: after the wait it listens anyway, on its local fallbacks.
const COORDINATOR_WAIT_MS = 2000
for (const deadline = Date.now() + COORDINATOR_WAIT_MS; !coordinator.connected && Date.now() < deadline;) {
  await new Promise((resolve) => setTimeout(resolve, 10))
}

// The sessions revoked so far, before the first request: a restarted worker must not accept a token another one refuses.
await sessions.loadFrom(db)

let listenSocket: ListenSocket | null = null
app.listen(config.host, config.port, (socket) => {
  if (socket === false) {
    log.error('could not listen', { host: config.host, port: config.port })
    process.exit(1)
  }
  listenSocket = socket
  log.info('worker listening', { port: config.port, dbShare: env.dbShare })
  tellParent({ type: 'ready' })
})

const statsTimer = setInterval(() => coordinator.notify('stats.push', localStats()), 1000)

async function drain (): Promise<void> {
  if (draining) return
  draining = true
  clearInterval(statsTimer)
  // Stop accepting first: the kernel hands new connections to the workers still listening.
  if (listenSocket !== null) uws.us_listen_socket_close(listenSocket)
  sse.closeAll()
  const deadline = Date.now() + config.shutdownTimeoutMs - 500
  while (traffic.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  if (traffic.inFlight > 0) log.warn('drain deadline reached with requests in flight', { inFlight: traffic.inFlight })
  coordinator.close()
  sessions.close()
  standing.close()
  await Promise.all([db.close(2), cpu.close()])
  log.info('worker drained', { requests: traffic.requests })
  process.exit(0)
}

onParentMessage((message) => {
  if (message.type === 'shutdown') void drain()
})
// A SIGTERM to the whole process group (a host stopping the service) reaches the workers with the primary's: they
// start the drain the primary is about to ask for. Ctrl-C and a closed terminal (SIGINT, SIGHUP) also reach the
// whole group; the primary decides when workers stop, so they ignore those.
process.on('SIGTERM', () => { void drain() })
process.on('SIGINT', () => {})
process.on('SIGHUP', () => {})
