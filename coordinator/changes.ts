import postgres from 'postgres'
import { reconnectDelay, type Sql } from '../src/db/pool.ts'
import type { Change, ChangeBusStats, DatabaseProbe } from '../src/ipc/messages.ts'
import { log, errorFields } from '../src/log.ts'
import { CHANGES_CHANNEL } from '../src/booking/versions.ts'

// Changes between instances that share the database (Render runs 2-4): each coordinator NOTIFYs what its workers
// committed and LISTENs for the others'. LISTEN needs a direct connection (transaction poolers do not carry it),
// hence DATABASE_DIRECT_URL. The LISTEN connection and the jobs connection (which also sends the NOTIFYs) are the
// coordinator's two connections of DB_POOL_BUDGET.
//
// A notification sent while the LISTEN connection is down (backend terminated, PostgreSQL restarted, a failover)
// is gone for good: PostgreSQL keeps none for a session that is not listening. So every re-LISTEN is a resync: the
// caller drops what it cached and re-renders what it streams. The LISTEN is ours, on a one-connection client of our
// own (postgres.js's `listen()` re-listens once after a drop and, when that attempt fails, silently never again).
//
// The same idle connection answers the instance's health probe: it never waits behind a request or a job, so a
// probe that gets no answer means the database does not answer, not that our pools are busy.

const CHANNEL = CHANGES_CHANNEL
// Between LISTEN attempts while the database is away; with the driver's capped reconnect delay (0.5 s) a database
// that is back is listened to again well within a second.
const RETRY_MS = 100
const PROBE_TIMEOUT_MS = 1000
// Health checks arriving together share one probe; a result this fresh is reused.
const PROBE_FRESH_MS = 200

// Lane changes are notified by the writing transaction itself (src/booking/versions.ts), without `i`; clinic
// changes by the coordinator that heard of them, with its instance id `i`. A coordinator applies everything but its
// own announcements: applying a change twice only drops a cache entry once more.
interface Wire {
  i?: string
  t: Change['topic']
  c: number
  v: number
}

export interface ChangeBusOptions {
  url: string
  notifySql: Sql
  instance: string
  applicationName: string
  onForeign: (change: Change) => void
  // After a re-LISTEN: changes may have been missed during `gapMs`.
  onResync: (gapMs: number) => void
  // Other channels on the same LISTEN connection (revoked sessions): the budget has no connection to spare. They are
  // resynced with the rest: a listener of one catches up in onResync.
  channels?: Record<string, (payload: string) => void>
}

export interface ChangeBus {
  announce: (change: Change) => void
  probe: () => Promise<DatabaseProbe>
  stats: () => ChangeBusStats
  close: () => Promise<void>
}

export function startChangeBus (options: ChangeBusOptions): ChangeBus {
  const { instance } = options
  let closed = false
  let listening = false
  let everListened = false
  let lostAt: number | null = null // when the LISTEN connection went away; null while listening
  let retry: NodeJS.Timeout | undefined
  let attempt: Promise<void> | null = null
  const counters = { notifications: 0, resyncs: 0, lastGapMs: null as number | null, malformed: 0 }

  // `onnotify` is a postgres.js option its types leave out: every notification on the client's connections.
  const settings: postgres.Options<Record<string, never>> & { onnotify: (channel: string, payload: string) => void } = {
    max: 1,
    idle_timeout: 0,
    max_lifetime: 0,
    connect_timeout: 2,
    backoff: reconnectDelay,
    fetch_types: false,
    onnotice: () => {},
    connection: { application_name: options.applicationName },
    onnotify: (channel, payload) => {
      if (channel !== CHANNEL) {
        try {
          options.channels?.[channel]?.(payload)
        } catch (error) {
          counters.malformed++
          log.warn('ignored a malformed notification', { channel, ...errorFields(error) })
        }
        return
      }
      counters.notifications++
      try {
        const wire = JSON.parse(payload) as Wire
        if (wire.i !== instance) options.onForeign({ topic: wire.t, clinicId: wire.c, version: Number(wire.v) })
      } catch (error) {
        counters.malformed++
        log.warn('ignored a malformed change notification', errorFields(error))
      }
    },
    // Called for every connection that closes, including each failed attempt while the database is away.
    onclose: () => {
      if (closed) return
      if (listening) {
        listening = false
        lostAt = Date.now()
        log.warn('LISTEN connection lost: changes from other instances are missed until it is back')
      }
      listen()
    }
  }
  const client = postgres(options.url, settings)

  function listen (): void {
    if (closed || listening || attempt !== null) return
    clearTimeout(retry)
    // One round trip for every channel: several statements need the simple protocol.
    attempt = client.unsafe([CHANNEL, ...Object.keys(options.channels ?? {})].map((channel) => `LISTEN "${channel}";`).join(' ')).simple().then(() => {
      listening = true
      if (!everListened) {
        everListened = true
        return
      }
      const gapMs = lostAt === null ? 0 : Date.now() - lostAt
      lostAt = null
      counters.resyncs++
      counters.lastGapMs = gapMs
      log.warn('LISTEN is back: resyncing, changes of the gap may have been missed', { gapMs, resyncs: counters.resyncs })
      options.onResync(gapMs)
    }, (error: unknown) => {
      // The database may be down at start or still away: keep serving and try again, rather than crash-loop.
      lostAt ??= Date.now()
      log.debug('LISTEN failed, retrying', errorFields(error))
      if (!closed) retry = setTimeout(listen, RETRY_MS)
    }).finally(() => { attempt = null })
  }
  listen()

  let probing: Promise<DatabaseProbe> | null = null
  let lastProbe: { at: number, result: DatabaseProbe } | null = null
  async function runProbe (): Promise<DatabaseProbe> {
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        client`SELECT 1`.execute(),
        new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS) })
      ])
      return { reachable: true, latencyMs: Math.round(performance.now() - started), error: null }
    } catch (error) {
      return { reachable: false, latencyMs: Math.round(performance.now() - started), error: error instanceof Error ? error.message : String(error) }
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    announce: (change) => {
      const wire: Wire = { i: instance, t: change.topic, c: change.clinicId, v: change.version }
      options.notifySql`SELECT pg_notify(${CHANNEL}, ${JSON.stringify(wire)})`.catch((error: unknown) => log.warn('change notification failed', errorFields(error)))
    },
    probe: () => {
      if (lastProbe !== null && performance.now() - lastProbe.at < PROBE_FRESH_MS) return Promise.resolve(lastProbe.result)
      probing ??= runProbe().then((result) => {
        lastProbe = { at: performance.now(), result }
        return result
      }).finally(() => { probing = null })
      return probing
    },
    stats: () => ({
      listening,
      resyncs: counters.resyncs,
      lastGapMs: counters.lastGapMs,
      gapSinceMs: lostAt === null ? null : Date.now() - lostAt,
      notifications: counters.notifications
    }),
    close: async () => {
      closed = true
      clearTimeout(retry)
      await client.end({ timeout: 1 })
    }
  }
}
