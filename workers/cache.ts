import { promisify } from 'node:util'
import { brotliCompress, constants, gunzipSync, gzip } from 'node:zlib'
import { stalePrefixes, type CachedResponse, type Change } from '../src/ipc/messages.ts'
import { isDatabaseUnreachable } from '../src/errors.ts'
import { CoordinatorUnavailable, type CoordinatorClient } from './coordinator-client.ts'
import type { Reply, Request } from './http.ts'
import { chooseEncoding, etagMatches } from './negotiate.ts'

// A worker's side of the shared cache. A read this worker has a copy of is answered from it, with no round trip:
// every committed change reaches every worker from the coordinator (the 'change' event) before the write's 200 goes
// out (coordinator/start.ts waits for those writes), and drops the copies it makes stale here. A copy is only
// trusted while the coordinator's socket is up (a change could be missed while it is down, so a reconnect drops
// them all) and for the shared cache's TTL. Otherwise a read asks the coordinator (one small round trip), and the
// bytes travel only when this worker's copy is not the current version. Without a coordinator the worker still
// coalesces its own concurrent loads of a key.

const gzipAsync = promisify(gzip)
const brotliAsync = promisify(brotliCompress)

// Below this, compression costs more than it saves on the wire.
const COMPRESS_FROM = 1024
const LOCAL_ENTRIES = 256
const LEASE_TIMEOUT_MS = 3000

export type Loader = () => Promise<CachedResponse | null>

// The shared cache keeps only the compressed forms of an entry that has them: a day list gzips to about a seventh,
// so the coordinator holds several times the entries in the same bytes, its memory follows the data far less (in
// the 30-minute soak the coordinator's growth was mostly plain bodies of days filling up), and a copy crosses the
// socket that much smaller. A worker restores the plain body once per copy it receives, on the event loop: a day
// list gunzips in tens of microseconds, while on the libuv pool it queued behind the renders' brotli and doubled the
// reads' p99 in the 10,000-user run (docs/BENCHMARKS.md, "Soaks F, G and H").
const NO_BODY = new Uint8Array(0)

function forSharing (value: CachedResponse): CachedResponse {
  return value.gzip === undefined ? value : { ...value, body: NO_BODY, bodyOmitted: true }
}

function restored (value: CachedResponse): CachedResponse {
  if (value.bodyOmitted !== true || value.gzip === undefined) return value
  return { ...value, body: gunzipSync(value.gzip), bodyOmitted: false }
}

interface Copy {
  value: CachedResponse
  expiresAt: number // performance.now() time
}

// Bytes of a worker's cache copies by form, and how many copies there are (`WorkerCache.held`).
export interface CopiesHeld { entries: number, plain: number, gzip: number, br: number }

export interface WorkerCacheOptions {
  ttlMs: number
  // Answer from this worker's copy without asking the coordinator (HOT_PATHS_OFF=worker-hits turns it off).
  ownHits: boolean
}

export class WorkerCache {
  private readonly local = new Map<string, Copy>()
  private readonly loading = new Map<string, Promise<CachedResponse | null>>()
  private readonly reading = new Map<string, Promise<CachedResponse | null>>()
  // Bumped by every change this worker hears of: a copy that arrives (a lease's answer, a load) is kept only when no
  // change came in while it was on its way, since the change may be newer than the copy and already past.
  private epoch = 0
  counters = { reads: 0, own: 0, local: 0, transferred: 0, loads: 0, staleServed: 0 }

  constructor (private readonly coordinator: CoordinatorClient, private readonly options: WorkerCacheOptions) {}

  async read (key: string, channel: string, load: Loader): Promise<CachedResponse | null> {
    this.counters.reads++
    const copy = this.local.get(key)
    if (copy !== undefined && this.options.ownHits && this.coordinator.connected && performance.now() < copy.expiresAt) {
      this.counters.own++
      return copy.value
    }
    // Reads of a key that arrive while one is already asking the coordinator join it: when a copy expires under
    // load, one lease per worker instead of one per request in flight. A change forgets the pending read, so a read
    // that starts after a change never joins one begun before it. (Part of the worker-hits step: off, every read
    // asks for itself, as before.)
    if (!this.options.ownHits) return await this.ask(key, channel, load, copy?.value)
    let pending = this.reading.get(key)
    if (pending === undefined) {
      const started = this.ask(key, channel, load, copy?.value).finally(() => {
        if (this.reading.get(key) === started) this.reading.delete(key)
      })
      pending = started
      this.reading.set(key, pending)
    }
    return await pending
  }

  private async ask (key: string, channel: string, load: Loader, own: CachedResponse | undefined): Promise<CachedResponse | null> {
    const epoch = this.epoch
    let lease
    try {
      lease = await this.coordinator.call('cache.lease', { key, have: own?.version ?? -1 }, LEASE_TIMEOUT_MS)
    } catch (error) {
      if (!(error instanceof CoordinatorUnavailable)) throw error
      // Coordinator away: no shared cache, so no cached copy can be trusted to be current; load, coalesced.
      return await this.loadOnce(key, load, own)
    }
    if (lease.state === 'hit') {
      const value = lease.value === null ? own : restored(lease.value)
      if (value === undefined) return await this.loadOnce(key, load, own) // our copy was evicted meanwhile
      if (lease.value === null) this.counters.local++
      else this.counters.transferred++
      this.remember(key, value, epoch)
      return value
    }
    if (lease.state === 'miss') return await this.loadOnce(key, load, own)
    let value: CachedResponse | null = null
    try {
      value = await this.loadOnce(key, load, own)
    } finally {
      this.coordinator.notify('cache.fill', { key, channel, value: value === null ? null : forSharing(value), token: lease.token })
    }
    if (value !== null) this.remember(key, value, epoch)
    return value
  }

  // What this worker's copies hold, by form: the figure RSS is judged against in a soak (the days fill up, so the
  // same number of copies weighs more every minute). Read when the metrics are collected.
  held (): CopiesHeld {
    const held = { entries: this.local.size, plain: 0, gzip: 0, br: 0 }
    for (const { value } of this.local.values()) {
      held.plain += value.body.byteLength
      held.gzip += value.gzip?.byteLength ?? 0
      held.br += value.br?.byteLength ?? 0
    }
    return held
  }

  // A committed change, announced by the coordinator: drop our copies and forget loads in flight under it. The
  // announcement reaches this worker on the coordinator's socket before the reply to any lease asked after the
  // write's 200, so a later read can no longer join a load that began before the write.
  forget (change: Change): void {
    this.epoch++
    for (const prefix of stalePrefixes(change)) {
      for (const key of this.local.keys()) if (key.startsWith(prefix)) this.local.delete(key)
      for (const key of this.loading.keys()) if (key.startsWith(prefix)) this.loading.delete(key)
      for (const key of this.reading.keys()) if (key.startsWith(prefix)) this.reading.delete(key)
    }
  }

  // After a resync: any copy may predate a change this instance never heard of.
  forgetAll (): void {
    this.epoch++
    this.local.clear()
    this.loading.clear()
    this.reading.clear()
  }

  private async loadOnce (key: string, load: Loader, stale: CachedResponse | undefined): Promise<CachedResponse | null> {
    let pending = this.loading.get(key)
    if (pending === undefined) {
      this.counters.loads++
      const started: Promise<CachedResponse | null> = load().finally(() => {
        if (this.loading.get(key) === started) this.loading.delete(key) // not a newer load started after a forget
      })
      pending = started
      this.loading.set(key, pending)
    }
    try {
      return await pending
    } catch (error) {
      // The database is down: the last copy this worker saw beats an error (architecture.md §7).
      if (stale !== undefined && isDatabaseUnreachable(error)) {
        this.counters.staleServed++
        return stale
      }
      throw error
    }
  }

  private remember (key: string, value: CachedResponse, epoch: number): void {
    this.local.delete(key)
    if (epoch !== this.epoch) return
    this.local.set(key, { value, expiresAt: performance.now() + this.options.ttlMs })
    if (this.local.size > LOCAL_ENTRIES) {
      const oldest = this.local.keys().next().value
      if (oldest !== undefined) this.local.delete(oldest)
    }
  }
}

// Renders a JSON body once per version, with its compressed forms made on the libuv pool, off the event loop.
export async function cachedJson (value: unknown, version: number, etag: string): Promise<CachedResponse> {
  return await compressed(Buffer.from(JSON.stringify(value)), 'application/json; charset=utf-8', version, etag)
}

// Any body with its compressed forms (the /docs page's scripts too), for replyFrom.
export async function compressed (body: Uint8Array, contentType: string, version: number, etag: string): Promise<CachedResponse> {
  if (body.length < COMPRESS_FROM) return { body, version, etag, contentType }
  const [gz, br] = await Promise.all([
    gzipAsync(body, { level: 6 }),
    brotliAsync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
  ])
  return { body, version, etag, contentType, gzip: gz, br }
}

// Answers from a cached entry: 304 on a matching If-None-Match, otherwise the encoding the client accepts best.
export function replyFrom (entry: CachedResponse, request: Request, extra: Record<string, string> = {}): Reply {
  const headers: Record<string, string> = { ETag: entry.etag, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding', ...extra }
  if (etagMatches(request.headers.get('if-none-match'), entry.etag)) return { status: 304, headers, body: '' }
  headers['Content-Type'] = entry.contentType
  const coding = chooseEncoding(request.headers.get('accept-encoding'), { br: entry.br !== undefined, gzip: entry.gzip !== undefined })
  if (coding === 'br' && entry.br !== undefined) return { status: 200, headers: { ...headers, 'Content-Encoding': 'br' }, body: entry.br }
  if (coding === 'gzip' && entry.gzip !== undefined) return { status: 200, headers: { ...headers, 'Content-Encoding': 'gzip' }, body: entry.gzip }
  return { status: 200, headers, body: entry.body }
}

// Answers a per-viewer variant of a cached entry (a patient's redacted view of a lane, AUTH_MODE=strict). Its ETag
// is the entry's with the viewer appended, so a 304 costs no rendering and never matches another viewer's copy; the
// body is built per viewer, so it is sent uncompressed, and marked private for any cache on the way.
export function replyFromView (entry: CachedResponse, request: Request, viewer: string, body: () => Uint8Array): Reply {
  const headers: Record<string, string> = { ETag: `${entry.etag.slice(0, -1)}-${viewer}"`, 'Cache-Control': 'private, no-cache', Vary: 'Authorization' }
  if (etagMatches(request.headers.get('if-none-match'), headers['ETag'] as string)) return { status: 304, headers, body: '' }
  return { status: 200, headers: { ...headers, 'Content-Type': entry.contentType }, body: body() }
}
