import { configFromParent } from '../src/config.ts'
import { log, setProcessName } from '../src/log.ts'
import { childEnv, exitOnFatal, onParentMessage, tellParent } from '../src/children.ts'
import { loadUws, type ListenSocket } from '../src/uws.ts'
import { errors } from '../src/errors.ts'
import { errorReply, route, serve, type ServeOptions } from './http.ts'
import { fallback, mountRoutes } from './routes/index.ts'
import { assembleWorker } from './assemble.ts'

// One stateless HTTP worker: every worker listens on PORT (SO_REUSEPORT, the kernel spreads connections), holds
// its share of the database budget, and asks the coordinator for whatever is shared.

const env = childEnv()
setProcessName(`worker-${env.workerId}`)
exitOnFatal(log.error)
const config = configFromParent()
const { uws, engine } = loadUws()
const worker = assembleWorker(config, env, engine)
const { coordinator, sse, traffic } = worker.context

let draining = false
const serveOptions: ServeOptions = {
  ...worker.serveOptions,
  refuse: () => {
    if (!draining) return null
    return errorReply(errors.shuttingDown())
  }
}

const app = uws.App()
const routes = mountRoutes(worker.context)
for (const mounted of routes) {
  const options: ServeOptions = { ...serveOptions, route: { pattern: mounted.pattern, group: mounted.group }, maxBodyBytes: mounted.maxBodyBytes ?? serveOptions.maxBodyBytes }
  route(app, mounted.method, mounted.pattern, mounted.handler, options, mounted.tier)
}
app.any('/*', serve(fallback(worker.context, routes), serveOptions))

// Take traffic only once the coordinator answers (it normally does within milliseconds): a worker that listened
// first would count its first requests' rate limits alone, on its share. A coordinator that stays away does not
// keep the worker from serving: after the wait it listens anyway, on its local fallbacks.
const COORDINATOR_WAIT_MS = 2000
for (const deadline = Date.now() + COORDINATOR_WAIT_MS; !coordinator.connected && Date.now() < deadline;) {
  await new Promise((resolve) => setTimeout(resolve, 10))
}

await worker.beforeServing()

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

async function drain (): Promise<void> {
  if (draining) return
  draining = true
  // Stop accepting first: the kernel hands new connections to the workers still listening.
  if (listenSocket !== null) uws.us_listen_socket_close(listenSocket)
  sse.closeAll()
  worker.context.queueSse.closeAll()
  const deadline = Date.now() + config.shutdownTimeoutMs - 500
  while (traffic.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  if (traffic.inFlight > 0) log.warn('drain deadline reached with requests in flight', { inFlight: traffic.inFlight })
  await worker.close()
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
