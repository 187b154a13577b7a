// The run as text for a terminal: requests by route and status, latency per route, SSE delivery, errors (the
// intended 409/429/304 apart), memory and CPU per process, connections against the budget, the invariants, and the
// ablations as ratios.
import { ROUTES } from './mix.ts'
import type { RunResult } from './run.ts'
import type { ProcessSample, Sample } from './sampler.ts'
import type { Ablations } from './ablations.ts'

export interface Results { label: string, command: string, main: RunResult, ablations: Ablations | null }

const pad = (s: string | number, n: number): string => String(s).padEnd(n)
const num = (v: number): string => Number.isFinite(v) ? String(v) : '–'

export function summaryText (results: Results): string {
  const r = results.main
  const lines: string[] = []
  lines.push(`${results.command}`)
  lines.push(`${r.machine}; load average ${r.loadAverage.start.join(' ')} → ${r.loadAverage.end.join(' ')}`)
  lines.push(`${r.settings.users as number} users (${r.mix.viewers} SSE viewers, ${r.mix.appUsers} app users), ${r.seconds} s, WEB_CONCURRENCY ${r.settings.workers as number}, ${r.settings.threads as number} generator thread(s)`)
  lines.push('')
  lines.push(`${pad('route', 9)}${pad('requests', 10)}${pad('p50 ms', 9)}${pad('p95 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}statuses`)
  for (const route of ROUTES) {
    const s = r.routes[route]
    if (s === undefined) continue
    const statuses = Object.entries(s.statuses).map(([k, v]) => `${k === '0' ? 'no answer' : k}: ${v}`).join(', ')
    lines.push(`${pad(route, 9)}${pad(s.latency.count, 10)}${pad(num(s.latency.p50_ms), 9)}${pad(num(s.p95_ms), 9)}${pad(num(s.latency.p99_ms), 9)}${pad(num(s.latency.max_ms), 9)}${statuses}`)
  }
  lines.push(`total ${r.totals.requests} requests (${r.totals.per_second}/s); errors (not 2xx, 304, 409, 429): ${r.totals.unintended} (${(r.totals.unintended_rate * 100).toFixed(3)} %); arrivals dropped: ${r.totals.dropped}`)
  lines.push(`SSE: ${r.sse.viewers} viewers (${r.sse.connected_at_end ?? '?'} connected at the end; screens caught up with the database ${r.sse.settle_seconds} s after the load stopped), ${r.sse.frames} frames, ${r.sse.cuts} cut by the runner, ${r.sse.reconnects} reconnects with Last-Event-ID, ${r.sse.refused ?? '?'} stream openings refused (not 200: the phone retried); delivery p50 ${num(r.sse.delivery.p50_ms)} ms, p99 ${num(r.sse.delivery.p99_ms)} ms (${r.sse.delivery.count} timed)`)
  lines.push(`midnight: ${r.midnight === null ? 'not crossed (no database access)' : `at ${r.midnight.at} s, ${r.midnight.days} days of ${r.midnight.clinics} clinics archived`}`)
  lines.push('')
  lines.push(`${pad('process', 13)}${pad('RSS first', 11)}${pad('RSS max', 10)}${pad('RSS last', 10)}${pad('CPU cores', 11)}open files first/max/last`)
  for (const [name, p] of Object.entries(r.processes)) {
    lines.push(`${pad(name, 13)}${pad(p.rss_mb_first, 11)}${pad(p.rss_mb_max, 10)}${pad(p.rss_mb_last, 10)}${pad(p.cpu_mean, 11)}${p.fds_first}/${p.fds_max}/${p.fds_last}`)
  }
  const d = r.database
  lines.push(`database connections: high-water ${d.connections_max} of DB_POOL_BUDGET ${d.budget ?? '?'}; pool timeouts ${d.pool_timeouts ?? '?'}; transactions ${d.transactions ?? '?'}; shared cache hit rate ${String(d.cache_hit_rate ?? '?')}`)
  lines.push('')
  if (r.invariants === null) lines.push('invariants: not checked (no database access)')
  else {
    lines.push(`invariants: ${r.invariants.violations === 0 ? 'all hold' : `${r.invariants.violations} VIOLATIONS`}`)
    for (const [name, c] of Object.entries(r.invariants.checks)) lines.push(`  ${c.violations === 0 ? 'ok  ' : 'FAIL'} ${pad(name, 28)}${c.detail}`)
  }
  const soak = soakText(r)
  if (soak !== '') lines.push(soak)
  if (results.ablations !== null) {
    lines.push('')
    lines.push(`ablations (${results.ablations.users} users, ${results.ablations.seconds} s each, same invocation):`)
    for (const a of results.ablations.comparisons) lines.push(`  ${pad(a.name, 34)}${a.ratios.map((x) => `${x.what} ${x.ratio}×`).join(', ')}`)
  }
  return lines.join('\n')
}

// The soak's questions, from the timeline: errors, drift of the tail latency (the median of the per-second p99 in
// the first five minutes after a minute of warm-up, against the last five), memory growth after warm-up, database
// connections against the budget, open files after warm-up and at the end. Null for runs shorter than 12 minutes.
export interface SoakVerdict {
  error_rate: number
  p99_drift: Record<string, { first_ms: number, last_ms: number, ratio: number }>
  memory_warmup_seconds: number
  rss_growth: Record<string, { after_warmup_mb: number, last_mb: number, growth_pct: number }>
  connections: { max: number, budget: number | null, within: boolean }
  fds: Record<string, { after_warmup: number, last: number }>
}

// Memory and open files are measured from the end of the fifth minute. In every 10,000-user run the workers' RSS
// climbed for about five minutes (their V8 heaps growing to the working size, ~4,000 SSE connections each, their own
// copies of the most-read days filling) and then held: measured from minute 1, the first soak's "growth" was that
// climb. Five minutes is still well before midnight (half-way through the run) and the rush (60 %), so whatever
// those leave behind is measured. Each end is the median of a minute of samples, so one garbage collection just
// before or after either sample does not decide the figure.
export const MEMORY_WARMUP_SECONDS = 300
const MEMORY_WINDOW_SECONDS = 60

const median = (values: number[]): number => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)] as number
}

export function soakVerdict (r: RunResult): SoakVerdict | null {
  if (r.seconds < 720) return null
  const t = r.timeline
  const start = t[0]?.at ?? 0
  const end = t.at(-1)?.at ?? 0
  const first = t.filter((p) => p.at >= start + 60 && p.at < start + 360)
  const last = t.filter((p) => p.at > end - 300)
  const drift: SoakVerdict['p99_drift'] = {}
  for (const route of ['read', 'book', 'walkIn', 'status'] as const) {
    const a = median(first.map((p) => p.byRoute[route]?.p99 ?? NaN))
    const b = median(last.map((p) => p.byRoute[route]?.p99 ?? NaN))
    if (Number.isFinite(a) && Number.isFinite(b)) drift[route] = { first_ms: a, last_ms: b, ratio: Math.round(b / a * 100) / 100 }
  }
  const samplesIn = (from: number, to: number): Sample[] => t.filter((p) => p.at >= from && p.at < to && p.sample !== null).map((p) => p.sample as Sample)
  const warm = samplesIn(start + MEMORY_WARMUP_SECONDS, start + MEMORY_WARMUP_SECONDS + MEMORY_WINDOW_SECONDS)
  const closing = samplesIn(end - MEMORY_WINDOW_SECONDS + 1, end + 1)
  const growth: SoakVerdict['rss_growth'] = {}
  const fds: SoakVerdict['fds'] = {}
  for (const name of Object.keys(r.processes)) {
    if (name === 'load generator') continue
    const of = (samples: Sample[], pick: (p: ProcessSample) => number): number => median(samples.map((s) => s.processes[name]).filter((p) => p !== undefined).map(pick))
    const a = of(warm, (p) => p.rssMb)
    const b = of(closing, (p) => p.rssMb)
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue
    growth[name] = { after_warmup_mb: a, last_mb: b, growth_pct: Math.round((b / a - 1) * 1000) / 10 }
    fds[name] = { after_warmup: of(warm, (p) => p.fds), last: of(closing, (p) => p.fds) }
  }
  return {
    error_rate: r.totals.unintended_rate,
    p99_drift: drift,
    memory_warmup_seconds: MEMORY_WARMUP_SECONDS,
    rss_growth: growth,
    connections: { max: r.database.connections_max, budget: r.database.budget, within: r.database.budget === null || r.database.connections_max <= r.database.budget },
    fds
  }
}

export function soakText (r: RunResult): string {
  const v = soakVerdict(r)
  if (v === null) return ''
  const lines = ['', 'soak:']
  lines.push(`  errors (not 2xx, 304, 409, 429): ${(v.error_rate * 100).toFixed(3)} %`)
  lines.push(`  p99 drift, median of per-second p99, minutes 1-6 → last 5: ${Object.entries(v.p99_drift).map(([k, d]) => `${k} ${d.first_ms} → ${d.last_ms} ms (${d.ratio}×)`).join('; ')}`)
  const warmup = `${v.memory_warmup_seconds / 60} min warm-up; median of the minute after it → of the last minute`
  lines.push(`  RSS (${warmup}): ${Object.entries(v.rss_growth).map(([k, g]) => `${k} ${g.after_warmup_mb} → ${g.last_mb} MB (${g.growth_pct > 0 ? '+' : ''}${g.growth_pct} %)`).join('; ')}`)
  lines.push(`  database connections: max ${v.connections.max} of budget ${v.connections.budget ?? '?'} (${v.connections.within ? 'never above' : 'ABOVE'})`)
  lines.push(`  open files (${warmup}): ${Object.entries(v.fds).map(([k, f]) => `${k} ${f.after_warmup} → ${f.last}`).join('; ')}`)
  return lines.join('\n')
}
