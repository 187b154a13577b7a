// A small closed-loop HTTP/1.1 load generator for the benchmark runners: `connections` keep-alive sockets (raw
// node:net, no http.Agent), each with one request in flight; a request is written as ready-made bytes and its
// response is parsed only as far as the status line, Content-Length (or chunked framing) and, when asked, the body.
// That keeps the client's share of the 2 shared cores small: node:http costs several times more per request.
//
// Bounded: every connection stops at `durationMs` or after `maxRequests` in all, a request that gets no full answer
// within `timeoutMs` is counted as an error and its socket replaced, and replacements are bounded too.
import { connect, type Socket } from 'node:net'

export interface LoadOptions {
  host: string
  port: number
  connections: number
  durationMs: number
  // Upper bound on requests sent in all (default: unbounded within the duration).
  maxRequests?: number
  // The bytes of the next request on connection `conn`; null ends that connection's loop.
  request: (conn: number) => Buffer | null
  // Called for every complete response; `body` is null unless `captureBody` says so for that status.
  onResponse?: (response: LoadResponse) => void
  captureBody?: (status: number) => boolean
  timeoutMs?: number
}

export interface LoadResponse {
  conn: number
  status: number
  body: Buffer | null
  latencyMs: number
}

export interface LatencySummary {
  count: number
  mean_ms: number
  p50_ms: number
  p90_ms: number
  p99_ms: number
  max_ms: number
}

export interface LoadResult {
  connections: number
  seconds: number
  requests: number
  requests_per_second: number
  ok_2xx_per_second: number
  latency: LatencySummary
  statuses: Record<string, number>
  errors: number
  timeouts: number
  bytes_received: number
}

const HEADER_END = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')

export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number
}

export function summarize (values: number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort()
  let total = 0
  for (const v of sorted) total += v
  const round = (v: number): number => Math.round(v * 100) / 100
  return {
    count: sorted.length,
    mean_ms: round(sorted.length === 0 ? NaN : total / sorted.length),
    p50_ms: round(percentile(sorted, 0.5)),
    p90_ms: round(percentile(sorted, 0.9)),
    p99_ms: round(percentile(sorted, 0.99)),
    max_ms: round(sorted.length === 0 ? NaN : sorted[sorted.length - 1] as number)
  }
}

// The bytes of one request. Content-Length is always set, so a body of any size frames itself.
export function httpRequest (method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Buffer {
  const payload = body === undefined ? null : typeof body === 'string' ? Buffer.from(body) : body
  let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`
  for (const name in headers) head += `${name}: ${headers[name] as string}\r\n`
  if (payload !== null) head += `Content-Length: ${payload.length}\r\n`
  head += '\r\n'
  return payload === null ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), payload])
}

type Framing = { kind: 'length', remaining: number } | { kind: 'chunked', pending: Buffer }

// Parses responses from one socket's byte stream. Returns the responses completed by `chunk`; `done` also gets the
// response head (status line and headers, latin1) for a caller that needs a header, such as the ETag.
export class ResponseParser {
  private head: Buffer = Buffer.alloc(0)
  private status = 0
  private framing: Framing | null = null
  private parts: Buffer[] | null = null
  private headText = ''

  constructor (private readonly capture: ((status: number) => boolean) | undefined) {}

  // Feeds bytes; calls `done` for every complete response. Throws on a malformed stream.
  feed (chunk: Buffer, done: (status: number, body: Buffer | null, head: string) => void): void {
    let data = chunk
    while (data.length > 0) {
      if (this.framing === null) {
        const joined = this.head.length === 0 ? data : Buffer.concat([this.head, data])
        const end = joined.indexOf(HEADER_END)
        if (end < 0) {
          if (joined.length > 64 * 1024) throw new Error('response head over 64 KiB')
          this.head = joined
          return
        }
        this.head = Buffer.alloc(0)
        const headText = joined.toString('latin1', 0, end)
        this.headText = headText
        this.status = Number(headText.slice(9, 12))
        const lower = headText.toLowerCase()
        const lengthAt = lower.indexOf('\r\ncontent-length:')
        if (lengthAt >= 0) {
          const lineEnd = lower.indexOf('\r\n', lengthAt + 2)
          const length = Number(lower.slice(lengthAt + 17, lineEnd < 0 ? undefined : lineEnd).trim())
          this.framing = { kind: 'length', remaining: length }
        } else if (lower.includes('\r\ntransfer-encoding: chunked')) {
          this.framing = { kind: 'chunked', pending: Buffer.alloc(0) }
        } else if (this.status === 204 || this.status === 304) {
          this.framing = { kind: 'length', remaining: 0 }
        } else {
          throw new Error(`response without length: ${headText.split('\r\n')[0] ?? ''}`)
        }
        this.parts = this.capture?.(this.status) === true ? [] : null
        data = joined.subarray(end + 4)
        if (this.framing.kind === 'length' && this.framing.remaining === 0) this.complete(done)
        continue
      }
      if (this.framing.kind === 'length') {
        const take = Math.min(this.framing.remaining, data.length)
        this.parts?.push(data.subarray(0, take))
        this.framing.remaining -= take
        data = data.subarray(take)
        if (this.framing.remaining === 0) this.complete(done)
        continue
      }
      // Chunked: collect, then cut complete chunks off the front.
      const framing = this.framing
      framing.pending = framing.pending.length === 0 ? data : Buffer.concat([framing.pending, data])
      data = Buffer.alloc(0)
      for (;;) {
        const lineEnd = framing.pending.indexOf(CRLF)
        if (lineEnd < 0) break
        const size = parseInt(framing.pending.toString('latin1', 0, lineEnd), 16)
        if (!Number.isFinite(size)) throw new Error('bad chunk size')
        if (framing.pending.length < lineEnd + 2 + size + 2) break
        if (size === 0) {
          data = framing.pending.subarray(lineEnd + 4) // bytes of the next response, if pipelined
          this.complete(done)
          break
        }
        this.parts?.push(framing.pending.subarray(lineEnd + 2, lineEnd + 2 + size))
        framing.pending = framing.pending.subarray(lineEnd + 2 + size + 2)
      }
    }
  }

  private complete (done: (status: number, body: Buffer | null, head: string) => void): void {
    const body = this.parts === null ? null : Buffer.concat(this.parts)
    this.framing = null
    this.parts = null
    done(this.status, body, this.headText)
  }
}

export async function runLoad (options: LoadOptions): Promise<LoadResult> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const maxRequests = options.maxRequests ?? Number.MAX_SAFE_INTEGER
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  let sent = 0
  let errors = 0
  let timeouts = 0
  let bytes = 0
  let ok = 0
  let reconnects = 0
  const maxReconnects = options.connections * 20
  const started = performance.now()
  const deadline = started + options.durationMs
  let lastDone = started

  const lane = (conn: number): Promise<void> => new Promise((resolve) => {
    let socket: Socket
    let parser: ResponseParser
    let sentAt = 0
    let inFlight = false
    let timer: NodeJS.Timeout | null = null
    let finished = false

    const finish = (): void => {
      if (finished) return
      finished = true
      if (timer !== null) clearTimeout(timer)
      socket.destroy()
      resolve()
    }
    const next = (): void => {
      if (performance.now() >= deadline || sent >= maxRequests) return finish()
      const bytesOut = options.request(conn)
      if (bytesOut === null) return finish()
      sent++
      inFlight = true
      sentAt = performance.now()
      socket.write(bytesOut)
      if (timer === null) {
        timer = setTimeout(() => {
          timer = null
          if (!inFlight) return
          timeouts++
          replace()
        }, timeoutMs)
      } else timer.refresh()
    }
    const replace = (): void => {
      if (inFlight) { errors++; inFlight = false }
      socket.removeAllListeners()
      socket.destroy()
      if (performance.now() >= deadline || reconnects >= maxReconnects) return finish()
      reconnects++
      open()
    }
    const open = (): void => {
      parser = new ResponseParser(options.captureBody)
      socket = connect({ host: options.host, port: options.port, noDelay: true })
      socket.on('connect', next)
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        try {
          parser.feed(chunk, (status, body) => {
            const now = performance.now()
            const latencyMs = now - sentAt
            inFlight = false
            lastDone = now
            latencies.push(latencyMs)
            statuses[status] = (statuses[status] ?? 0) + 1
            if (status >= 200 && status < 300) ok++
            options.onResponse?.({ conn, status, body, latencyMs })
            next()
          })
        } catch {
          replace()
        }
      })
      socket.on('error', () => replace())
      socket.on('close', () => { if (!finished) replace() })
    }
    open()
  })

  await Promise.all(Array.from({ length: options.connections }, (_, conn) => lane(conn)))
  // Throughput over the span that produced answers (the duration, plus the last in-flight answers; or less when the
  // request budget ran out first).
  const seconds = Math.max(lastDone - started, 1) / 1000
  return {
    connections: options.connections,
    seconds: Math.round(seconds * 1000) / 1000,
    requests: latencies.length,
    requests_per_second: Math.round(latencies.length / seconds),
    ok_2xx_per_second: Math.round(ok / seconds),
    latency: summarize(latencies),
    statuses,
    errors,
    timeouts,
    bytes_received: bytes
  }
}
