import { stalePrefixes, type CachedResponse, type Change, type Lease } from '../src/ipc/messages.ts'
import { ResponseCache } from './cache.ts'

// The instance's cache with single flight and versions. When many workers miss one key at once, the first gets a
// lease and loads; the others wait here for its fill (architecture.md §4). Every committed change raises the
// version of its channel and drops its keys; a fill rendered from an older version than the channel's latest is
// refused, so a slow reader that started before a write can never put the pre-write state back.

interface Waiter {
  have: number
  resolve: (lease: Lease) => void
}

interface Flight {
  token: number
  waiters: Waiter[]
  timer: NodeJS.Timeout
}

// Longer than any sane render; after it the waiters load for themselves rather than wait on a dead loader.
const LEASE_MS = 5000

export function channelOf (change: Change): string {
  return `${change.topic}:${change.clinicId}`
}

export class SharedCache {
  readonly store: ResponseCache
  private readonly flights = new Map<string, Flight>()
  private readonly latest = new Map<string, number>()
  private nextToken = 1
  counters = { leases: 0, fills: 0, staleFills: 0, waits: 0 }

  constructor (options: { ttlMs: number, maxEntries: number, maxBytes: number }) {
    this.store = new ResponseCache(options)
  }

  lease (key: string, have: number): Lease | Promise<Lease> {
    const entry = this.store.get(key)
    if (entry !== undefined) return { state: 'hit', value: entry.version === have ? null : entry }
    const flight = this.flights.get(key)
    if (flight !== undefined) {
      this.counters.waits++
      return new Promise((resolve) => flight.waiters.push({ have, resolve }))
    }
    this.counters.leases++
    const token = this.nextToken++
    const timer = setTimeout(() => this.land(key, null), LEASE_MS)
    timer.unref()
    this.flights.set(key, { token, waiters: [], timer })
    return { state: 'fill', token }
  }

  // Only the flight this lease opened may be filled: a fill from before a coordinator restart, or for a flight a
  // change already cancelled (and a newer one replaced), was loaded from a state that may be gone.
  fill (key: string, channel: string, value: CachedResponse | null, token: number): void {
    if (this.flights.get(key)?.token !== token) {
      this.counters.staleFills++
      return
    }
    let usable = value
    if (value !== null && value.version < (this.latest.get(channel) ?? 0)) {
      this.counters.staleFills++
      usable = null
    }
    if (usable !== null) {
      this.counters.fills++
      this.store.set(key, usable)
    }
    this.land(key, usable)
  }

  // A committed change: remember its version, drop what it makes stale.
  // Returns false for a change already applied: each change arrives twice, from the worker that made it (so its 200
  // waits for the invalidation) and from PostgreSQL's NOTIFY (so no change is lost), in either order. A lane's
  // versions follow commit order, so a version not above the channel's latest is one we know.
  apply (change: Change): boolean {
    if (change.version <= (this.latest.get(channelOf(change)) ?? 0)) return false
    // A clinic change also dates every directory listing ('clinics'), which shows that clinic among others.
    for (const channel of change.topic === 'clinic' ? [channelOf(change), 'clinics'] : [channelOf(change)]) {
      if (change.version > (this.latest.get(channel) ?? 0)) this.latest.set(channel, change.version)
    }
    for (const prefix of stalePrefixes(change)) this.store.deleteByPrefix(prefix)
    // A fill in flight for a dropped key was rendered before this change: its waiters must load again.
    for (const [key, flight] of this.flights) {
      if (stalePrefixes(change).some((prefix) => key.startsWith(prefix))) {
        clearTimeout(flight.timer)
        this.flights.delete(key)
        for (const waiter of flight.waiters) waiter.resolve({ state: 'miss' })
      }
    }
    return true
  }

  // Changes may have been missed (the LISTEN connection dropped): nothing cached can be trusted. Flights in the
  // air were loaded from a state that may predate a missed change; their waiters load again.
  resync (): void {
    this.store.clear()
    for (const [key, flight] of this.flights) {
      clearTimeout(flight.timer)
      this.flights.delete(key)
      for (const waiter of flight.waiters) waiter.resolve({ state: 'miss' })
    }
  }

  clear (): number {
    const size = this.store.stats().size
    this.store.clear()
    return size
  }

  private land (key: string, value: CachedResponse | null): void {
    const flight = this.flights.get(key)
    if (flight === undefined) return
    clearTimeout(flight.timer)
    this.flights.delete(key)
    for (const waiter of flight.waiters) {
      waiter.resolve(value === null ? { state: 'miss' } : { state: 'hit', value: value.version === waiter.have ? null : value })
    }
  }
}
