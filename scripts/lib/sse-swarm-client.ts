// The client of scripts/bench-sse-swarm.ts, the same for the real server and the bare baseline (scripts/lib/bare-sse.ts),
// built to cost little: one raw socket per subscriber (node:net), and per data chunk one Buffer.indexOf for the
// awaited needle (with the few bytes a chunk boundary could split kept aside), no EventSource parsing. A subscriber
// counts as connected once its `event: snapshot` frame is in.
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { SECRET, clientAddress, cpuMeter, type Root } from './bench.ts'
import { summarize } from './load.ts'

export interface Sub {
  socket: Socket
  needle: Buffer | null
  tail: Buffer
  hitAt: number // performance.now() when the needle was seen, 0 until then
  bytes: number
  open: boolean
  onHit: (() => void) | null
  record: Buffer[] | null
}

function scan (sub: Sub, chunk: Buffer): void {
  sub.bytes += chunk.length
  sub.record?.push(chunk)
  const needle = sub.needle
  if (needle === null) return
  const data = sub.tail.length === 0 ? chunk : Buffer.concat([sub.tail, chunk])
  if (data.indexOf(needle) >= 0) {
    sub.hitAt = performance.now()
    sub.needle = null
    sub.tail = Buffer.alloc(0)
    const onHit = sub.onHit
    sub.onHit = null
    onHit?.()
    return
  }
  // Keep only what could be the start of a needle split by the next chunk (copied: a slice would pin the chunk).
  sub.tail = Buffer.from(data.subarray(Math.max(0, data.length - (needle.length - 1))))
}

const SNAPSHOT = Buffer.from('event: snapshot')

export function subscribe (port: number, index: number, path: string): Promise<Sub> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true })
    const sub: Sub = { socket, needle: SNAPSHOT, tail: Buffer.alloc(0), hitAt: 0, bytes: 0, open: true, onHit: null, record: null }
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`subscriber ${index}: no snapshot within 30 s`)) }, 30_000)
    sub.onHit = () => { clearTimeout(timer); resolve(sub) }
    socket.on('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\n` +
        `Host: 127.0.0.1\r\nDoctor-Secret: ${SECRET}\r\nAccept: text/event-stream\r\nX-Forwarded-For: ${clientAddress(index)}\r\n\r\n`)
    })
    let first = ''
    socket.on('data', (chunk: Buffer) => {
      if (first.length < 300) first += chunk.toString().slice(0, 300)
      scan(sub, chunk)
    })
    socket.on('error', () => { sub.open = false })
    socket.on('close', () => {
      sub.open = false
      if (sub.onHit !== null) { clearTimeout(timer); reject(new Error(`subscriber ${index} closed before its snapshot: ${JSON.stringify(first)}`)) }
    })
  })
}

// Subscribes `count` clients in batches of 250, each batch waiting for its snapshots, for at most `budgetMs`.
export async function subscribeAll (into: Sub[], port: number, count: number, path: (i: number) => string, from = 0, budgetMs = 300_000): Promise<number> {
  const started = performance.now()
  const BATCH = 250
  for (let start = from; start < count && performance.now() - started < budgetMs; start += BATCH) {
    into.push(...await Promise.all(Array.from({ length: Math.min(BATCH, count - start) }, (_, i) => subscribe(port, start + i, path(start + i)))))
  }
  return (performance.now() - started) / 1000
}

// Closes every socket and waits until each is closed, so the next phase starts with them released.
export async function release (subs: Sub[]): Promise<void> {
  await Promise.all(subs.map((sub) => new Promise<void>((resolve) => {
    if (sub.socket.closed) { resolve(); return }
    sub.socket.once('close', () => { resolve() })
    sub.socket.destroy()
  })))
  subs.length = 0
}

export interface Delivery {
  answer_ms: number
  reached: number
  missed: number
  from_request_ms: ReturnType<typeof summarize>
  first_ms: number
  spread_ms: number // p99 − first: the fan-out itself, without the time before the first frame left
  cpu_cores: Record<string, number>
}

// Every open subscriber starts looking for `needle`; resolves once each has seen it.
export function armAll (subs: Sub[], needle: Buffer): Promise<void> {
  let pending = 0
  let allIn: () => void = () => {}
  const everyone = new Promise<void>((resolve) => { allIn = resolve })
  for (const sub of subs) {
    if (!sub.open) continue
    sub.needle = needle
    sub.tail = Buffer.alloc(0)
    sub.hitAt = 0
    pending++
    sub.onHit = () => { if (--pending === 0) allIn() }
  }
  if (pending === 0) allIn()
  return everyone
}

// One change: every open subscriber awaits `needle`; `trigger` sends the request that makes it (its answer's status
// must be 200); the times are from just before the request is sent until each subscriber has seen the needle.
export async function deliver (subs: Sub[], needle: Buffer, trigger: () => Promise<{ status: number, text: string }>, roots: Record<string, Root>): Promise<Delivery> {
  const everyone = armAll(subs, needle)
  const meter = cpuMeter({ load_generator: { pids: [process.pid], tree: false }, ...roots })
  const sentAt = performance.now()
  const answer = await trigger()
  const answeredAt = performance.now()
  if (answer.status !== 200) throw new Error(`trigger: ${answer.status} ${answer.text}`)
  await Promise.race([everyone, sleep(30_000)])
  const cpu = meter.stop()
  const times: number[] = []
  let missed = 0
  for (const sub of subs) {
    if (sub.hitAt > 0) times.push(sub.hitAt - sentAt)
    else missed++
    sub.needle = null
    sub.onHit = null
  }
  const summary = summarize(times)
  const first = Math.min(...times)
  const round = (v: number): number => Math.round(v * 100) / 100
  return {
    answer_ms: round(answeredAt - sentAt),
    reached: times.length,
    missed,
    from_request_ms: summary,
    first_ms: round(first),
    spread_ms: round(summary.p99_ms - first),
    cpu_cores: cpu
  }
}
