import type { BookingStatus } from '../domain/status.ts'

// A day's queue as the waiting room sees it, from the rows of one day: who is being seen now, who is next, and each
// booking's place. Plain functions over plain data (style.md): the routes, the SSE views and the push job all read
// the same answer, computed once per version of the lane however many phones and screens watch it.

export interface QueueEntry {
  id: string // the legacy display id (B-…, S-…, G-…)
  token: number
  status: BookingStatus
  calledAt: number | null // ms since the epoch: when it was called in (in_progress or served)
}

// The expected minutes per patient (src/queue/eta.ts), with the range the estimate is good for.
export interface ServiceEstimate {
  minutes: number
  low: number
  high: number
  source: 'weekday' | 'clinic' | 'default'
}

export interface DayQueue {
  clinicId: number
  lane: 'regular' | 'golden'
  date: string
  version: number
  doctor: string | null
  estimate: ServiceEstimate
  entries: QueueEntry[] // every booking of the day but the cancelled ones, by token
  cancelled: string[] // the day's cancelled bookings: they have no place, and say so
}

export interface NowServing {
  clinic_id: number
  date: string
  now_serving: number | null
  next: number[]
  waiting: number
  served: number
}

export interface Position {
  booking_id: string
  token: number | null
  status: BookingStatus
  ahead: number | null
  now_serving: number | null
  eta_minutes: number | null
  eta_range: [number, number] | null
}

// How many waiting tokens "next" lists: what a screen and a phone can show at a glance.
export const NEXT_COUNT = 5

/**
 * The token being seen: the booking called in most recently that is still in progress or served. The secretary app
 * moves a booking to in_progress when the patient goes in and to served when they come out; between the two clicks
 * of consecutive patients the screen keeps showing the last one called, as a ticket display does.
 */
export function nowServingToken (entries: readonly QueueEntry[]): number | null {
  let best: QueueEntry | null = null
  for (const entry of entries) {
    if (entry.status !== 'in_progress' && entry.status !== 'served') continue
    if (best === null || (entry.calledAt ?? 0) > (best.calledAt ?? 0) || ((entry.calledAt ?? 0) === (best.calledAt ?? 0) && entry.token > best.token)) best = entry
  }
  return best?.token ?? null
}

export function nowServing (queue: DayQueue): NowServing {
  const waiting = queue.entries.filter((e) => e.status === 'booked')
  return {
    clinic_id: queue.clinicId,
    date: queue.date,
    now_serving: nowServingToken(queue.entries),
    next: waiting.slice(0, NEXT_COUNT).map((e) => e.token),
    waiting: waiting.length,
    served: queue.entries.filter((e) => e.status === 'served').length
  }
}

/**
 * Every booking's place, in one pass over the day (entries sorted by token): `ahead` counts the bookings still
 * waiting (booked) with a smaller token. In progress, served and no-show bookings are not waited for; a booking that
 * is itself no longer waiting has no place (null).
 */
export function placesOf (entries: readonly QueueEntry[]): Map<string, { entry: QueueEntry, ahead: number | null }> {
  const places = new Map<string, { entry: QueueEntry, ahead: number | null }>()
  let waitingBefore = 0
  for (const entry of entries) {
    places.set(entry.id, { entry, ahead: entry.status === 'booked' ? waitingBefore : null })
    if (entry.status === 'booked') waitingBefore++
  }
  return places
}

// Minutes until a patient with `ahead` waiting before it is called: each of them takes the clinic's service time,
// and so does the one being seen now, of whom half is left on average. Rounded up: a phone says "about 12 min".
export function etaOf (ahead: number, estimate: ServiceEstimate, someoneInside: boolean): { minutes: number, range: [number, number] } {
  const patients = ahead + (someoneInside ? 0.5 : 0)
  return {
    minutes: Math.ceil(patients * estimate.minutes),
    range: [Math.floor(patients * estimate.low), Math.ceil(patients * estimate.high)]
  }
}

// What every view of one version needs, computed once per version: the places of all bookings, the token being
// seen, whether someone is inside. A position is then a map lookup, whatever the number of phones watching.
export interface AnalysedQueue {
  queue: DayQueue
  cancelled: Set<string>
  places: Map<string, { entry: QueueEntry, ahead: number | null }>
  current: number | null
  inside: boolean
}

export function analyse (queue: DayQueue): AnalysedQueue {
  return {
    queue,
    cancelled: new Set(queue.cancelled),
    places: placesOf(queue.entries),
    current: nowServingToken(queue.entries),
    inside: queue.entries.some((e) => e.status === 'in_progress')
  }
}

// A booking not in the day's live queue (cancelled, or its day archived: `fallback`) has a status but no place.
export function positionOf (analysed: AnalysedQueue, bookingId: string, fallback: BookingStatus): Position {
  const place = analysed.places.get(bookingId)
  if (place === undefined) {
    const status = analysed.cancelled.has(bookingId) ? 'cancelled' : fallback
    return { booking_id: bookingId, token: null, status, ahead: null, now_serving: analysed.current, eta_minutes: null, eta_range: null }
  }
  const eta = place.ahead === null ? null : etaOf(place.ahead, analysed.queue.estimate, analysed.inside)
  return {
    booking_id: bookingId,
    token: place.entry.token,
    status: place.entry.status,
    ahead: place.ahead,
    now_serving: analysed.current,
    eta_minutes: eta?.minutes ?? null,
    eta_range: eta?.range ?? null
  }
}
