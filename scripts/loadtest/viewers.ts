// Patients watching their clinic's queue live: one raw socket each on GET /api/booking_days?stream=true. A viewer keeps
// the `id:` and the data of the last snapshot or update it got (its screen), and when the stream ends (the server's
// timeout, a cut the runner makes) it comes back with Last-Event-ID, as EventSource does, after the server's retry
// hint. A sample of the viewers also times delivery: each booking the runner makes carries its send time in its
// patient id (`L<ms>x…`), and a sampled viewer reads the newest such time out of every update it gets (of bookings
// sent while its connection was open: one it missed while away is caught up by its reconnect, not pushed).
import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'

const FRAME_END = Buffer.from('\n\n')
const MARKER = /"patient_id":"L(\d{13})x/g

export interface ViewerOptions {
  host: string
  port: number
  secret: string
  address: string // X-Forwarded-For: one phone each
  clinic: number
  timeoutSeconds: number
  sampled: boolean
  onDelivery: (ms: number) => void
}

export class Viewer {
  lastId: number | null = null
  lastData: string | null = null
  reconnects = 0
  refused = 0
  cuts = 0
  frames = 0
  connected = false
  private socket: Socket | null = null
  private pending: Buffer = Buffer.alloc(0)
  private headDone = false
  private head: Buffer = Buffer.alloc(0)
  private chunked = false
  private chunkLeft = 0 // bytes left in the current chunk; negative: the CRLF after it still to skip
  private chunkHead: Buffer = Buffer.alloc(0)
  private newest = 0 // the newest booking send time seen, for sampled viewers
  // When this connection opened: a booking sent before it reached the viewer by its reconnect (Last-Event-ID), so its
  // time includes the viewer's time away (the 3 s retry hint at least) and is no measure of the push.
  private openedAt = 0
  private stopped = false
  private retryTimer: NodeJS.Timeout | null = null

  constructor (private readonly options: ViewerOptions) {}

  start (): void {
    if (this.stopped) return
    const o = this.options
    const socket = connect({ host: o.host, port: o.port, noDelay: true })
    this.socket = socket
    this.pending = Buffer.alloc(0)
    this.head = Buffer.alloc(0)
    this.headDone = false
    this.chunkLeft = 0
    this.chunkHead = Buffer.alloc(0)
    socket.on('connect', () => {
      this.openedAt = Date.now()
      socket.write(`GET /api/booking_days?clinic_id=${o.clinic}&stream=true&timeout=${o.timeoutSeconds}&heartbeat=60 HTTP/1.1\r\n` +
        `Host: 127.0.0.1\r\nDoctor-Secret: ${o.secret}\r\nAccept: text/event-stream\r\nX-Forwarded-For: ${o.address}\r\n` +
        (this.lastId === null ? '' : `Last-Event-ID: ${this.lastId}\r\n`) + '\r\n')
    })
    socket.on('data', (chunk: Buffer) => this.feed(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      this.connected = false
      if (this.socket !== socket || this.stopped) return
      this.socket = null
      this.reconnects++
      // EventSource waits the server's retry hint (3 s) before it comes back; a little spread keeps them from a herd.
      this.retryTimer = setTimeout(() => { this.retryTimer = null; this.start() }, 2000 + Math.random() * 2000)
    })
  }

  // The phone lost its connection (a tunnel, a lift): it reconnects as after any end.
  cut (): void {
    if (this.socket === null || this.stopped) return
    this.cuts++
    this.socket.destroy()
  }

  stop (): void {
    this.stopped = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.socket?.destroy()
    this.socket = null
  }

  // The viewer's screen as a digest: every day's patients by booking id, token and status, in the order shown.
  screen (): { clinic: number, id: number | null, digest: string | null, connected: boolean } {
    // `connected`: a stream is open (its answer head is in), not merely a socket.
    return { clinic: this.options.clinic, id: this.lastId, digest: this.lastData === null ? null : screenDigest(JSON.parse(this.lastData) as LaneBody), connected: this.connected }
  }

  private feed (chunk: Buffer): void {
    let raw = chunk
    if (!this.headDone) {
      const head = this.head.length === 0 ? raw : Buffer.concat([this.head, raw])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) { this.head = head; return }
      this.headDone = true
      this.head = Buffer.alloc(0)
      const text = head.toString('latin1', 0, end)
      // Not a stream (a 503 while the pool is saturated, a 429): the phone tries again after the retry delay.
      if (text.slice(9, 12) !== '200') {
        this.refused++
        this.socket?.destroy()
        return
      }
      this.connected = true
      this.chunked = text.toLowerCase().includes('transfer-encoding: chunked')
      raw = head.subarray(end + 4)
    }
    let data = this.chunked ? this.dechunk(raw) : raw
    if (this.pending.length > 0) data = Buffer.concat([this.pending, data])
    for (;;) {
      const end = data.indexOf(FRAME_END)
      if (end < 0) break
      this.frame(data.toString('utf8', 0, end))
      data = data.subarray(end + 2)
    }
    this.pending = Buffer.from(data) // a copy: a slice would pin the whole chunk
  }

  // The body bytes of HTTP/1.1 chunked framing; a chunk boundary may fall anywhere in a frame.
  private dechunk (raw: Buffer): Buffer {
    const out: Buffer[] = []
    let data = this.chunkHead.length === 0 ? raw : Buffer.concat([this.chunkHead, raw])
    this.chunkHead = Buffer.alloc(0)
    while (data.length > 0) {
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, data.length)
        out.push(data.subarray(0, take))
        this.chunkLeft -= take
        data = data.subarray(take)
        if (this.chunkLeft === 0) this.chunkLeft = -2 // the CRLF after the chunk
        continue
      }
      if (this.chunkLeft < 0) {
        const take = Math.min(-this.chunkLeft, data.length)
        this.chunkLeft += take
        data = data.subarray(take)
        continue
      }
      const line = data.indexOf('\r\n')
      if (line < 0) { this.chunkHead = Buffer.from(data); break }
      this.chunkLeft = parseInt(data.toString('latin1', 0, line), 16)
      data = data.subarray(line + 2)
      if (!(this.chunkLeft > 0)) {
        // The last chunk: the stream ended (the view's timeout) on a connection kept alive. EventSource reconnects.
        this.chunkLeft = 0
        setImmediate(() => this.socket?.destroy())
        break
      }
    }
    return out.length === 1 ? out[0] as Buffer : Buffer.concat(out)
  }

  private frame (text: string): void {
    let event = ''
    let id: number | null = null
    let payload: string | null = null
    for (const line of text.split('\n')) {
      const l = line.endsWith('\r') ? line.slice(0, -1) : line
      if (l.startsWith('event: ')) event = l.slice(7)
      else if (l.startsWith('id: ')) id = Number(l.slice(4))
      else if (l.startsWith('data: ')) payload = l.slice(6)
    }
    if ((event !== 'snapshot' && event !== 'update') || payload === null) return
    this.frames++
    if (id !== null) this.lastId = id
    this.lastData = payload
    if (!this.options.sampled) return
    let newest = 0
    for (const match of payload.matchAll(MARKER)) newest = Math.max(newest, Number(match[1]))
    if (event === 'update' && newest > this.newest && this.newest > 0 && newest >= this.openedAt) this.options.onDelivery(Date.now() - newest)
    if (newest > this.newest) this.newest = newest
  }
}

export interface LaneBody {
  clinic_id: number
  days: Record<string, { patients?: Array<{ booking_id: string, token: number, status: string }> }>
}

// What the check compares: the days, and in each the patients as the screen lists them.
export function screenDigest (body: LaneBody): string {
  const lines: string[] = []
  for (const date of Object.keys(body.days).sort()) {
    const patients = body.days[date]?.patients ?? []
    lines.push(`${date}:${patients.map((p) => `${p.booking_id}/${p.token}/${p.status}`).join(',')}`)
  }
  return createHash('sha1').update(lines.join('\n')).digest('hex')
}
