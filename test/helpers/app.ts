import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadConfig, type Config } from '../../src/config.ts'
import { migrate } from '../../src/db/migrate.ts'
import { bootstrapAdmin } from '../../src/auth/admins.ts'
import { budgetShares } from '../../src/db/pool.ts'
import { loadUws } from '../../src/uws.ts'
import { startCoordinator } from '../../coordinator/start.ts'
import { assembleWorker } from '../../workers/assemble.ts'
import type { WorkerContext } from '../../workers/context.ts'
import { handle, wholeBody, type Handler, type Reply, type RequestHead, type RouteLabel, type Sink } from '../../workers/http.ts'
import type { Tier } from '../../src/rate-limit/policy.ts'
import { fallback, mountRoutes, type MountedRoute } from '../../workers/routes/index.ts'
import { responseOf, type OpenStream, type RequestInit, type Response, type Target } from './client.ts'
import { logMark, logSince } from './log.ts'

// The server without its processes and sockets, as fastify's `inject` or hono's `app.request`: one worker's
// routing table (workers/routes) called in the test process, with a real coordinator beside it on its IPC socket
// and a real PostgreSQL. A request goes through what the worker applies to it (workers/http.ts `handle`: the
// size limits, the body limit, the rate-limit tier, the error catalogue), matched to its route the way uWS matches.
//
// The coordinator runs for real, not as a client left unconnected: the shared cache, the change fan-out that
// feeds SSE subscribers, the rate-limit counters, /stats and /cache/* all pass through it, and an unconnected
// client would test the fallbacks instead of the paths the server takes.

export interface InProcessApp extends Target {
  config: Config
  context: WorkerContext
  // What the app logged since it started (every in-process app of a test file logs into the same place).
  output: () => string
  stop: () => Promise<void>
}

// The same defaults as a test server (helpers/server.ts startServer): limits out of the way unless a test is about them.
const TEST_ENV = {
  HOST: '127.0.0.1',
  WEB_CONCURRENCY: '1',
  RATE_LIMIT_AUTH: '30000',
  RATE_LIMIT_BOOKING: '30000',
  RATE_LIMIT_DEFAULT: '30000',
  AUTH_LOCKOUT_FAILURES: '1000'
}

const COORDINATOR_WAIT_MS = 10_000

// `env`: the server's variables (contract.md §4), as startServer takes them; DATABASE_URL is required.
export async function startApp (env: Record<string, string>): Promise<InProcessApp> {
  const mark = logMark()
  const config = loadConfig({ ...TEST_ENV, ...env })
  if (config.databaseUrl === null) throw new Error('startApp needs DATABASE_URL')
  // What the primary does before it forks (src/main.ts): migrations, then the bootstrap admin.
  await migrate(config.databaseUrl)
  if (config.adminEmail !== null && config.adminPassword !== null) await bootstrapAdmin(config.databaseUrl, config.adminEmail, config.adminPassword)

  const resolved: Config = { ...config, adminPassword: null, databaseDirectUrl: config.databaseDirectUrl ?? config.databaseUrl }
  const instance = randomBytes(4).toString('hex')
  const socketPath = join(tmpdir(), `tabeby-${instance}.sock`)
  const coordinator = await startCoordinator({ config: resolved, socketPath, instance })
  const { engine } = loadUws()
  const shares = budgetShares(config.dbPoolBudget, config.webConcurrency)
  const worker = assembleWorker(resolved, { workerId: 1, socketPath, dbShare: shares.perWorker, instance, restarts: 0 }, engine)
  const stopAll = async (): Promise<void> => {
    await worker.close()
    await coordinator.close()
  }
  for (const deadline = Date.now() + COORDINATOR_WAIT_MS; !worker.context.coordinator.connected;) {
    if (Date.now() > deadline) {
      await stopAll()
      throw new Error('the in-process worker did not reach its coordinator')
    }
    await sleep(5)
  }
  await worker.beforeServing()

  const routes = mountRoutes(worker.context)
  const router = new Router(routes, fallback(worker.context, routes))
  const streams = new Set<MemoryStream>()

  const dispatch = (path: string, init: RequestInit): Promise<Reply> => {
    // What node:http puts on the wire for this path: the same URL parsing (percent-encoding, dot segments).
    const url = new URL(path, 'http://127.0.0.1')
    const method = (init.method ?? 'GET').toUpperCase()
    const headers = new Map<string, string>([['host', '127.0.0.1'], ['connection', 'close']])
    for (const [name, value] of Object.entries(init.headers ?? {})) headers.set(name.toLowerCase(), value)
    let headerBytes = 0
    for (const [name, value] of headers) headerBytes += name.length + value.length + 4
    const { handler, tier, maxBodyBytes, rawParams, route } = router.match(method, url.pathname)
    const head: RequestHead = { method, path: url.pathname, rawQuery: url.search.slice(1), headers, headerBytes, rawParams, ip: '127.0.0.1' }
    const body = init.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body)
    const options = { ...worker.serveOptions, route, maxBodyBytes: maxBodyBytes ?? worker.serveOptions.maxBodyBytes }
    return handle(head, handler, options, tier, wholeBody(body)).reply
  }

  const openStream = (reply: Reply): MemoryStream => {
    const stream = memoryStream(reply)
    streams.add(stream)
    stream.sink.onClose(() => streams.delete(stream))
    reply.stream?.(stream.sink)
    return stream
  }

  return {
    config: resolved,
    context: worker.context,
    output: () => logSince(mark),
    request: async (path, init = {}) => {
      const reply = await dispatch(path, init)
      if (reply.stream === undefined) return responseOf(reply.status, headersOf(reply), textOf(reply.body))
      // A stream read as a plain response, as over HTTP: whatever it sent until it ended.
      const stream = openStream(reply)
      const timeoutMs = init.timeoutMs ?? 15_000
      for (const deadline = Date.now() + timeoutMs; !stream.ended();) {
        if (Date.now() > deadline) {
          stream.close()
          throw new Error(`timeout: ${init.method ?? 'GET'} ${path}`)
        }
        await sleep(20)
      }
      return responseOf(reply.status, headersOf(reply), stream.text())
    },
    openStream: async (path, headers = {}) => {
      const reply = await dispatch(path, { headers })
      if (reply.stream !== undefined) return openStream(reply)
      const text = textOf(reply.body)
      return { status: reply.status, headers: headersOf(reply), text: () => text, ended: () => true, close: () => {} }
    },
    stop: async () => {
      for (const stream of streams) stream.close()
      await stopAll()
    }
  }
}

function headersOf (reply: Reply): Response['headers'] {
  const out: Response['headers'] = {}
  for (const [name, value] of Object.entries(reply.headers ?? {})) out[name.toLowerCase()] = value
  return out
}

function textOf (body: string | Uint8Array): string {
  return typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString()
}

interface MemoryStream extends OpenStream {
  sink: Sink
}

// A streaming response (SSE) held in memory: what the server writes through its Sink is what the test reads, and
// `close` is the client going away, which runs the server's onClose listeners as a closed connection would.
function memoryStream (reply: Reply): MemoryStream {
  const listeners: Array<() => void> = []
  const decoder = new StringDecoder('utf8')
  let received = ''
  let closed = false
  let ended = false
  const close = (): void => {
    if (closed) return
    closed = true
    for (const listener of listeners) listener()
  }
  const end = (): void => {
    ended = true
    close()
  }
  return {
    status: reply.status,
    headers: headersOf(reply),
    text: () => received,
    ended: () => ended,
    close,
    sink: {
      get closed () { return closed },
      write: (chunk) => {
        if (closed) return false
        received += typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
        return true
      },
      end,
      abort: end,
      buffered: () => 0,
      onClose: (listener) => { listeners.push(listener) }
    }
  }
}

interface Route {
  segments: string[]
  label: RouteLabel
  handler: Handler
  tier: Tier
  maxBodyBytes: number | undefined
}

const methodNames: Record<MountedRoute['method'], string> = { get: 'GET', head: 'HEAD', post: 'POST', put: 'PUT', patch: 'PATCH', del: 'DELETE' }

// uWS's matching, as measured on the build we run (see test/app-harness.test.ts, which holds the two side by side):
// the method must match (OPTIONS reaches only the catch-all), segments are compared as sent (still
// percent-encoded, case-sensitive), a `:param` takes one non-empty segment, and where several patterns match, the
// first segment that differs decides, a static segment before a parameter. Nothing matched: the catch-all 404.
export class Router {
  private readonly byMethod = new Map<string, Route[]>()

  constructor (routes: MountedRoute[], private readonly unmatched: Handler) {
    for (const route of routes) {
      const method = methodNames[route.method]
      const list = this.byMethod.get(method) ?? []
      list.push({ segments: route.pattern.split('/'), label: { pattern: route.pattern, group: route.group }, handler: route.handler, tier: route.tier, maxBodyBytes: route.maxBodyBytes })
      this.byMethod.set(method, list)
    }
  }

  match (method: string, path: string): { handler: Handler, tier: Tier, maxBodyBytes: number | undefined, rawParams: string[], route: RouteLabel | undefined } {
    const sent = path.split('/')
    let best: { route: Route, rank: number[], params: string[] } | null = null
    for (const route of this.byMethod.get(method) ?? []) {
      if (route.segments.length !== sent.length) continue
      const rank: number[] = []
      const params: string[] = []
      let matches = true
      for (let i = 0; i < sent.length && matches; i++) {
        const want = route.segments[i] as string
        const got = sent[i] as string
        if (want.startsWith(':')) {
          matches = got !== ''
          rank.push(1)
          params.push(got)
        } else {
          matches = want === got
          rank.push(0)
        }
      }
      if (matches && (best === null || before(rank, best.rank))) best = { route, rank, params }
    }
    if (best === null) return { handler: this.unmatched, tier: 'default', maxBodyBytes: undefined, rawParams: [], route: undefined }
    return { handler: best.route.handler, tier: best.route.tier, maxBodyBytes: best.route.maxBodyBytes, rawParams: best.params, route: best.route.label }
  }
}

function before (a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number)
  }
  return false
}
