import { readFileSync } from 'node:fs'
import { AggregatorRegistry, type Registry, type RegistryContentType } from 'prom-client'
import type { CacheStats, LimiterStats, MetricsJson } from '../src/ipc/messages.ts'
import { countedElsewhere, gaugedElsewhere, processRegistry } from '../src/metrics/process.ts'
import { rssOf } from '../src/process-stats.ts'
import type { IpcServer, Peer } from './ipc-server.ts'

// The instance's metrics, merged here: each worker keeps its own counters and histograms (workers/metrics.ts) and
// hands them over only when asked, so the request path never pays for aggregation. A read broadcasts
// `metrics.collect`, waits for every worker's `metrics.report` (or gives up on the silent ones after two seconds),
// adds the coordinator's own registry and merges them with prom-client's AggregatorRegistry: series with the same
// labels are summed (request counters, histogram buckets), series labelled with their process stay apart.

// A worker whose event loop is stuck this long is left out of the merge (and `tabeby_metrics_workers_reported` says
// so) rather than holding the scrape.
const COLLECT_TIMEOUT_MS = 2000

export interface CoordinatorSources {
  startedAt: number
  restarts: number
  cache: () => CacheStats
  limiter: () => LimiterStats
  workersConnected: () => number
}

// The primary's CPU time in seconds, from /proc (user + system clock ticks; 100 per second on Linux).
function cpuSecondsOf (pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}

export function coordinatorRegistry (sources: CoordinatorSources): Registry {
  const registry = processRegistry({ name: 'coordinator', startedAt: sources.startedAt, restarts: sources.restarts })
  const cache = (pick: (stats: CacheStats) => number) => (): Array<[Record<string, string>, number]> => [[{}, pick(sources.cache())]]
  countedElsewhere(registry, 'tabeby_cache_hits_total', 'Shared-cache reads answered from the cache', [], cache((s) => s.hits))
  countedElsewhere(registry, 'tabeby_cache_misses_total', 'Shared-cache reads that had to load', [], cache((s) => s.misses))
  countedElsewhere(registry, 'tabeby_cache_evictions_total', 'Entries evicted to stay within CACHE_MAX_ENTRIES / CACHE_MAX_BYTES', [], cache((s) => s.evictions))
  countedElsewhere(registry, 'tabeby_cache_expired_total', 'Entries dropped after CACHE_TTL_SECONDS', [], cache((s) => s.expired))
  gaugedElsewhere(registry, 'tabeby_cache_bytes', 'Bytes held by the shared cache', [], cache((s) => s.bytes))
  gaugedElsewhere(registry, 'tabeby_cache_entries', 'Entries in the shared cache', [], cache((s) => s.size))
  gaugedElsewhere(registry, 'tabeby_rate_limit_keys', 'Rate-limit counters held', [], () => [[{}, sources.limiter().keys]])
  countedElsewhere(registry, 'tabeby_rate_limit_store_fallbacks_total', 'Rate-limit checks answered from memory because Redis was unreachable', [], () => [[{}, sources.limiter().fallbacks]])
  gaugedElsewhere(registry, 'tabeby_workers_connected', 'Workers connected to the coordinator', [], () => [[{}, sources.workersConnected()]])
  // The primary serves nothing and has no link to the coordinator but the process tree: what /proc says of it.
  gaugedElsewhere(registry, 'tabeby_primary_resident_memory_bytes', 'Resident memory of the primary process', [], () => {
    const rss = rssOf(process.ppid)
    return rss === null ? [] : [[{}, rss]]
  })
  countedElsewhere(registry, 'tabeby_primary_cpu_seconds_total', 'CPU time of the primary process', [], () => {
    const cpu = cpuSecondsOf(process.ppid)
    return cpu === null ? [] : [[{}, cpu]]
  })
  return registry
}

interface Round {
  id: number
  expected: number
  reports: Map<number, MetricsJson> // by worker id
  done: () => void
}

export class MetricsCollector {
  private rounds = 0
  private current: Round | null = null
  private inFlight: Promise<{ merged: Registry<RegistryContentType>, workers: number[] }> | null = null

  constructor (private readonly server: IpcServer, private readonly own: Registry) {}

  // Concurrent reads share one round: two scrapes at once cost one collection.
  collect (): Promise<{ merged: Registry<RegistryContentType>, workers: number[] }> {
    this.inFlight ??= this.round().finally(() => { this.inFlight = null })
    return this.inFlight
  }

  report (round: number, worker: number, metrics: string): void {
    const current = this.current
    if (current === null || current.id !== round) return // a late answer to a round already merged
    current.reports.set(worker, JSON.parse(metrics) as MetricsJson)
    if (current.reports.size >= current.expected) current.done()
  }

  // A worker that left during a round is not waited for.
  forget (peer: Peer): void {
    const current = this.current
    if (current === null || peer.worker === null || current.reports.has(peer.worker.id)) return
    current.expected--
    if (current.reports.size >= current.expected) current.done()
  }

  private async round (): Promise<{ merged: Registry<RegistryContentType>, workers: number[] }> {
    const id = ++this.rounds
    const expected = [...this.server.peers].filter((peer) => peer.worker !== null).length
    let timer: NodeJS.Timeout | undefined
    const answered = new Promise<void>((resolve) => {
      this.current = { id, expected, reports: new Map(), done: resolve }
      timer = setTimeout(resolve, COLLECT_TIMEOUT_MS)
    })
    this.server.broadcast('metrics.collect', { round: id })
    const own = await this.own.getMetricsAsJSON()
    if (expected > 0) await answered
    clearTimeout(timer)
    const reports = this.current?.reports ?? new Map<number, MetricsJson>()
    this.current = null
    const workers = [...reports.keys()].sort((a, b) => a - b)
    // How many workers answered in time: a scrape missing one shows its counters dropping, and this says why.
    const reported = { name: 'tabeby_metrics_workers_reported', help: 'Workers whose figures are in this collection', type: 'gauge', aggregator: 'sum', values: [{ labels: {}, value: workers.length }] }
    const merged = AggregatorRegistry.aggregate([own, [reported], ...workers.map((worker) => reports.get(worker) as MetricsJson)])
    return { merged, workers }
  }
}
