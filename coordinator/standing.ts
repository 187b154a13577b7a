import type { Sql } from '../src/db/pool.ts'
import { loadStanding, purgeTombstones, type StandingChange, type RevokedBefore } from '../src/auth/standing.ts'
import { log, errorFields } from '../src/log.ts'

// The instance's set of revoked app actors (src/auth/standing.ts). It changes when a worker publishes a
// deactivation or a deletion it committed, when another instance's coordinator announces one, and on a reload from
// the database every RELOAD_MS (which also catches what a missed notification or a hand-made change left out). Every
// change is sent to every worker before the publishing worker's call is answered, and on the same socket as the
// worker's later rate-limit replies: by the time any worker answers the next request of a revoked token, it knows.

const RELOAD_MS = 30_000

export class ActorStanding {
  private readonly entries = new Map<string, RevokedBefore>()
  // The generation at which each key was last published: a reload that started earlier read an older state of it.
  private readonly published = new Map<string, number>()
  private generation = 0
  private timer: NodeJS.Timeout | undefined
  loaded = false
  counters = { reloads: 0, published: 0 }

  constructor (private readonly sql: Sql, private readonly broadcast: (revocation: StandingChange) => void) {}

  entriesForWorker (): Array<[string, number | null]> {
    // A worker that asks before the first load stays on its database fallback, and asks again.
    if (!this.loaded) throw new Error('standing not loaded yet')
    return [...this.entries]
  }

  // A change a worker committed or another instance announced: applied, marked newer than any reload in flight, sent on.
  publish (revocation: StandingChange): void {
    this.published.set(revocation.key, ++this.generation)
    this.counters.published++
    this.set(revocation.key, revocation.value)
  }

  start (): () => void {
    const tick = (): void => {
      this.reload().catch((error: unknown) => log.warn('actor standing reload failed', errorFields(error)))
    }
    tick()
    this.timer = setInterval(tick, RELOAD_MS)
    this.timer.unref()
    return () => clearInterval(this.timer)
  }

  async reload (): Promise<void> {
    const startedAt = this.generation
    await purgeTombstones(this.sql)
    const fresh = await loadStanding(this.sql)
    for (const key of new Set([...this.entries.keys(), ...fresh.keys()])) {
      if ((this.published.get(key) ?? -1) > startedAt) continue // published meanwhile: newer than what we read
      this.set(key, fresh.has(key) ? fresh.get(key) as RevokedBefore : false)
    }
    for (const [key, generation] of this.published) if (generation <= startedAt) this.published.delete(key)
    this.loaded = true
    this.counters.reloads++
  }

  private set (key: string, value: RevokedBefore | false): void {
    const current = this.entries.get(key)
    if (value === false ? current === undefined : current === value) return
    if (value === false) this.entries.delete(key)
    else this.entries.set(key, value)
    this.broadcast({ key, value })
  }
}
