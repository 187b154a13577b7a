import type { MetricsJson } from '../ipc/messages.ts'

// Counters and histograms for the request path, kept as plain numbers in a Map and handed to prom-client only when
// the registry is read (as the JSON its getMetricsAsJSON gives, which the coordinator then merges and prom-client
// renders). prom-client's own Counter#inc and Histogram#observe validate and hash the label set on every call:
// measured at several microseconds per request for the three a request makes (docs/BENCHMARKS.md,
// scripts/bench-observability.ts); a Map lookup on a precomputed key and an add cost a small fraction of that.

type Labels = Record<string, string>
type Json = MetricsJson[number]

export class CounterTally {
  private readonly series = new Map<string, { labels: Labels, value: number }>()

  constructor (readonly name: string, readonly help: string) {}

  // `key` identifies the label set (the caller builds it cheaply); `labels` is built only the first time.
  add (key: string, labels: () => Labels, value = 1): void {
    const found = this.series.get(key)
    if (found !== undefined) found.value += value
    else this.series.set(key, { labels: labels(), value })
  }

  json (): Json {
    return { name: this.name, help: this.help, type: 'counter' as unknown as Json['type'], aggregator: 'sum', values: [...this.series.values()].map(({ labels, value }) => ({ labels, value })) } as Json
  }
}

interface HistogramSeries {
  labels: Labels
  counts: Float64Array // per bucket, not cumulative; the last one is +Inf
  sum: number
  count: number
}

export class HistogramTally {
  private readonly series = new Map<string, HistogramSeries>()

  constructor (readonly name: string, readonly help: string, readonly bounds: readonly number[]) {}

  observe (key: string, labels: () => Labels, value: number): void {
    let found = this.series.get(key)
    if (found === undefined) {
      found = { labels: labels(), counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 }
      this.series.set(key, found)
    }
    let bucket = 0
    while (bucket < this.bounds.length && value > (this.bounds[bucket] as number)) bucket++
    found.counts[bucket] = (found.counts[bucket] as number) + 1
    found.sum += value
    found.count++
  }

  // A series kept elsewhere (RequestTally's), for rendering.
  load (key: string, series: HistogramSeries): void {
    this.series.set(key, series)
  }

  // The shape prom-client gives a histogram: cumulative `_bucket` series with `le`, then `_sum` and `_count`.
  json (): Json {
    const values: Array<{ labels: Record<string, string | number>, value: number, metricName: string }> = []
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0
      this.bounds.forEach((bound, i) => {
        cumulative += counts[i] as number
        values.push({ labels: { le: bound, ...labels }, value: cumulative, metricName: `${this.name}_bucket` })
      })
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: `${this.name}_bucket` })
      values.push({ labels, value: sum, metricName: `${this.name}_sum` })
      values.push({ labels, value: count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: 'histogram' as unknown as Json['type'], aggregator: 'sum', values } as Json
  }
}

interface RequestSeries {
  classes: Float64Array // answers by status class: index 1 for 1xx … 5xx, 0 for anything else
  latency: HistogramSeries
}

// Requests by route and method: the counter by status class and the latency histogram share one lookup, on strings
// that are the same objects request after request (the route's pattern, the method), whose hashes V8 keeps.
export class RequestTally {
  private readonly routes = new Map<string, Map<string, RequestSeries>>()

  constructor (readonly counter: { name: string, help: string }, readonly histogram: { name: string, help: string, bounds: readonly number[] }) {}

  observe (group: string, route: string, method: string, status: number, seconds: number): void {
    let methods = this.routes.get(route)
    if (methods === undefined) {
      methods = new Map()
      this.routes.set(route, methods)
    }
    let series = methods.get(method)
    if (series === undefined) {
      series = { classes: new Float64Array(6), latency: { labels: { group, route, method }, counts: new Float64Array(this.histogram.bounds.length + 1), sum: 0, count: 0 } }
      methods.set(method, series)
    }
    const statusClass = status >= 100 && status < 600 ? Math.floor(status / 100) : 0
    series.classes[statusClass] = (series.classes[statusClass] as number) + 1
    const { bounds } = this.histogram
    let bucket = 0
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++
    const latency = series.latency
    latency.counts[bucket] = (latency.counts[bucket] as number) + 1
    latency.sum += seconds
    latency.count++
  }

  json (): Json[] {
    const counter = new CounterTally(this.counter.name, this.counter.help)
    const histogram = new HistogramTally(this.histogram.name, this.histogram.help, this.histogram.bounds)
    for (const [route, methods] of this.routes) {
      for (const [method, series] of methods) {
        series.classes.forEach((value, statusClass) => {
          if (value === 0) return
          const label = statusClass === 0 ? 'other' : `${statusClass}xx`
          counter.add(`${method} ${route} ${label}`, () => ({ route, method, status_class: label }), value)
        })
        histogram.load(`${method} ${route}`, series.latency)
      }
    }
    return [counter.json(), histogram.json()]
  }
}
