import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'

// The metrics every process of an instance has (prom-client's defaults: CPU, RSS, heap, event-loop delay, GC), each
// series labelled with the process it describes (`process="worker-2"`), so merging the processes' registries keeps
// them apart instead of adding one worker's RSS to another's. The event-loop delay figures (p50/p99/max) cover the
// time since the previous collection: prom-client resets its delay histogram each time it is read.

export interface ProcessIdentity {
  name: string // primary, coordinator, worker-<id>
  startedAt: number
  restarts: number // starts of this process's slot after the first, each one after a crash
}

export function processRegistry ({ name, startedAt, restarts }: ProcessIdentity): Registry {
  const registry = new Registry()
  const labels = { process: name }
  collectDefaultMetrics({ register: registry, labels })
  const registers = [registry]
  // eslint-disable-next-line no-new -- registered on creation; collect() fills it when the registry is read
  new Gauge({
    name: 'tabeby_process_uptime_seconds',
    help: 'Seconds since the process started',
    labelNames: ['process'],
    registers,
    collect () { this.set(labels, (Date.now() - startedAt) / 1000) }
  })
  // eslint-disable-next-line no-new -- as above
  new Counter({
    name: 'tabeby_process_restarts_total',
    help: 'Times the primary started this process slot again after a crash',
    labelNames: ['process'],
    registers,
    collect () { this.reset(); this.inc(labels, restarts) }
  })
  return registry
}

// A counter whose value another object already keeps (a pool's timeouts, the cache's hits): read when the registry
// is, so the hot path pays nothing for it. `read` gives the current value of each label set.
export function countedElsewhere<L extends string> (registry: Registry, name: string, help: string, labelNames: L[], read: () => Array<[Partial<Record<L, string>>, number]>): void {
  // eslint-disable-next-line no-new -- registered on creation
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect () {
      this.reset()
      for (const [labels, value] of read()) this.inc(labels, value)
    }
  })
}

export function gaugedElsewhere<L extends string> (registry: Registry, name: string, help: string, labelNames: L[], read: () => Array<[Partial<Record<L, string>>, number]>): void {
  // eslint-disable-next-line no-new -- registered on creation
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect () {
      this.reset()
      for (const [labels, value] of read()) this.set(labels, value)
    }
  })
}
