import type { LimitGrant } from '../src/ipc/messages.ts'
import type { RateLimiter } from '../src/rate-limit/windows.ts'

// Rate limits spent without a round trip per request, still exact across workers. A check that finds plenty of room
// in a key's window also grants the asking worker a share of it, counted in the window at once, which the worker
// then spends on its own; so the units allowed in a window, spent or leased, never pass the limit. The shares shrink
// with what is left (an eighth of it per worker), and near the end of the budget none is granted, so the last
// requests of a window are checked one by one, as without leases. When a check finds the window used up while
// workers still hold unspent units, the coordinator asks them back and answers once they are returned: a client is
// not refused while its budget sits idle in another worker. A lease ends with its window.
//
// It needs the counters in this process: with REDIS_URL (limits shared across instances) no lease is granted.

// A worker gets at most an eighth of what is left per worker connected, and nothing below this many units.
const SHARE_DIVISOR = 8
const MIN_GRANT = 8
// How long a refused check waits for leases to come back; a worker that does not answer by then keeps its units
// until its window ends (its clients can still spend them), and the check is answered from what did come back.
const RECLAIM_MS = 100

interface Held<H> {
  window: number
  units: Map<H, number>
}

interface Reclaim<H> {
  waiting: Set<H>
  done: Array<() => void>
  timer: NodeJS.Timeout
}

// H: whatever names a worker (the coordinator's IPC peer); `ask` tells one to give its units of a key back.
export class LimitLeases<H> {
  private readonly held = new Map<string, Held<H>>()
  private readonly reclaims = new Map<string, Reclaim<H>>()
  counters = { granted: 0, units: 0, returned: 0, reclaims: 0 }

  constructor (private readonly memory: RateLimiter, private readonly holders: () => number, private readonly ask: (holder: H, key: string) => void) {}

  async take (key: string, limit: number, holder: H): Promise<LimitGrant> {
    const first = this.check(key, limit, holder)
    if (first.allowed) return first
    const held = this.held.get(key)
    if (held === undefined || held.window !== first.window || !hasUnits(held)) return first
    await this.reclaim(key, held)
    return this.check(key, limit, holder)
  }

  // Units given back: only those of the window they were granted in count again.
  giveBack (key: string, units: number, window: number, holder: H): void {
    const held = this.held.get(key)
    if (held !== undefined && held.window === window) {
      const had = held.units.get(holder) ?? 0
      const back = Math.min(had, units)
      if (back > 0 && this.memory.refund(key, back, window)) this.counters.returned += back
      held.units.delete(holder)
      if (held.units.size === 0) this.held.delete(key)
    }
    const reclaim = this.reclaims.get(key)
    if (reclaim !== undefined) {
      reclaim.waiting.delete(holder)
      if (reclaim.waiting.size === 0) this.settle(key, reclaim)
    }
  }

  // A worker that went away took its units with it: they stay counted (never more than the limit), and no reclaim
  // waits for it.
  forget (holder: H): void {
    for (const [key, held] of this.held) {
      held.units.delete(holder)
      if (held.units.size === 0) this.held.delete(key)
    }
    for (const [key, reclaim] of this.reclaims) {
      reclaim.waiting.delete(holder)
      if (reclaim.waiting.size === 0) this.settle(key, reclaim)
    }
  }

  // Drops the records of windows that have ended.
  sweep (): void {
    for (const [key, held] of this.held) {
      if (this.memory.startOf(key) !== held.window) this.held.delete(key)
    }
  }

  private check (key: string, limit: number, holder: H): LimitGrant {
    const result = this.memory.hit(key, limit)
    const window = this.memory.startOf(key) ?? 0
    if (!result.allowed) return { ...result, granted: 0, window }
    const share = Math.floor(result.remaining / (SHARE_DIVISOR * Math.max(1, this.holders())))
    if (share < MIN_GRANT) return { ...result, granted: 0, window }
    const leased = this.memory.hit(key, limit, share)
    if (!leased.allowed) return { ...result, granted: 0, window }
    let held = this.held.get(key)
    if (held === undefined || held.window !== window) this.held.set(key, (held = { window, units: new Map() }))
    held.units.set(holder, (held.units.get(holder) ?? 0) + share)
    this.counters.granted++
    this.counters.units += share
    return { ...leased, granted: share, window }
  }

  private reclaim (key: string, held: Held<H>): Promise<void> {
    return new Promise((resolve) => {
      let reclaim = this.reclaims.get(key)
      if (reclaim === undefined) {
        this.counters.reclaims++
        const waiting = new Set([...held.units].filter(([, units]) => units > 0).map(([holder]) => holder))
        reclaim = { waiting, done: [], timer: setTimeout(() => this.settle(key, this.reclaims.get(key)), RECLAIM_MS) }
        this.reclaims.set(key, reclaim)
        for (const holder of waiting) this.ask(holder, key)
      }
      reclaim.done.push(resolve)
    })
  }

  private settle (key: string, reclaim: Reclaim<H> | undefined): void {
    if (reclaim === undefined || this.reclaims.get(key) !== reclaim) return
    clearTimeout(reclaim.timer)
    this.reclaims.delete(key)
    for (const done of reclaim.done) done()
  }
}

function hasUnits<H> (held: Held<H>): boolean {
  for (const units of held.units.values()) if (units > 0) return true
  return false
}
