import { loadLane, type Lane } from '../src/booking/days.ts'
import type { Database } from '../src/db/pool.ts'
import type { CachedResponse } from '../src/ipc/messages.ts'
import { cachedJson, type WorkerCache } from './cache.ts'

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
