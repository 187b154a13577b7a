// The app users' side of the load generator: a pool of keep-alive HTTP/1.1 connections (raw node:net, the project's
// own parser in scripts/lib/load.ts), one request in flight on each. Arrivals are open-model: a request is due at
// its scheduled time whether or not a connection is free; if none is, it waits in line, and the wait is part of its
// latency. The line is bounded: past it an arrival is dropped and counted (k6's dropped_iterations).
import { connect, type Socket } from 'node:net'
import { ResponseParser } from '../lib/load.ts'

export interface Answer {
  status: number // 0: no answer (timeout, connection lost)
  body: Buffer | null
  head: string
  latencyMs: number // from the scheduled arrival, not from when a connection became free
}

interface Pending {
  bytes: Buffer
  scheduledAt: number
  capture: boolean
  done: (answer: Answer) => void
}

interface Conn {
  socket: Socket
  parser: ResponseParser
  current: Pending | null
  timer: NodeJS.Timeout | null
  alive: boolean
}

export class HttpPool {
  private readonly idle: Conn[] = []
  private readonly line: Pending[] = []
  private open = 0
  inFlight = 0
  dropped = 0
  opened = 0

  constructor (private readonly host: string, private readonly port: number, private readonly maxConnections: number,
    private readonly timeoutMs: number, private readonly maxLine: number) {}

  send (bytes: Buffer, scheduledAt: number, capture: boolean, done: (answer: Answer) => void): void {
    const pending: Pending = { bytes, scheduledAt, capture, done }
    const conn = this.idle.pop()
    if (conn !== undefined) return this.start(conn, pending)
    if (this.open < this.maxConnections) return this.start(this.connect(), pending)
    if (this.line.length >= this.maxLine) {
      this.dropped++
      return
    }
    this.line.push(pending)
  }

  get waiting (): number { return this.line.length }

  close (): void {
    for (const conn of this.idle) conn.socket.destroy()
    this.idle.length = 0
  }

  private connect (): Conn {
    this.open++
    this.opened++
    const socket = connect({ host: this.host, port: this.port, noDelay: true })
    const conn: Conn = { socket, parser: new ResponseParser(() => conn.current?.capture === true), current: null, timer: null, alive: true }
    socket.on('data', (chunk: Buffer) => {
      try {
        conn.parser.feed(chunk, (status, body, head) => this.finish(conn, status, body, head))
      } catch {
        this.fail(conn)
      }
    })
    socket.on('error', () => this.fail(conn))
    socket.on('close', () => this.fail(conn))
    return conn
  }

  private start (conn: Conn, pending: Pending): void {
    conn.current = pending
    this.inFlight++
    conn.socket.write(pending.bytes)
    conn.timer = setTimeout(() => this.fail(conn), this.timeoutMs)
  }

  private finish (conn: Conn, status: number, body: Buffer | null, head: string): void {
    const pending = conn.current
    if (pending === null) return
    if (conn.timer !== null) clearTimeout(conn.timer)
    conn.timer = null
    conn.current = null
    this.inFlight--
    pending.done({ status, body, head, latencyMs: performance.now() - pending.scheduledAt })
    const next = this.line.shift()
    if (next !== undefined) this.start(conn, next)
    else this.idle.push(conn)
  }

  // A connection that broke or timed out: its request is answered with status 0, and a new connection takes the line.
  private fail (conn: Conn): void {
    if (!conn.alive) return
    conn.alive = false
    this.open--
    if (conn.timer !== null) clearTimeout(conn.timer)
    conn.socket.destroy()
    const index = this.idle.indexOf(conn)
    if (index >= 0) this.idle.splice(index, 1)
    const pending = conn.current
    conn.current = null
    if (pending !== null) {
      this.inFlight--
      pending.done({ status: 0, body: null, head: '', latencyMs: performance.now() - pending.scheduledAt })
    }
    const next = this.line.shift()
    if (next !== undefined) this.start(this.connect(), next)
  }
}

export function header (head: string, name: string): string | null {
  const lower = head.toLowerCase()
  const at = lower.indexOf(`\r\n${name}:`)
  if (at < 0) return null
  const end = head.indexOf('\r\n', at + 2)
  return head.slice(at + name.length + 3, end < 0 ? undefined : end).trim()
}
