import type { LimitResult } from '../ipc/messages.ts'
// Fixed windows in memory. The coordinator keeps the instance's counters here (unless REDIS_URL puts them in Redis,
// coordinator/limiter.ts). It is single-threaded, so a check-and-increment is atomic and the limits are exact across
// workers: the legacy server kept one limiter per process, and N processes let a client through N times the limit.
// A worker keeps windows of its own only while the coordinator is away, counting against its share of each limit
// (localShare).
//
// Fixed windows, each aligned to the key's own first request rather than to the clock (:00 of every minute).
// Clock-aligned windows reset every client at the same instant, so every client that was held back comes back in
// the same second; per-key windows spread those returns out, and `resetMs` is simply "a minute after you started".
// The fixed-window trade-off stays: a client can spend `limit` at the end of one window and `limit` again at the
// start of the next, so the worst burst is 2 × limit within a short span; never more than `limit` in one window.

export interface RateLimiterOptions {
  windowMs: number
  /** Bound on tracked windows; at the bound the oldest window is evicted (see `hit`). */
  maxKeys: number
  /** Monotonic milliseconds. Defaults to `performance.now()`, so a wall-clock jump cannot stretch or reset windows. */
  now?: () => number
}

export type RateLimitResult = LimitResult

export interface RateLimiterStats {
  /** Windows held, including ended ones whose slot has not been dropped yet. */
  keys: number
  checks: number
  allowed: number
  denied: number
  /** Live windows dropped at `maxKeys`; ended windows removed on the way are not counted. */
  evicted: number
}

// One number per key: offset * COUNT_SPAN + count, with offset = window start - start of the slot holding it
// (below windowMs). For windows up to 65,536 ms the number stays below 2^31, which V8 (as Node ships it, without
// pointer compression) keeps inline in the Map as a small integer, so an update allocates nothing. Measured at
// 1,000,000 keys: 28 MB for the Map, against 43 MB with boxed doubles and 59 MB with {start, count} objects.
// Longer windows still count exactly, with boxed values.
//
// A count past 32,767 (only possible under a limit set above it: an instance behind a gateway that limits, a load
// test from one address) switches that one window to the wide form, a negative number -(offset * WIDE_SPAN + count)
// - 1: a boxed double, exact up to MAX_LIMIT. Ordinary limits never leave the small form, so their memory is as
// measured above.
const COUNT_SPAN = 2 ** 15
const SMALL_MAX = COUNT_SPAN - 1
const WIDE_SPAN = 2 ** 24
/** Largest `limit` (and so count) a window holds: 16,777,215. */
export const MAX_LIMIT = WIDE_SPAN - 1
const MAX_WINDOW_MS = 2 ** 53 / WIDE_SPAN

function pack (offset: number, count: number): number {
  return count <= SMALL_MAX ? offset * COUNT_SPAN + count : -(offset * WIDE_SPAN + count) - 1
}

function offsetOf (packed: number): number {
  return packed >= 0 ? Math.floor(packed / COUNT_SPAN) : Math.floor((-packed - 1) / WIDE_SPAN)
}

function countOf (packed: number, offset: number): number {
  return packed >= 0 ? packed - offset * COUNT_SPAN : -packed - 1 - offset * WIDE_SPAN
}

// Windows are held in two generations. `current` holds the windows that started in the current slot
// [slotStart, slotStart + windowMs), `previous` those of the slot before. A window lasts exactly one slot's length,
// so every window in `previous` has ended by the time the slot turns again, and the whole generation is dropped
// at once: a sweep is O(1) instead of one Map delete per window (measured ~0.3 s for a million, during which no
// worker's check would be answered). The cost: an ended window's memory comes back up to one window length late.
//
// Each Map's insertion order is window-start order (a window is inserted when it starts and never moves), and
// every window in `previous` is older than every one in `current`, so "oldest first" is the front of `previous`,
// then the front of `current`.
export class RateLimiter {
  private readonly windowMs: number
  private readonly maxKeys: number
  private readonly now: () => number

  private slotStart: number
  private current = new Map<string, number>()
  private previous = new Map<string, number>()
  // A live iterator over the generation being evicted from, kept between evictions. A fresh `keys()` per eviction
  // would walk every hole that earlier evictions left at the front of V8's table: measured ~50 µs per eviction at
  // 1,000,000 keys. Only eviction takes keys from the cursor, and it deletes each one; other deletes just leave
  // holes. So everything before the cursor is gone, and its next key is the generation's oldest window. It is let
  // go when the slot turns, which also bounds how long it can keep alive a table V8 has since replaced.
  private cursor: MapIterator<string> | undefined
  private cursorOver: Map<string, number> | undefined

  private checks = 0
  private allowed = 0
  private denied = 0
  private evicted = 0

  constructor (options: RateLimiterOptions) {
    if (!Number.isInteger(options.windowMs) || options.windowMs < 1 || options.windowMs > MAX_WINDOW_MS) {
      throw new RangeError(`windowMs must be an integer in 1..${MAX_WINDOW_MS}, got ${options.windowMs}`)
    }
    if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1) {
      throw new RangeError(`maxKeys must be an integer >= 1, got ${options.maxKeys}`)
    }
    this.windowMs = options.windowMs
    this.maxKeys = options.maxKeys
    this.now = options.now ?? (() => performance.now())
    this.slotStart = Math.floor(this.now())
  }

  /**
   * Counts `cost` against `key` if that keeps it within `limit` in the current window. A denied request consumes
   * nothing: a client retrying while blocked does not push its own recovery further out.
   *
   * At `maxKeys`, a new key evicts the oldest window. Eviction can only ever help the evicted client (its next
   * request starts a fresh window), never block anyone, and the oldest window, when not already ended, is the one
   * closest to its reset: the evicted client gains at most that head start.
   */
  hit (key: string, limit: number, cost = 1): RateLimitResult {
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT) {
      throw new RangeError(`limit must be an integer in 0..${MAX_LIMIT}, got ${limit}`)
    }
    if (!Number.isInteger(cost) || cost < 1) throw new RangeError(`cost must be an integer >= 1, got ${cost}`)
    this.checks++

    const now = Math.floor(this.now())
    if (now - this.slotStart >= this.windowMs) this.turn(now)

    let generation = this.current
    let base = this.slotStart
    let packed = generation.get(key)
    if (packed === undefined) {
      generation = this.previous
      base -= this.windowMs
      packed = generation.get(key)
    }

    let start = now
    let count = 0
    let live = false
    let offset = 0
    if (packed !== undefined) {
      offset = offsetOf(packed)
      if (now - (base + offset) < this.windowMs) {
        start = base + offset
        count = countOf(packed, offset)
        live = true
      }
    }
    const resetMs = start + this.windowMs - now

    if (count + cost > limit) {
      this.denied++
      return { allowed: false, limit, remaining: Math.max(0, limit - count), resetMs }
    }

    this.allowed++
    if (live) {
      generation.set(key, pack(offset, count + cost))
    } else {
      // An ended window can only be in `previous`; its key moves to `current` with the new window.
      if (packed !== undefined) this.previous.delete(key)
      else if (this.current.size + this.previous.size >= this.maxKeys) this.evictOldest(now)
      this.current.set(key, pack(now - this.slotStart, cost))
    }
    return { allowed: true, limit, remaining: limit - count - cost, resetMs }
  }

  /** The start (this limiter's monotonic ms) of `key`'s live window, or null when it has none. */
  startOf (key: string): number | null {
    const found = this.live(key, Math.floor(this.now()))
    return found === null ? null : found.start
  }

  /**
   * Gives back `cost` units counted in `key`'s window that started at `start` (a lease's unspent share). A window
   * that has ended or been replaced since keeps its count: the units were for a window that is over.
   */
  refund (key: string, cost: number, start: number): boolean {
    if (!Number.isInteger(cost) || cost < 1) return false
    const found = this.live(key, Math.floor(this.now()))
    if (found === null || found.start !== start) return false
    const count = Math.max(0, found.count - cost)
    found.generation.set(key, pack(found.offset, count))
    return true
  }

  // The same two-generation lookup as `hit`'s, kept apart on purpose: `hit` is every request's path, and a shared
  // lookup through a reused record measured 3-20 % slower per hit (bench-limiter-memory); this one serves the leases.
  private live (key: string, now: number): { generation: Map<string, number>, offset: number, start: number, count: number } | null {
    if (now - this.slotStart >= this.windowMs) this.turn(now)
    let generation = this.current
    let base = this.slotStart
    let packed = generation.get(key)
    if (packed === undefined) {
      generation = this.previous
      base -= this.windowMs
      packed = generation.get(key)
    }
    if (packed === undefined) return null
    const offset = offsetOf(packed)
    if (now - (base + offset) >= this.windowMs) return null
    return { generation, offset, start: base + offset, count: countOf(packed, offset) }
  }

  /**
   * Drops the generations whose windows have all ended and returns how many windows went. `hit` does the same
   * when it notices the slot has turned; the timer is for when no request comes to notice it. O(1) whatever the
   * count. An ended window lingers at most one window length after its end.
   */
  sweep (): number {
    const now = Math.floor(this.now())
    return now - this.slotStart >= this.windowMs ? this.turn(now) : 0
  }

  size (): number {
    return this.current.size + this.previous.size
  }

  stats (): RateLimiterStats {
    return {
      keys: this.size(),
      checks: this.checks,
      allowed: this.allowed,
      denied: this.denied,
      evicted: this.evicted
    }
  }

  private turn (now: number): number {
    const slots = Math.floor((now - this.slotStart) / this.windowMs)
    let dropped = this.previous.size
    if (slots === 1) {
      this.previous = this.current
    } else {
      // Idle for two slots or more: the current generation's windows have all ended too.
      dropped += this.current.size
      this.previous = new Map()
    }
    this.current = new Map()
    this.slotStart += slots * this.windowMs
    this.cursor = undefined
    this.cursorOver = undefined
    return dropped
  }

  private evictOldest (now: number): void {
    const generation = this.previous.size > 0 ? this.previous : this.current
    if (this.cursorOver !== generation) {
      this.cursor = generation.keys()
      this.cursorOver = generation
    }
    let next = this.cursor?.next()
    if (next === undefined || next.done === true) {
      // An exhausted iterator never resumes, even after the map refills.
      this.cursor = generation.keys()
      next = this.cursor.next()
      if (next.done === true) return
    }
    const key = next.value
    const packed = generation.get(key)
    generation.delete(key)
    const base = generation === this.current ? this.slotStart : this.slotStart - this.windowMs
    if (packed !== undefined && now - (base + offsetOf(packed)) < this.windowMs) this.evicted++
  }
}

/**
 * A worker's share of `limit` while it runs without the coordinator (§7 fallback). Rounded up: rounding down
 * would turn a limit of 10 on 16 workers into 0 and refuse every patient during a coordinator restart, while
 * rounding up lets at most `workers - 1` requests per window through above the limit, for those few seconds.
 * A client on one keep-alive connection stays on one worker, so for it the share is the stricter side anyway.
 */
export function localShare (limit: number, workers: number): number {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be an integer >= 1, got ${workers}`)
  if (!(limit >= 0)) throw new RangeError(`limit must be >= 0, got ${limit}`)
  return Math.ceil(limit / workers)
}
