import { loadLane, type Lane } from '../src/booking/days.ts'
import type { Database } from '../src/db/pool.ts'
import type { CachedResponse } from '../src/ipc/messages.ts'
import { cachedJson, type WorkerCache } from './cache.ts'
import { ownersIn, redactDays } from '../src/booking/patient-view.ts'
import { accountRef } from '../src/domain/identifiers.ts'

// A clinic's lane as the apps read it ({clinic_id, days}), through the shared cache: the JSON routes and every SSE
// subscriber of the instance share one rendering per version.

export type LaneReader = (lane: Lane, clinicId: number) => Promise<CachedResponse | null>

export function laneKey (lane: Lane, clinicId: number): string {
  return `days:${lane}:${clinicId}:`
}

export function laneReader (db: Database, cache: WorkerCache): LaneReader {
  return (lane, clinicId) => cache.read(laneKey(lane, clinicId), `${lane}:${clinicId}`, async () => {
    const state = await db.run((sql) => loadLane(sql, clinicId, lane))
    // Legacy treated an empty book as a miss; a clinic without days is not worth a cache slot either.
    if (state.dayCount === 0) return null
    return await cachedJson({ clinic_id: clinicId, days: state.days }, state.version, `"${lane[0]}${clinicId}-${state.version}"`)
  })
}

// A patient's view of a lane in AUTH_MODE=strict: the shared rendering with other patients' private fields hidden
// (src/booking/patient-view.ts). The shared cache keeps only the full rendering; each worker parses a channel's
// rendering once per version and keeps the parsed object, so a patient's read costs a redaction, never a JSON.parse.
// The many patients who own no seat on the lane share one hidden view, serialized once per version; an owner's view
// is built per request (the SSE hub keeps it for the version's other frames).
export interface LaneView {
  key: string // 'hidden' for the shared view, else the owner's `P-<id>`: equal keys, equal bytes (within a version)
  body: Buffer
}

interface ParsedLane {
  etag: string // names the lane, clinic and version the parse came from
  rendering: unknown
  owners: Set<number>
  hidden: LaneView | null
  bytes: number
}

// What the parsed lanes of a worker may hold, counted in rendering bytes (a parsed object is a few times larger).
const PARSED_BYTES = 16 * 1024 * 1024

export class LaneViews {
  private readonly parsed = new Map<string, ParsedLane>()
  private bytes = 0
  counters = { parses: 0 }

  view (channel: string, entry: CachedResponse, viewer: number): LaneView {
    const lane = this.parsedOf(channel, entry)
    if (lane.owners.has(viewer)) return { key: accountRef(viewer), body: Buffer.from(JSON.stringify(redactDays(lane.rendering, viewer))) }
    lane.hidden ??= { key: 'hidden', body: Buffer.from(JSON.stringify(redactDays(lane.rendering, null))) }
    return lane.hidden
  }

  private parsedOf (channel: string, entry: CachedResponse): ParsedLane {
    const known = this.parsed.get(channel)
    this.parsed.delete(channel) // re-inserted below: most recently used last, so eviction takes the coldest
    if (known !== undefined && known.etag === entry.etag) {
      this.parsed.set(channel, known)
      return known
    }
    if (known !== undefined) this.bytes -= known.bytes
    this.counters.parses++
    const text = Buffer.from(entry.body.buffer, entry.body.byteOffset, entry.body.byteLength).toString('utf8')
    const rendering: unknown = JSON.parse(text)
    const lane: ParsedLane = { etag: entry.etag, rendering, owners: ownersIn(rendering), hidden: null, bytes: entry.body.byteLength }
    this.parsed.set(channel, lane)
    this.bytes += lane.bytes
    for (const [oldest, evicted] of this.parsed) {
      if (this.bytes <= PARSED_BYTES || oldest === channel) break
      this.parsed.delete(oldest)
      this.bytes -= evicted.bytes
    }
    return lane
  }
}
