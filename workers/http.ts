import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import { ApiError, errors, isDatabaseUnreachable, isRetryableFailure } from '../src/errors.ts'
import { log, errorFields, type Fields } from '../src/log.ts'
import type { HttpRequest, HttpResponse, TemplatedApp } from '../src/uws.ts'
import type { RateDecision, Tier } from '../src/rate-limit/policy.ts'
import { CoordinatorUnavailable } from './coordinator-client.ts'

// The few rules of uWebSockets.js, followed here once instead of in every route:
// - HttpRequest is valid only during the synchronous part of the callback, so everything is copied out first;
// - onAborted is attached before any await, and nothing is written to an aborted response;
// - every write happens inside cork(), so status, headers and body leave in one syscall.

export interface Request {
  // The client's X-Request-Id when it is sane, else one of ours; echoed in the answer and in every log line of it.
  id: string
  tier: Tier
  rateLimit?: RateDecision
  method: string
  path: string
  query: URLSearchParams
  headers: ReadonlyMap<string, string>
  params: readonly string[]
  ip: string
  body: Buffer
}

export interface Reply {
  status: number
  headers?: Record<string, string>
  body: string | Uint8Array
  // A long-lived response (SSE): status and headers are sent, then `stream` owns the connection through the sink.
  stream?: (sink: Sink) => void
}

// What a streaming response may do with its connection. Every write is corked; `buffered` is what uWS holds for a
// client that reads slower than we write, so the caller can cut a slow consumer off before it grows without bound.
export interface Sink {
  write: (chunk: string | Uint8Array) => boolean
  end: () => void
  // Drops the connection at once, with whatever uWS still holds for it: for a consumer that stopped reading.
  abort: () => void
  readonly closed: boolean
  buffered: () => number
  onClose: (listener: () => void) => void
}

export type Handler = (request: Request) => Promise<Reply> | Reply

export function json (status: number, value: unknown, headers?: Record<string, string>): Reply {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) }
}

// `context`: what the log line of an unexpected error should carry beside its stack (the request id, the route).
export function errorReply (error: unknown, context?: Fields): Reply {
  const known = error instanceof ApiError
    ? error
    : isDatabaseUnreachable(error)
      ? errors.databaseUnavailable()
      : isRetryableFailure(error)
        ? errors.databaseBusy()
        : error instanceof CoordinatorUnavailable ? errors.coordinatorUnavailable() : null
  if (known !== null) return json(known.status, known.body, known.headers)
  // Never a stack trace or SQL on the wire: the client gets the catalogue's 500, the log gets the detail.
  log.error('unhandled error', { ...context, ...errorFields(error) })
  const internal = errors.internal()
  return json(internal.status, internal.body)
}

const statusLines = new Map<number, string>()
function statusLine (status: number): string {
  let line = statusLines.get(status)
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`
    statusLines.set(status, line)
  }
  return line
}

export interface Traffic {
  requests: number
  inFlight: number
  errors5xx: number
}

export interface RouteLabel {
  pattern: string // as registered: '/api/doctors/:id'
  group: string // the area it belongs to (workers/routes/index.ts): 'doctors'
}

// Whatever matched no route: one label for every unknown path.
export const UNMATCHED: RouteLabel = { pattern: 'unmatched', group: 'unmatched' }

export interface ServeOptions {
  maxBodyBytes: number
  maxUrlBytes: number
  maxHeaderBytes: number
  traffic: Traffic
  // Checked when the request arrives, before anything is read: a draining worker refuses new work here, while the
  // requests that arrived earlier run to completion.
  refuse?: () => Reply | null
  // Runs before the body is read and the handler runs; returning a Reply answers the request right there.
  before?: (request: Request) => Promise<Reply | null> | Reply | null
  // Adds headers to whatever the handler answered (rate-limit headers, for instance), in the answer's own headers.
  after?: (request: Request, headers: Record<string, string>) => void
  // Adds the CORS headers of every answer, refusals and streams included (workers/cors.ts).
  cors?: (requestHeaders: ReadonlyMap<string, string>, headers: Record<string, string>) => void
  // The route these options serve (absent: the catch-all), for the metrics and the request log: its pattern, never
  // the path, so a label or a log field never carries an id or a phone number.
  route?: RouteLabel
  // Once per request, with its final answer and how long it took: the metrics and the request log (and any other
  // per-request counter: add it there, not in the handlers).
  done?: (request: Request, reply: Reply, durationMs: number, route: RouteLabel) => void
}

const methodsWithBody = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

interface RequestState {
  aborted: boolean
  onAbort: (() => void) | null
  // The client has sent its whole body: a reply now leaves the connection clean for its next request.
  bodyEnded: boolean
}

// How much of an oversized body is read and thrown away before the 413 goes out. A client that is still sending
// reads its answer only once its upload is done; closing under it gives it EPIPE instead of our 413. Past this
// much the connection is closed anyway: an upload that large is not worth reading for the sake of an error.
const DRAIN_BYTES = 1024 * 1024

function readBody (res: HttpResponse, limit: number, state: RequestState): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // uWS closes a socket whose body stalls (its 10 s timeout, see the tests); the request must end then too,
    // not wait forever for a chunk that will not come and hold the drain on SIGTERM.
    state.onAbort = () => reject(errors.requestTimeout())
    const chunks: Buffer[] = []
    let size = 0
    res.onData((chunk, isLast) => {
      if (state.aborted) return
      size += chunk.byteLength
      if (isLast) state.bodyEnded = true
      if (size > limit) {
        chunks.length = 0
        if (isLast || size > limit + DRAIN_BYTES) reject(errors.bodyTooLarge(limit))
        return
      }
      // The ArrayBuffer is uWS's own memory, reused after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk).slice()))
      if (isLast) resolve(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks))
    })
  })
}

// A malformed escape (`/api/patient/%E0%A4%A`) must not throw here: this runs outside the request's error path, so
// the throw would kill the worker. The raw text goes to the handler, whose own parsing refuses it with a 4xx.
function decodeParam (raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

// IPv4 (and IPv4-mapped IPv6, as a dual-stack socket reports it) from the 4 or 16 raw bytes; uWS's text form only
// for real IPv6. The text form cost ~7 µs of every request in profiles (a native string, then a Buffer and a decode).
function remoteAddress (res: HttpResponse): string {
  const raw = new Uint8Array(res.getRemoteAddress())
  if (raw.length === 4) return `${raw[0]}.${raw[1]}.${raw[2]}.${raw[3]}`
  if (raw.length === 16 && raw[10] === 0xff && raw[11] === 0xff && raw.subarray(0, 10).every((byte) => byte === 0)) {
    return `${raw[12]}.${raw[13]}.${raw[14]}.${raw[15]}`
  }
  const text = Buffer.from(res.getRemoteAddressAsText()).toString()
  return text.startsWith('::ffff:') ? text.slice(7) : text
}

// A client's request id is used only when it is short and plain (a UUID, a ULID, a trace id): anything else could
// forge log lines or carry data into them, and gets one of ours instead.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/

export function requestId (sent: string | undefined): string {
  return sent !== undefined && SANE_REQUEST_ID.test(sent) ? sent : randomUUID()
}

// `closeConnection`: uWS shuts the socket down once the reply is out, instead of reading a body nobody will use.
export function send (res: HttpResponse, reply: Reply, closeConnection = false): void {
  res.cork(() => {
    res.writeStatus(statusLine(reply.status))
    if (reply.headers !== undefined) {
      for (const name in reply.headers) res.writeHeader(name, reply.headers[name] as string)
    }
    res.end(reply.body, closeConnection)
  })
}

// uWS v20.30 hands on any request head that arrives in one read, a 100 KB URL or a 100 KB header included: its
// own 4 KiB cap (MAX_FALLBACK_SIZE) only applies to a head split over several reads, and there it drops the
// socket without a word. These limits answer the same however the packets fell, with a status a client can read.
// (Its cap on the number of headers, 50 lines with the request line, also drops the socket: see the tests.)
function oversizedHead (urlBytes: number, headerBytes: number, options: ServeOptions): Reply | null {
  const error = urlBytes > options.maxUrlBytes
    ? errors.urlTooLong(options.maxUrlBytes)
    : headerBytes > options.maxHeaderBytes ? errors.headersTooLarge(options.maxHeaderBytes) : null
  return error === null ? null : errorReply(error)
}

function openStream (res: HttpResponse, reply: Reply, state: RequestState): void {
  const listeners: Array<() => void> = []
  let closed = false
  let backlog = 0 // bytes written while uWS reported backpressure
  const close = (): void => {
    if (closed) return
    closed = true
    for (const listener of listeners) listener()
  }
  state.onAbort = close
  const sink: Sink = {
    get closed () { return closed },
    write: (chunk) => {
      if (closed) return false
      let ok = false
      res.cork(() => { ok = res.write(chunk) })
      if (ok) backlog = 0
      else {
        backlog += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
        res.onWritable(() => { backlog = 0; return true })
      }
      return ok
    },
    end: () => {
      if (closed) return
      res.cork(() => res.end())
      close()
    },
    abort: () => {
      if (closed) return
      res.close() // runs onAborted, which closes the sink
      close()
    },
    buffered: () => backlog,
    onClose: (listener) => { listeners.push(listener) }
  }
  res.cork(() => {
    res.writeStatus(statusLine(reply.status))
    if (reply.headers !== undefined) {
      for (const name in reply.headers) res.writeHeader(name, reply.headers[name] as string)
    }
  })
  reply.stream?.(sink)
}

// A request as it arrives, before any rule is applied: what uWS hands over, or what the tests' in-process client
// builds. Parameters are still percent-encoded and the query is still raw, as uWS gives them.
export interface RequestHead {
  method: string
  path: string
  rawQuery: string
  headers: Map<string, string>
  headerBytes: number
  rawParams: readonly string[]
  ip: string
}

// Starts reading the body, with this limit (a body past it rejects with the 413). Called at most once, before
// `handle` returns: uWS drops body chunks that arrive before onData is attached.
export type BodyReader = (limit: number) => Promise<Buffer>

// A body that is already whole (the tests' in-process client sends one): refused past the limit as a streamed one is.
export function wholeBody (body: Buffer): BodyReader {
  return (limit) => body.length > limit ? Promise.reject(errors.bodyTooLarge(limit)) : Promise.resolve(body)
}

// Everything a request goes through once its head is read, whatever carried it: the size limits, the draining
// check, the body limit, `before` (the rate limit), the handler, the error catalogue, `after`, the traffic figures
// and HEAD without a body. `serve` runs it under uWS; the tests run the very same steps in-process. `hasBody`: the
// method carries a body, which may still be arriving when the reply is ready.
export function handle (head: RequestHead, handler: Handler, options: ServeOptions, tier: Tier, readBody: BodyReader): { reply: Promise<Reply>, hasBody: boolean } {
  const { traffic } = options
  const started = performance.now()
  traffic.requests++
  traffic.inFlight++
  const oversized = oversizedHead(head.path.length + head.rawQuery.length, head.headerBytes, options)
  const request: Request = {
    id: requestId(head.headers.get('x-request-id')),
    tier,
    method: head.method,
    path: head.path,
    // An oversized query is refused below, unparsed.
    query: new URLSearchParams(oversized === null ? head.rawQuery : ''),
    headers: head.headers,
    params: head.rawParams.map(decodeParam),
    ip: head.ip,
    body: Buffer.alloc(0)
  }
  // `ruled`: the answer went through `before` (the rate limit), whose headers `after` adds.
  const finish = (reply: Reply, ruled: boolean): Reply => {
    traffic.inFlight--
    if (reply.status >= 500) traffic.errors5xx++
    // One fresh headers object, which each step adds to: a cached reply's headers are shared by every request that
    // gets it. (A copy per step was a measurable share of a cached read's allocations.)
    const headers: Record<string, string> = { ...reply.headers }
    if (ruled) options.after?.(request, headers)
    options.cors?.(head.headers, headers)
    headers['X-Request-Id'] = request.id
    const answered: Reply = {
      status: reply.status,
      headers,
      // uWS writes whatever body it is given, to HEAD too, where a kept-alive client would read it as the start of
      // its next answer; a stream (HEAD of an SSE route) is not started either.
      body: head.method === 'HEAD' ? '' : reply.body,
      stream: head.method === 'HEAD' ? undefined : reply.stream
    }
    options.done?.(request, answered, performance.now() - started, options.route ?? UNMATCHED)
    return answered
  }

  const refused = options.refuse?.() ?? oversized
  if (refused !== null) return { reply: Promise.resolve(finish(refused, false)), hasBody: false }

  let body: Promise<Buffer> | null = null
  if (methodsWithBody.has(head.method)) {
    const declared = Number(head.headers.get('content-length') ?? '0')
    body = declared > options.maxBodyBytes + DRAIN_BYTES
      ? Promise.reject(errors.bodyTooLarge(options.maxBodyBytes))
      : readBody(options.maxBodyBytes)
    body.catch(() => {}) // observed below; never an unhandled rejection, which would end the worker
  }
  const run = async (): Promise<Reply> => {
    const early = options.before === undefined ? null : await options.before(request)
    if (early !== null) {
      // A refusal (429) waits for the body too, so the client reads it instead of a reset mid-upload.
      if (body !== null) await body.catch(() => {})
      return early
    }
    if (body !== null) request.body = await body
    return await handler(request)
  }
  const reply = run().then((reply) => finish(reply, true), (error: unknown) =>
    finish(errorReply(error, { request_id: request.id, method: request.method, route: options.route?.pattern ?? null }), true))
  return { reply, hasBody: body !== null }
}

export function serve (handler: Handler, options: ServeOptions, paramCount = 0, tier: Tier = 'default') {
  return (res: HttpResponse, req: HttpRequest): void => {
    const state: RequestState = { aborted: false, onAbort: null, bodyEnded: false }
    res.onAborted(() => {
      state.aborted = true
      state.onAbort?.()
    })

    const headers = new Map<string, string>()
    let headerBytes = 0
    req.forEach((name, value) => {
      headers.set(name, value)
      headerBytes += name.length + value.length + 4 // ": " and CRLF, as on the wire
    })
    const rawParams: string[] = []
    for (let i = 0; i < paramCount; i++) rawParams.push(req.getParameter(i))
    const head: RequestHead = {
      method: req.getCaseSensitiveMethod().toUpperCase(),
      path: req.getUrl(),
      rawQuery: req.getQuery() ?? '',
      headers,
      headerBytes,
      rawParams,
      ip: remoteAddress(res)
    }

    const { reply, hasBody } = handle(head, handler, options, tier, (limit) => readBody(res, limit, state))
    void reply.then((reply) => {
      if (state.aborted) return
      if (reply.stream !== undefined) openStream(res, reply, state)
      // Answered while the body is still coming (far over the limit): close, do not read it all.
      else send(res, reply, hasBody && !state.bodyEnded)
    })
  }
}

export type Method = 'get' | 'head' | 'post' | 'put' | 'patch' | 'del'

// Registers a route; uWS patterns name parameters `:id`, and the handler receives them in order.
export function route (app: TemplatedApp, method: Method, pattern: string, handler: Handler, options: ServeOptions, tier: Tier = 'default'): void {
  const paramCount = (pattern.match(/\/:/g) ?? []).length
  app[method](pattern, serve(handler, options, paramCount, tier))
}
