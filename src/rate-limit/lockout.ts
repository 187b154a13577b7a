// Failed sign-in attempts per guessable target (an e-mail, a clinic's golden codes, an address guessing secretary
// codes), and the lockout they lead to. The rate-limit tiers bound how fast one address may ask; this bounds how
// many wrong guesses any one target takes in a stretch of time, and keeps refusing — a correct secret included —
// until the lockout ends. The coordinator holds the instance's store (so the count is exact across workers); a
// worker keeps one of its own only while the coordinator is away.

export interface LockoutPolicy {
  // Failures that start a lockout, counted in a window that opens at the first failure.
  failures: number
  // How long that window lasts, and how long the lockout then lasts.
  windowMs: number
}

export interface LockoutState {
  // Milliseconds until the target takes attempts again; 0 when it is not locked.
  retryMs: number
  // This failure started the lockout (the one to log).
  locked: boolean
}

interface Entry {
  windowEnds: number
  failures: number
  lockedUntil: number
}

// How often a failure also drops the entries that have ended (no timer to clear: the store lives as long as its owner).
const SWEEP_EVERY_MS = 60_000

export class LockoutStore {
  private readonly entries = new Map<string, Entry>()
  private nextSweep = 0

  constructor (private readonly maxKeys: number, private readonly now: () => number = () => performance.now()) {}

  check (key: string): number {
    const entry = this.entries.get(key)
    if (entry === undefined) return 0
    return Math.max(0, Math.ceil(entry.lockedUntil - this.now()))
  }

  fail (key: string, policy: LockoutPolicy): LockoutState {
    const now = this.now()
    if (now >= this.nextSweep) {
      this.nextSweep = now + SWEEP_EVERY_MS
      this.sweep()
    }
    let entry = this.entries.get(key)
    if (entry !== undefined && entry.lockedUntil > now) return { retryMs: Math.ceil(entry.lockedUntil - now), locked: false }
    if (entry === undefined || entry.windowEnds <= now) {
      if (entry === undefined && this.entries.size >= this.maxKeys) this.evictOne(now)
      entry = { windowEnds: now + policy.windowMs, failures: 0, lockedUntil: 0 }
      this.entries.delete(key) // re-inserted last: Map order is then the order windows opened in
      this.entries.set(key, entry)
    }
    entry.failures++
    if (entry.failures < policy.failures) return { retryMs: 0, locked: false }
    entry.lockedUntil = now + policy.windowMs
    entry.windowEnds = entry.lockedUntil
    entry.failures = 0
    return { retryMs: policy.windowMs, locked: true }
  }

  sweep (): void {
    const now = this.now()
    for (const [key, entry] of this.entries) {
      if (entry.windowEnds <= now && entry.lockedUntil <= now) this.entries.delete(key)
    }
  }

  size (): number {
    return this.entries.size
  }

  // At the bound the oldest entry that is not a live lockout goes; only a store full of live lockouts drops one of
  // them (an attacker who fills it has to lock that many targets first).
  private evictOne (now: number): void {
    let fallback: string | undefined
    for (const [key, entry] of this.entries) {
      if (entry.lockedUntil <= now) {
        this.entries.delete(key)
        return
      }
      fallback ??= key
    }
    if (fallback !== undefined) this.entries.delete(fallback)
  }
}
