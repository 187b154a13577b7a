import { Readable } from 'node:stream'
import { getMetricsFromStream, type PromData, type PromHistogramData, type PromMetric } from 'prom2javascript'

// /metrics read the way a Prometheus server reads it, with a parser written by someone else (prom2javascript): not
// prom-client reading its own output back. It refuses a line it cannot parse and a histogram whose +Inf bucket is
// not its count. (parse-prometheus-text-format, the better-known one, folds a family's labelled histograms into one
// and cannot tell route from route.)

export type Sample = PromData | PromHistogramData

export interface Family {
  type: string
  help: string
  samples: Sample[]
}

export class Scrape {
  private constructor (readonly text: string, readonly families: Map<string, Family>) {}

  static async parse (text: string): Promise<Scrape> {
    const metrics = await getMetricsFromStream(Readable.from([text]))
    const families = new Map<string, Family>()
    for (const [name, metric] of Object.entries(metrics) as Array<[string, PromMetric]>) {
      families.set(name, { type: metric.type, help: metric.help, samples: metric.data as Sample[] })
    }
    return new Scrape(text, families)
  }

  family (name: string): Family {
    const family = this.families.get(name)
    if (family === undefined) throw new Error(`no ${name} in the scrape`)
    return family
  }

  // The family's samples whose labels include these (none when the family has no sample yet).
  samples (name: string, labels: Record<string, string> = {}): Sample[] {
    return (this.families.get(name)?.samples ?? []).filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
  }

  // The sum of a counter's or gauge's samples with these labels (a histogram: of their counts).
  total (name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((sum, sample) => sum + ('buckets' in sample ? sample.count : sample.value), 0)
  }

  // Each value of `label` with the sum of its samples.
  by (name: string, label: string): Map<string, number> {
    const out = new Map<string, number>()
    for (const sample of this.samples(name)) {
      const key = sample.labels[label] ?? ''
      out.set(key, (out.get(key) ?? 0) + ('buckets' in sample ? sample.count : sample.value))
    }
    return out
  }
}
