import { createConnection, type Socket } from 'node:net'
import { codec, FrameReader, Kind, Outbox, type Message } from '../src/ipc/protocol.ts'
import type { EventName, Events, OpName, Ops } from '../src/ipc/messages.ts'

// Raised instead of waiting: the caller takes its local fallback (architecture.md §7), so a request never hangs on
// a coordinator that is restarting.
export class CoordinatorUnavailable extends Error {
  constructor (reason: string) {
    super(`coordinator unavailable: ${reason}`)
    this.name = 'CoordinatorUnavailable'
  }
}

interface Pending {
  resolve: (value: unknown) => void
  reject: (error: Error) => void
  deadline: number
  op: string
  sent: number // performance.now() at the call
}

type EventHandler = <E extends EventName>(name: E, payload: Events[E]) => void

export interface ClientOptions {
  socketPath: string
  timeoutMs: number
  onEvent?: EventHandler
  onConnect?: () => void
  // Each answered call's round trip, in seconds (the metrics' IPC histogram).
  onRoundTrip?: (op: string, seconds: number) => void
}

export class CoordinatorClient {
  private socket: Socket | null = null
  private ready = false
  private closed = false
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private wire = codec()
  private outbox: Outbox | null = null
  private reconnectDelay = 25
  private readonly sweeper: NodeJS.Timeout
  counters = { calls: 0, timeouts: 0, unavailable: 0, reconnects: 0 }
  // Calls that went out and wait for an answer, by op: what the hot paths are measured by (a cached read in the
  // steady state should add none).
  readonly roundTrips: Record<string, number> = {}

  constructor (private readonly options: ClientOptions) {
    // One coarse timer instead of one per call.
    this.sweeper = setInterval(() => this.expire(), Math.max(5, Math.floor(options.timeoutMs / 4)))
    this.sweeper.unref()
  }

  get connected (): boolean {
    return this.ready
  }

  connect (): void {
    if (this.closed) return
    const socket = createConnection(this.options.socketPath)
    this.socket = socket
    const reader = new FrameReader()
    socket.on('connect', () => {
      // A fresh codec per connection: the shared record structures start over on both sides.
      this.wire = codec()
      // setImmediate: calls made anywhere in this loop iteration (many requests' rate-limit checks) share a write.
      this.outbox = new Outbox(this.wire.pack, (bytes) => { if (this.ready) socket.write(bytes) }, setImmediate)
      this.ready = true
      this.reconnectDelay = 25
      this.options.onConnect?.()
    })
    socket.on('data', (chunk) => {
      try {
        reader.push(chunk, (payload) => this.receive(this.wire.unpack(payload)))
      } catch (error) {
        socket.destroy(error instanceof Error ? error : new Error(String(error)))
      }
    })
    socket.on('error', () => { /* 'close' follows and handles it */ })
    socket.on('close', () => {
      this.ready = false
      this.socket = null
      this.outbox = null
      this.failAll('connection closed')
      if (this.closed) return
      this.counters.reconnects++
      const delay = this.reconnectDelay
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, 1000)
      setTimeout(() => this.connect(), delay).unref()
    })
  }

  // timeoutMs: a cache lease may wait for another worker's fill, longer than a rate-limit check should.
  call<K extends OpName> (op: K, request: Ops[K]['req'], timeoutMs = this.options.timeoutMs): Promise<Ops[K]['res']> {
    this.counters.calls++
    if (!this.ready) {
      this.counters.unavailable++
      return Promise.reject(new CoordinatorUnavailable('not connected'))
    }
    this.roundTrips[op] = (this.roundTrips[op] ?? 0) + 1
    const id = this.nextId++
    if (this.nextId > 0x7fffffff) this.nextId = 1
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, deadline: Date.now() + timeoutMs, op, sent: performance.now() })
      this.send([Kind.Call, id, op, request])
    })
  }

  // Fire and forget: dropped while disconnected (the next push carries fresher figures anyway).
  notify<K extends OpName> (op: K, request: Ops[K]['req']): void {
    if (this.ready) this.send([Kind.Call, 0, op, request])
  }

  close (): void {
    this.closed = true
    clearInterval(this.sweeper)
    this.socket?.destroy()
    this.failAll('client closed')
  }

  private send (message: Message): void {
    this.outbox?.push(message)
  }

  private receive ([kind, id, op, payload]: Message): void {
    if (kind === Kind.Event) {
      this.options.onEvent?.(op as EventName, payload as Events[EventName])
      return
    }
    const call = this.pending.get(id)
    if (call === undefined) return // already timed out
    this.pending.delete(id)
    this.options.onRoundTrip?.(call.op, (performance.now() - call.sent) / 1000)
    if (kind === Kind.Ok) call.resolve(payload)
    else call.reject(new Error(String(payload)))
  }

  // Calls mostly share one timeout, so the map (in send order) is mostly in deadline order: the sweep stops at the
  // first call still in time unless a longer-lived call (a lease) sits in front, which it then steps over.
  private expire (): void {
    const now = Date.now()
    let skipped = 0
    for (const [id, call] of this.pending) {
      if (call.deadline > now) {
        if (++skipped > 64) break
        continue
      }
      this.pending.delete(id)
      this.counters.timeouts++
      call.reject(new CoordinatorUnavailable('no reply in time'))
    }
  }

  private failAll (reason: string): void {
    for (const call of this.pending.values()) call.reject(new CoordinatorUnavailable(reason))
    this.pending.clear()
  }
}
