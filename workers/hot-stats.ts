import type { WorkerStats } from '../src/ipc/messages.ts'

// /stats `hot_paths`: the coordinator round trips the instance's workers made, by op and per request, beside how
// often the hot paths answered without one (a cached read from the worker's copy, a rate limit from a lease).
// Cumulative since each worker started; a benchmark reads it before and after a run and takes the difference.
export function hotPathStats (workers: WorkerStats[]): Record<string, unknown> {
  const byOp: Record<string, number> = {}
  let requests = 0
  const sums = { cache_reads: 0, cache_own_hits: 0, leased_limits: 0, leases: 0, reclaims: 0, full_day_refusals: 0 }
  for (const w of workers) {
    requests += w.requests
    for (const [op, n] of Object.entries(w.roundTrips ?? {})) byOp[op] = (byOp[op] ?? 0) + n
    const h = w.hotPaths
    if (h === undefined) continue
    sums.cache_reads += h.cacheReads
    sums.cache_own_hits += h.cacheOwnHits
    sums.leased_limits += h.leasedLimits
    sums.leases += h.leases
    sums.reclaims += h.reclaims
    sums.full_day_refusals += h.fullDayRefusals
  }
  // stats.push is the workers' own once-a-second report, not a request's.
  const total = Object.entries(byOp).reduce((n, [op, calls]) => op === 'stats.push' ? n : n + calls, 0)
  return {
    requests,
    coordinator_round_trips: { total, per_request: requests === 0 ? 0 : Math.round(total / requests * 1000) / 1000, by_op: byOp },
    ...sums
  }
}
