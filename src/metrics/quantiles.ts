import type { MetricsJson } from '../ipc/messages.ts'

// Percentiles from merged histogram buckets, as Prometheus's histogram_quantile computes them: the bucket that holds
// the rank, and a linear interpolation inside it. Merging buckets and then interpolating is exact up to the bucket
// width; averaging each worker's own percentiles would not be a percentile of anything.

export interface Latency {
  count: number
  mean_ms: number | null
  p50_ms: number | null
  p95_ms: number | null
  p99_ms: number | null
}

interface Buckets {
  bounds: Map<number, number> // upper bound (seconds, Infinity for +Inf) → cumulative count
  sum: number
  count: number
}

function bound (le: unknown): number {
  return le === '+Inf' ? Infinity : Number(le)
}

// q in [0, 1]; null when nothing was observed.
export function quantile (buckets: Buckets, q: number): number | null {
  if (buckets.count === 0) return null
  const sorted = [...buckets.bounds.entries()].sort((a, b) => a[0] - b[0])
  const rank = q * buckets.count
  let lower = 0
  let below = 0
  for (const [upper, cumulative] of sorted) {
    if (cumulative >= rank) {
      // Past the last finite bound nothing says how far: the last finite bound is the answer, as in Prometheus.
      if (upper === Infinity) return lower
      const inBucket = cumulative - below
      return inBucket === 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket)
    }
    lower = upper
    below = cumulative
  }
  return lower
}

// The histogram `name`'s observations merged over every series with the same value of `label` (route group, say),
// in one registry's metrics or in several (each worker's).
export function histogramsBy (metrics: MetricsJson, name: string, label: string): Map<string, Buckets> {
  const out = new Map<string, Buckets>()
  for (const value of metrics.filter((m) => m.name === name).flatMap((m) => m.values)) {
    const key = String(value.labels[label] ?? '')
    let buckets = out.get(key)
    if (buckets === undefined) {
      buckets = { bounds: new Map(), sum: 0, count: 0 }
      out.set(key, buckets)
    }
    const series = 'metricName' in value ? value.metricName : undefined
    if (series === `${name}_bucket`) {
      const le = bound(value.labels.le)
      buckets.bounds.set(le, (buckets.bounds.get(le) ?? 0) + value.value)
    } else if (series === `${name}_sum`) buckets.sum += value.value
    else if (series === `${name}_count`) buckets.count += value.value
  }
  return out
}

const ms = (seconds: number | null): number | null => seconds === null ? null : Math.round(seconds * 100_000) / 100

export function latencyBy (metrics: MetricsJson, name: string, label: string): Record<string, Latency> {
  const out: Record<string, Latency> = {}
  const groups = [...histogramsBy(metrics, name, label).entries()].sort((a, b) => a[0].localeCompare(b[0]))
  for (const [key, buckets] of groups) {
    out[key] = {
      count: buckets.count,
      mean_ms: buckets.count === 0 ? null : ms(buckets.sum / buckets.count),
      p50_ms: ms(quantile(buckets, 0.5)),
      p95_ms: ms(quantile(buckets, 0.95)),
      p99_ms: ms(quantile(buckets, 0.99))
    }
  }
  return out
}

// A gauge's value per value of `label` (the event-loop delay of each process, say).
export function gaugeBy (metrics: MetricsJson, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const value of metrics.filter((m) => m.name === name).flatMap((m) => m.values)) out.set(String(value.labels[label] ?? ''), value.value)
  return out
}
