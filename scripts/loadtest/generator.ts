// One thread of the load generator (worker_threads: one Node thread cannot drive 10,000 sockets and parse their
// frames alongside a server on two cores). Each thread plays its share of every rate and of the viewers, reports
// each second what it saw, and at the end what its viewers' screens show and which bookings were answered 200.
import { parentPort, workerData } from 'node:worker_threads'
import { randomUUID } from 'node:crypto'
import { httpRequest } from '../lib/load.ts'
import { HttpPool, header, type Answer } from './http-pool.ts'
import { Viewer } from './viewers.ts'
import type { Mix, Rates, Route } from './mix.ts'

export interface ThreadPlan {
  host: string
  port: number
  secret: string
  thread: number
  threads: number
  mix: Mix
  clinicBase: number
  dates: string[] // dates[0] is "yesterday" (the desk's day until midnight), dates[1] today, then the days ahead
  durationMs: number
  viewerMode: 'sse' | 'poll'
  runId: string
  viewerTimeoutSeconds: number
}

export interface Second {
  thread: number
  at: number // seconds since the thread started its arrivals
  latencies: Partial<Record<Route, number[]>>
  statuses: Partial<Record<Route, Record<string, number>>>
  deliveries: number[]
  viewersConnected: number
  reconnects: number
  refused: number // stream openings answered with something other than 200 (a 503, a 429), since the thread began
  dropped: number
  waiting: number
}

export interface Booked {
  id: string
  clinic: number
  date: string
  lane: 'regular' | 'golden'
  route: Route
}

export type ThreadMessage =
  | { type: 'second', second: Second }
  | { type: 'stopped', booked: Booked[], replayMismatches: string[], reusedIds: string[] }
  | { type: 'screens', screens: Array<{ clinic: number, id: number | null, digest: string | null, connected: boolean }>, viewerFrames: number, cuts: number }
  | { type: 'ready' }
  | { type: 'closed' }

const plan = workerData as ThreadPlan
const port = parentPort
if (port === null) throw new Error('generator.ts runs as a worker thread')
const { mix } = plan
const share = (rate: number): number => rate / plan.threads
const SECRET_HEADERS = { 'Doctor-Secret': plan.secret, 'Content-Type': 'application/json' }

const pool = new HttpPool(plan.host, plan.port, Math.max(8, Math.ceil(mix.appUsers / plan.threads)), 15_000, 20_000)
let phoneSeq = plan.thread * 1_000_000
const address = (n: number): string => `127.${11 + (n >> 16) % 200}.${(n >> 8) & 255}.${n & 255}`

let current = newSecond(0)
function newSecond (at: number): Second {
  return { thread: plan.thread, at, latencies: {}, statuses: {}, deliveries: [], viewersConnected: 0, reconnects: 0, refused: 0, dropped: 0, waiting: 0 }
}
function record (route: Route, answer: Answer): void {
  ;(current.latencies[route] ??= []).push(answer.latencyMs)
  const statuses = current.statuses[route] ??= {}
  statuses[answer.status] = (statuses[answer.status] ?? 0) + 1
}

// --- what the phones and the desk know -----------------------------------------------------------------------------
let midnight = false
const deskDate = (): string => (midnight ? plan.dates[1] : plan.dates[0]) as string
const futureDates = (): string[] => plan.dates.slice(midnight ? 2 : 1)
const clinic = (): number => plan.clinicBase + Math.floor(Math.random() * mix.clinics)
const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)] as T
const etags = new Map<number, string>() // what this thread's phones last saw, by clinic
const deskQueue = new Map<string, Booked[]>() // desk date → bookings a secretary may move
const goldenToPay: Array<{ booking: Booked, code: string }> = []
const booked: Booked[] = []
const seenIds = new Map<string, string>() // booking id → the idempotency key (or request) that got it
const reusedIds: string[] = []
const replayMismatches: string[] = []
let bookingSeq = 0

function post (path: string, body: unknown, extra: Record<string, string> = {}): Buffer {
  return httpRequest('POST', path, { ...SECRET_HEADERS, 'X-Forwarded-For': address(phoneSeq++ % 50_000), ...extra }, JSON.stringify(body))
}

function remember (answer: Answer, lane: 'regular' | 'golden', route: Route, key: string): Booked | null {
  if (answer.status !== 200 || answer.body === null) return null
  const body = JSON.parse(answer.body.toString()) as { booking_id?: string, clinic_id?: number, booking_date?: string, date?: string, code?: string, golden_code?: string }
  if (typeof body.booking_id !== 'string') return null
  const replayed = header(answer.head, 'idempotent-replayed') === 'true'
  const earlier = seenIds.get(body.booking_id)
  if (earlier !== undefined && !(replayed && earlier === key)) reusedIds.push(body.booking_id)
  if (replayed) return null
  seenIds.set(body.booking_id, key)
  const entry: Booked = { id: body.booking_id, clinic: Number(body.clinic_id), date: String(body.booking_date ?? body.date ?? ''), lane, route }
  booked.push(entry)
  return entry
}

// A booking with its Idempotency-Key. A share of the answers are "lost" (the phone timed out just before): the phone
// sends the very same request again, and the server must answer it with the same booking (Idempotent-Replayed).
// A request that got no answer at all, or a 5xx, is retried with the same key too, once.
function bookWithKey (route: Route, path: string, body: Record<string, unknown>, lane: 'regular' | 'golden', scheduledAt: number, after?: (b: Booked | null, answer: Answer) => void): void {
  const key = randomUUID()
  const bytes = post(path, body, { 'Idempotency-Key': key })
  pool.send(bytes, scheduledAt, true, (answer) => {
    record(route, answer)
    const entry = remember(answer, lane, route, key)
    after?.(entry, answer)
    const lost = answer.status === 200 && Math.random() < mix.retryShare
    if (!lost && answer.status !== 0 && answer.status < 500) return
    pool.send(bytes, performance.now(), true, (again) => {
      record('retry', again)
      if (lost && again.status === 200 && again.body !== null && answer.body !== null) {
        const first = (JSON.parse(answer.body.toString()) as { booking_id?: string }).booking_id
        const second = (JSON.parse(again.body.toString()) as { booking_id?: string }).booking_id
        if (first !== second || header(again.head, 'idempotent-replayed') !== 'true') replayMismatches.push(`${String(first)} → ${String(second)}`)
      } else if (!lost) {
        after?.(remember(again, lane, route, key), again)
      }
    })
  })
}

const actions: Record<keyof Rates, (scheduledAt: number) => void> = {
  read: (scheduledAt) => {
    const c = clinic()
    const etag = etags.get(c)
    const bytes = httpRequest('GET', `/api/booking_days?clinic_id=${c}`, {
      'Doctor-Secret': plan.secret, 'Accept-Encoding': 'gzip', 'X-Forwarded-For': address(phoneSeq++ % 50_000), ...(etag === undefined ? {} : { 'If-None-Match': etag })
    })
    pool.send(bytes, scheduledAt, false, (answer) => {
      record('read', answer)
      const tag = header(answer.head, 'etag')
      if (tag !== null) etags.set(c, tag)
    })
  },
  book: (scheduledAt) => {
    const n = ++bookingSeq
    const dated = n % 2 === 0
    bookWithKey('book', '/api/patient_booking', {
      clinic_id: clinic(), name: `مريض ${n}`, phone: '+9647700000000', patient_id: `L${Date.now()}x${plan.thread}-${n}-${plan.runId}`,
      source: 'patient_app', ...(dated ? { date: pick(futureDates()) } : {})
    }, 'regular', scheduledAt)
  },
  walkIn: (scheduledAt) => {
    const n = ++bookingSeq
    const date = deskDate()
    bookWithKey('walkIn', '/api/patient_booking', {
      clinic_id: clinic(), name: `مراجع ${n}`, phone: '+9647700000001', patient_id: `L${Date.now()}x${plan.thread}-${n}-${plan.runId}`,
      source: 'secretary_app', secretary_id: '100001', date
    }, 'regular', scheduledAt, (entry) => {
      if (entry !== null && entry.date === date) {
        const queue = deskQueue.get(date) ?? []
        queue.push(entry)
        deskQueue.set(date, queue)
      }
    })
  },
  status: (scheduledAt) => {
    const queue = deskQueue.get(deskDate())
    if (queue === undefined || queue.length === 0) return
    const at = Math.floor(Math.random() * queue.length)
    const entry = queue[at] as Booked
    const roll = Math.random()
    const status = roll < 0.5 ? 'served' : roll < 0.7 ? 'in_progress' : roll < 0.85 ? 'no_show' : 'cancelled'
    if (status === 'served' || status === 'cancelled') queue.splice(at, 1) // leaves the desk's list
    pool.send(post('/api/edit_patient_booking', { clinic_id: entry.clinic, booking_id: entry.id, status }), scheduledAt, false, (answer) => record('status', answer))
  },
  golden: (scheduledAt) => {
    const n = ++bookingSeq
    bookWithKey('golden', '/api/patient_golden_booking', {
      clinic_id: clinic(), date: pick(futureDates()), patient_id: `L${Date.now()}x${plan.thread}-${n}-${plan.runId}`, name: `ذهبي ${n}`, phone: '+9647700000002'
    }, 'golden', scheduledAt, (entry, answer) => {
      if (entry === null || answer.body === null) return
      const code = (JSON.parse(answer.body.toString()) as { code?: string }).code
      if (typeof code === 'string') goldenToPay.push({ booking: entry, code })
    })
  },
  payment: (scheduledAt) => {
    const due = goldenToPay.shift()
    if (due === undefined) return
    const [y, m, d] = due.booking.date.split('-')
    pool.send(post('/api/golden_patient_payment', {
      clinic_id: due.booking.clinic, exam_date: `${d ?? ''}/${m ?? ''}/${y ?? ''}`, patient_name: 'مريض ذهبي', booking_id: due.booking.id, code: due.code
    }), scheduledAt, false, (answer) => record('payment', answer))
  }
}

function rush (scheduledAt: number): void {
  const n = ++bookingSeq
  bookWithKey('rush', '/api/patient_booking', {
    clinic_id: plan.clinicBase + Math.floor(Math.random() * mix.rush.clinics), name: `صباح ${n}`, phone: '+9647700000003',
    patient_id: `L${Date.now()}x${plan.thread}-${n}-${plan.runId}`, source: 'patient_app', date: plan.dates[1]
  }, 'regular', scheduledAt)
}

// --- viewers ---------------------------------------------------------------------------------------------------------
const viewers: Viewer[] = []
const myViewers = Math.floor(mix.viewers / plan.threads) + (plan.thread < mix.viewers % plan.threads ? 1 : 0)
const viewerClinic = (i: number): number => plan.clinicBase + ((i * plan.threads + plan.thread) % mix.clinics)
let pollEtags: Map<number, string> | null = null

// --- the clock -------------------------------------------------------------------------------------------------------
let started = performance.now() // reset at 'go': arrivals count from the start of the day, not of the connecting
const credit: Record<string, number> = {}
let stopping = false
let lastSecond = 0
const rushStart = plan.durationMs * mix.rush.startFraction
const rushEnd = rushStart + mix.rush.seconds * 1000

function due (name: string, rate: number, elapsedMs: number, act: (scheduledAt: number) => void): void {
  if (rate <= 0) return
  // Arrivals at exact 1/rate spacing from the start; each is scheduled at its own time, whenever the tick runs.
  const interval = 1000 / rate
  let next = credit[name] ?? Math.random() * interval
  while (next <= elapsedMs) {
    act(started + next)
    next += interval
  }
  credit[name] = next
}

function tick (): void {
  if (stopping) return
  const elapsed = performance.now() - started
  for (const [name, rate] of Object.entries(mix.rates) as Array<[keyof Rates, number]>) due(name, share(rate), elapsed, actions[name])
  if (elapsed >= rushStart && elapsed < rushEnd) {
    // The rush's arrivals count from its own start, not from the day's (which sent the whole morning at once).
    credit['rush'] ??= rushStart
    due('rush', share(mix.rush.rate), elapsed, rush)
  }
  if (plan.viewerMode === 'poll') due('poll', myViewers, elapsed, poll)
  const second = Math.floor(elapsed / 1000)
  if (second > lastSecond) flush(second)
}

function flush (second: number): void {
  current.viewersConnected = viewers.filter((v) => v.connected).length
  current.reconnects = viewers.reduce((n, v) => n + v.reconnects, 0)
  current.refused = viewers.reduce((n, v) => n + v.refused, 0)
  current.dropped = pool.dropped
  current.waiting = pool.waiting
  port?.postMessage({ type: 'second', second: current } satisfies ThreadMessage)
  current = newSecond(second)
  lastSecond = second
}

// The legacy-style alternative to SSE (ablation): each viewer asks for its clinic's day once a second.
let pollIndex = 0
function poll (scheduledAt: number): void {
  const c = viewerClinic(pollIndex++ % Math.max(1, myViewers))
  pollEtags ??= new Map()
  const etag = pollEtags.get(c)
  pool.send(httpRequest('GET', `/api/booking_days?clinic_id=${c}`, {
    'Doctor-Secret': plan.secret, 'Accept-Encoding': 'gzip', 'X-Forwarded-For': address(60_000 + (pollIndex % 5000)), ...(etag === undefined ? {} : { 'If-None-Match': etag })
  }), scheduledAt, false, (answer) => {
    record('poll', answer)
    const tag = header(answer.head, 'etag')
    if (tag !== null) pollEtags?.set(c, tag)
  })
}

function cutSome (): void {
  if (stopping) return
  for (const viewer of viewers) if (Math.random() < mix.viewerCutPerMinute / 6) viewer.cut()
}

async function connectViewers (): Promise<void> {
  if (plan.viewerMode !== 'sse') return
  for (let i = 0; i < myViewers; i++) {
    const viewer = new Viewer({
      host: plan.host,
      port: plan.port,
      secret: plan.secret,
      address: address(100_000 + i * plan.threads + plan.thread),
      clinic: viewerClinic(i),
      // Spread, so streams end (and come back with Last-Event-ID) all through the run, not at once.
      timeoutSeconds: Math.round(plan.viewerTimeoutSeconds * (0.5 + Math.random())),
      sampled: i % 8 === 0,
      onDelivery: (ms) => current.deliveries.push(ms)
    })
    viewers.push(viewer)
    viewer.start()
    if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 50)) // no SYN flood at the start
  }
  // The day starts when every viewer has its first screen (or after three minutes: the summary shows how many do).
  const deadline = Date.now() + 180_000
  while (viewers.some((v) => v.frames === 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
}

await connectViewers()
port.postMessage({ type: 'ready' } satisfies ThreadMessage)
let ticker: NodeJS.Timeout | null = null
let cutter: NodeJS.Timeout | null = null

port.on('message', (message: { type: string }) => {
  if (message.type === 'go') {
    started = performance.now()
    ticker = setInterval(tick, 5)
    cutter = setInterval(cutSome, 10_000)
  } else if (message.type === 'midnight') {
    midnight = true
  } else if (message.type === 'stop') {
    stopping = true
    if (ticker !== null) clearInterval(ticker)
    if (cutter !== null) clearInterval(cutter)
    const waitIdle = (): void => {
      if (pool.inFlight > 0 || pool.waiting > 0) { setTimeout(waitIdle, 50); return }
      flush(lastSecond + 1)
      port.postMessage({ type: 'stopped', booked, replayMismatches, reusedIds } satisfies ThreadMessage)
    }
    waitIdle()
  } else if (message.type === 'screens') {
    // Asked again until the screens have caught up; the viewers keep running meanwhile (and reconnect if cut).
    const screens = viewers.map((v) => v.screen())
    const viewerFrames = viewers.reduce((n, v) => n + v.frames, 0)
    const cuts = viewers.reduce((n, v) => n + v.cuts, 0)
    port.postMessage({ type: 'screens', screens, viewerFrames, cuts } satisfies ThreadMessage)
  } else if (message.type === 'close') {
    for (const viewer of viewers) viewer.stop()
    pool.close()
    port.postMessage({ type: 'closed' } satisfies ThreadMessage)
  }
})
