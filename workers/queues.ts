import type { Lane } from '../src/booking/days.ts'
import type { Database } from '../src/db/pool.ts'
import type { CachedResponse } from '../src/ipc/messages.ts'
import type { BookingStatus } from '../src/domain/status.ts'
import { analyse, nowServing, positionOf, type AnalysedQueue, type DayQueue } from '../src/queue/state.ts'
import { loadDayQueue } from '../src/queue/store.ts'
import { cachedJson, type WorkerCache } from './cache.ts'
import type { LaneView } from './lanes.ts'

// A day's live queue (issue 15: now serving, each patient's place), through the shared cache: loaded once per
// version of the lane for the whole instance, parsed once per version in each worker, and every view of it (now
// serving, a waiting-room screen, one booking's place) computed from that parse. A change costs the instance one
// load however many phones and screens watch the day; a viewer costs a map lookup and a small JSON.

// The key sits under the lane's prefix (`days:regular:7:`), so every change of the lane makes it stale.
export function queueKey (lane: Lane, clinicId: number, date: string): string {
  return `days:${lane}:${clinicId}:queue:${date}`
}

// The queue hub's channel: one per watched day; the lane's changes (`regular:7`) announce it.
export function queueChannel (lane: Lane, clinicId: number, date: string): string {
  return `${lane}:${clinicId}:${date}`
}

export function parseQueueChannel (channel: string): { lane: Lane, clinicId: number, date: string } {
  const [lane, clinicId, date] = channel.split(':')
  return { lane: lane as Lane, clinicId: Number(clinicId), date: date ?? '' }
}

export type QueueReader = (lane: Lane, clinicId: number, date: string) => Promise<CachedResponse>

export function queueReader (db: Database, cache: WorkerCache, defaultMinutes: number): QueueReader {
  return async (lane, clinicId, date) => {
    const entry = await cache.read(queueKey(lane, clinicId, date), `${lane}:${clinicId}`, async () => {
      const queue = await db.run((sql) => loadDayQueue(sql, clinicId, lane, date, defaultMinutes))
      return await cachedJson(queue, queue.version, `"q${lane[0]}${clinicId}-${date}-${queue.version}"`)
    })
    // The loader never answers null; the cache's type allows it for the lanes' "no days".
    if (entry === null) throw new Error('queue rendering missing')
    return entry
  }
}

// What a queue subscriber watches: now serving (the apps), a screen (now serving and the doctor's name, no patient
// data), or one booking's place with the status it had when the stream began (for a day that has since gone).
export type QueueViewName = 'now' | 'display' | { booking: string, status: BookingStatus }

export function viewKey (view: QueueViewName): string {
  return typeof view === 'string' ? view : `pos:${view.booking}`
}

// Parsed days kept per worker: the busiest clinics' days. A day parses in well under a millisecond per hundred bookings.
const PARSED_DAYS = 256

export class QueueViews {
  private readonly parsed = new Map<string, { etag: string, analysed: AnalysedQueue, bodies: Map<string, Buffer> }>()
  counters = { parses: 0 }

  analysed (channel: string, entry: CachedResponse): AnalysedQueue {
    return this.parsedOf(channel, entry).analysed
  }

  view (channel: string, entry: CachedResponse, view: QueueViewName): LaneView {
    const parsed = this.parsedOf(channel, entry)
    const key = viewKey(view)
    let body = parsed.bodies.get(key)
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(renderView(parsed.analysed, view)))
      parsed.bodies.set(key, body)
    }
    return { key, body }
  }

  private parsedOf (channel: string, entry: CachedResponse): { etag: string, analysed: AnalysedQueue, bodies: Map<string, Buffer> } {
    const known = this.parsed.get(channel)
    if (known !== undefined && known.etag === entry.etag) return known
    this.counters.parses++
    const text = Buffer.from(entry.body.buffer, entry.body.byteOffset, entry.body.byteLength).toString('utf8')
    const fresh = { etag: entry.etag, analysed: analyse(JSON.parse(text) as DayQueue), bodies: new Map<string, Buffer>() }
    this.parsed.delete(channel)
    this.parsed.set(channel, fresh)
    if (this.parsed.size > PARSED_DAYS) {
      const oldest = this.parsed.keys().next().value
      if (oldest !== undefined) this.parsed.delete(oldest)
    }
    return fresh
  }
}

export function renderView (analysed: AnalysedQueue, view: QueueViewName): unknown {
  if (view === 'now') return nowServing(analysed.queue)
  if (view === 'display') return { ...nowServing(analysed.queue), doctor: analysed.queue.doctor }
  return positionOf(analysed, view.booking, view.status)
}
