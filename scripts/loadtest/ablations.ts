// What each design choice buys, measured in one invocation and given as ratios (absolute figures drift on a shared
// machine; runs minutes apart under the same neighbours compare better). Each variant is the same mixed day, shorter
// and smaller, on a fresh cluster and database:
//   - WEB_CONCURRENCY 2 against 1;
//   - the shared cache against none (CACHE_MAX_ENTRIES=1, the smallest the config takes: one entry for hundreds of
//     clinics is a cache that misses; and HOT_PATHS_OFF=worker-hits, so no worker keeps copies of its own either; the
//     measured hit rate shows it);
//   - SSE push against the legacy way of watching a queue, a read every second by every viewer (simulated by the
//     clients: legacy's server polled the database once a second per subscriber, which costs at least as much).
import { runLoadtest, type RunResult } from './run.ts'

export interface Comparison {
  name: string
  baseline: string
  variant: string
  ratios: Array<{ what: string, ratio: number, baseline: number, variant: number }>
}

export interface Ablations {
  users: number
  seconds: number
  runs: Record<string, Summary>
  comparisons: Comparison[]
}

// What a variant run is compared on (the timeline stays out: the report draws the main run).
export interface Summary {
  read_p50_ms: number
  read_p99_ms: number
  book_p99_ms: number
  requests_per_second: number
  server_cpu_cores: number
  postgres_cpu_cores: number
  server_rss_mb: number
  db_transactions_per_second: number
  cache_hit_rate: number | string | null
  delivery_p50_ms: number
  unintended: number
  violations: number | null
  load_average: number[]
}

function summaryOf (r: RunResult): Summary {
  let cpu = 0
  let rss = 0
  for (const [name, p] of Object.entries(r.processes)) {
    if (name === 'postgres' || name === 'load generator') continue
    cpu += p.cpu_mean
    rss += p.rss_mb_max
  }
  return {
    read_p50_ms: r.routes.read?.latency.p50_ms ?? NaN,
    read_p99_ms: r.routes.read?.latency.p99_ms ?? NaN,
    book_p99_ms: r.routes.book?.latency.p99_ms ?? NaN,
    requests_per_second: r.totals.per_second,
    server_cpu_cores: Math.round(cpu * 100) / 100,
    postgres_cpu_cores: r.processes.postgres?.cpu_mean ?? NaN,
    server_rss_mb: Math.round(rss),
    db_transactions_per_second: r.database.transactions === null ? NaN : Math.round(r.database.transactions / r.seconds),
    cache_hit_rate: r.database.cache_hit_rate,
    delivery_p50_ms: r.sse.delivery.p50_ms,
    unintended: r.totals.unintended,
    violations: r.invariants?.violations ?? null,
    load_average: r.loadAverage.start
  }
}

const ratio = (a: number, b: number): number => Math.round(a / b * 100) / 100

function compare (name: string, runs: Record<string, Summary>, baseline: string, variant: string, keys: Array<keyof Summary>): Comparison {
  const b = runs[baseline] as Summary
  const v = runs[variant] as Summary
  return {
    name,
    baseline,
    variant,
    ratios: keys.map((key) => ({ what: `${key} ${variant}/${baseline}`, ratio: ratio(v[key] as number, b[key] as number), baseline: b[key] as number, variant: v[key] as number }))
  }
}

export async function runAblations (options: { users: number, seconds: number, threads: number, log: (line: string) => void }): Promise<Ablations> {
  const variants: Array<{ name: string, workers: number, env?: Record<string, string>, viewerMode?: 'sse' | 'poll' }> = [
    { name: 'workers_2', workers: 2 },
    { name: 'workers_1', workers: 1 },
    { name: 'cache_off', workers: 2, env: { CACHE_MAX_ENTRIES: '1', HOT_PATHS_OFF: 'worker-hits' } },
    { name: 'poll_1s', workers: 2, viewerMode: 'poll' }
  ]
  const runs: Record<string, Summary> = {}
  for (const v of variants) {
    options.log(`ablation ${v.name}`)
    const result = await runLoadtest({
      users: options.users, seconds: options.seconds, workers: v.workers, threads: options.threads, clinics: 200, env: v.env,
      viewerMode: v.viewerMode, label: v.name, log: options.log
    })
    runs[v.name] = summaryOf(result)
  }
  return {
    users: options.users,
    seconds: options.seconds,
    runs,
    comparisons: [
      compare('WEB_CONCURRENCY 1 vs 2', runs, 'workers_2', 'workers_1', ['read_p50_ms', 'read_p99_ms', 'book_p99_ms', 'server_cpu_cores']),
      compare('shared cache off vs on', runs, 'workers_2', 'cache_off', ['read_p50_ms', 'read_p99_ms', 'db_transactions_per_second', 'postgres_cpu_cores']),
      compare('1 s poll vs SSE push', runs, 'workers_2', 'poll_1s', ['requests_per_second', 'server_cpu_cores', 'postgres_cpu_cores', 'db_transactions_per_second', 'read_p99_ms'])
    ]
  }
}
