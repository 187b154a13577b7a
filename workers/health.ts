// /health from memory: a background check, about once a second, keeps this worker's answer fresh, so a health
// request costs no database probe and no coordinator round trip (a load balancer polling every worker, or a
// monitoring burst, used to run one probe each). The loop runs only while someone asks: it starts with the first
// request (which waits for a check of its own) and stops after a quiet half minute.
//
// A check that has not completed for STALE_MS means the database (or the coordinator's probe of it) no longer
// answers in time: the answer is then 503 without waiting, as the probe's own 1 s timeout would have said.

export interface HealthResult {
  healthy: boolean
  body: Record<string, unknown>
}

const EVERY_MS = 1000
const STALE_MS = 2000
const IDLE_MS = 30_000

export class HealthState {
  private last: { result: HealthResult, at: number } | null = null
  private running: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private askedAt = 0
  counters = { checks: 0, fromMemory: 0 }

  constructor (private readonly check: () => Promise<HealthResult>) {}

  async answer (): Promise<HealthResult> {
    const now = performance.now()
    this.askedAt = now
    if (this.timer === null) this.timer = setInterval(() => this.tick(), EVERY_MS).unref()
    if (this.last === null) {
      await this.refresh()
      // (TypeScript keeps `last` narrowed to null across the await; refresh() has set it.)
      const fresh = this.last as { result: HealthResult } | null
      return fresh?.result ?? await this.check()
    }
    if (now - this.last.at > STALE_MS) {
      return {
        healthy: false,
        body: {
          ...this.last.result.body,
          status: 'unhealthy',
          timestamp: new Date().toISOString(),
          checks: {
            ...(this.last.result.body['checks'] as Record<string, unknown> | undefined),
            database: { status: 'error', message: `Database connection failed: no answer within ${STALE_MS} ms`, latency_ms: Math.round(now - this.last.at), busy: false }
          }
        }
      }
    }
    this.counters.fromMemory++
    return { healthy: this.last.result.healthy, body: { ...this.last.result.body, timestamp: new Date().toISOString() } }
  }

  close (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  private tick (): void {
    if (performance.now() - this.askedAt > IDLE_MS) {
      this.close()
      this.last = null // a health request after a quiet spell gets a check of its own, not an old answer
      return
    }
    void this.refresh()
  }

  // One check at a time: a slow one is not stacked with the next tick's.
  private refresh (): Promise<void> {
    this.running ??= this.check().then((result) => {
      this.counters.checks++
      this.last = { result, at: performance.now() }
    }, () => {}).finally(() => { this.running = null })
    return this.running
  }
}
