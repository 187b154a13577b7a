import postgres from 'postgres'
import type { Sql } from '../src/db/pool.ts'
import type { Change } from '../src/ipc/messages.ts'
import { log, errorFields } from '../src/log.ts'
import { CHANGES_CHANNEL } from '../src/booking/versions.ts'

// Changes between instances that share the database (Render runs 2-4): each coordinator NOTIFYs what its workers
// committed and LISTENs for the others'. LISTEN needs a direct connection (transaction poolers do not carry it),
// hence DATABASE_DIRECT_URL. The LISTEN connection and the jobs connection (which also sends the NOTIFYs) are the
// coordinator's two connections of DB_POOL_BUDGET.

const CHANNEL = CHANGES_CHANNEL
const RETRY_MS = 2000

// Lane changes are notified by the writing transaction itself (src/booking/versions.ts), without `i`; clinic
// changes by the coordinator that heard of them, with its instance id `i`. A coordinator applies everything but its
// own announcements: applying a change twice only drops a cache entry once more.
interface Wire {
  i?: string
  t: Change['topic']
  c: number
  v: number
}

export interface ChangeBus {
  announce: (change: Change) => void
  listening: () => boolean
  close: () => Promise<void>
}

export function startChangeBus (url: string, notifySql: Sql, instance: string, applicationName: string, onForeign: (change: Change) => void): ChangeBus {
  // postgres.js runs LISTEN on a dedicated connection of its own and re-LISTENs after a reconnect; this instance's
  // pool itself never queries, so it opens nothing else.
  const listener = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: applicationName } })
  let listening = false
  let closed = false
  let retry: NodeJS.Timeout | undefined
  const listen = (): void => {
    listener.listen(CHANNEL, (payload) => {
      try {
        const wire = JSON.parse(payload) as Wire
        if (wire.i !== instance) onForeign({ topic: wire.t, clinicId: wire.c, version: Number(wire.v) })
      } catch (error) {
        log.warn('ignored a malformed change notification', errorFields(error))
      }
    }).then(() => { listening = true }, (error: unknown) => {
      // The database may be down at start: keep serving and try again, rather than crash-loop the coordinator.
      log.warn('LISTEN failed, retrying', errorFields(error))
      if (!closed) retry = setTimeout(listen, RETRY_MS)
    })
  }
  listen()
  return {
    announce: (change) => {
      const wire: Wire = { i: instance, t: change.topic, c: change.clinicId, v: change.version }
      notifySql`SELECT pg_notify(${CHANNEL}, ${JSON.stringify(wire)})`.catch((error: unknown) => log.warn('change notification failed', errorFields(error)))
    },
    listening: () => listening,
    close: async () => {
      closed = true
      clearTimeout(retry)
      await listener.end({ timeout: 1 })
    }
  }
}
