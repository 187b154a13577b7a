import { standingOf, type StandingChange, type ActorKey, type RevokedBefore } from '../src/auth/standing.ts'
import type { Database } from '../src/db/pool.ts'
import { log, errorFields } from '../src/log.ts'
import { CoordinatorUnavailable, type CoordinatorClient } from './coordinator-client.ts'

// A worker's copy of the revoked app actors (src/auth/standing.ts, coordinator/revocations.ts): read when the
// coordinator connects, kept current by its `revocation` events. Checking a token against it costs a map lookup.
// The copy counts only while this worker is connected and has read it since connecting: a coordinator that went
// away may have missed changes, so meanwhile every check reads the database instead (src/auth/guard.ts).

const RETRY_MS = 500

export class WorkerStanding {
  private readonly entries = new Map<string, RevokedBefore>()
  private connection = 0 // the coordinator connection the current copy was read on
  private readOn = -1
  private retry: NodeJS.Timeout | undefined

  constructor (private readonly coordinator: CoordinatorClient) {}

  /** The key's state, or 'unknown' while the copy may be behind. */
  stateOf (key: string): RevokedBefore | undefined | 'unknown' {
    if (!this.coordinator.connected || this.readOn !== this.connection) return 'unknown'
    return this.entries.get(key)
  }

  get current (): boolean {
    return this.coordinator.connected && this.readOn === this.connection
  }

  onConnect (): void {
    this.connection++
    void this.read(this.connection)
  }

  onEvent (revocation: StandingChange): void {
    if (revocation.value === false) this.entries.delete(revocation.key)
    else this.entries.set(revocation.key, revocation.value)
  }

  close (): void {
    clearTimeout(this.retry)
  }

  // Events that arrive before the reply are older than it (one socket, in order): the copy replaces them.
  private async read (connection: number): Promise<void> {
    clearTimeout(this.retry)
    try {
      const { entries } = await this.coordinator.call('standing.read', null, 2000)
      if (connection !== this.connection) return
      this.entries.clear()
      for (const [key, value] of entries) this.entries.set(key, value)
      this.readOn = connection
    } catch (error) {
      if (error instanceof CoordinatorUnavailable && !this.coordinator.connected) return // onConnect reads again
      // Not loaded yet in the coordinator (it was just started), or slow: ask again shortly.
      if (connection === this.connection) {
        this.retry = setTimeout(() => { void this.read(connection) }, RETRY_MS)
        this.retry.unref()
      }
    }
  }
}

/**
 * After a commit that may change whether an actor's tokens stand (a deactivation, a re-activation, a deletion): its
 * state as the rows now say, sent to the coordinator, which has told every worker when this resolves. Without a
 * coordinator every worker is on its database fallback already; its next reload catches up.
 */
export async function publishStanding (db: Database, coordinator: CoordinatorClient, key: ActorKey): Promise<void> {
  const value = await db.run((sql) => standingOf(sql, key))
  try {
    await coordinator.call('standing.publish', { key, value })
  } catch (error) {
    log.warn('revocation not published; the coordinator reloads it', { key, ...errorFields(error) })
  }
}
