import type { Database } from '../src/db/pool.ts'
import { liveRevocations, RevokedFamilies, type RevokedFamily } from '../src/auth/revocations.ts'
import { errorFields, log } from '../src/log.ts'
import type { CoordinatorClient } from './coordinator-client.ts'

// This worker's copy of the revoked session families (src/auth/revocations.ts), which the guard checks on every
// dashboard request. It is filled from the database at start, kept current by the coordinator's pushes, and merged
// with the coordinator's full set on every reconnect (revocations only ever add, so a merge is always safe).

export class SessionRevocations {
  readonly revoked = new RevokedFamilies()
  private readonly sweeper: NodeJS.Timeout

  constructor (private readonly coordinator: CoordinatorClient) {
    this.sweeper = setInterval(() => this.revoked.sweep(), 60_000)
    this.sweeper.unref()
  }

  /**
   * After the revoking transaction committed: this worker refuses the families at once, and the coordinator answers
   * once it has pushed them to every worker, so a request sent after the 200 finds them revoked on any worker.
   * Without a coordinator the revocation is in the database: the others get it from the coordinator's load when it
   * is back (and other instances got it through NOTIFY already).
   */
  async publish (revoked: readonly RevokedFamily[]): Promise<void> {
    if (revoked.length === 0) return
    this.revoked.add(revoked)
    try {
      await this.coordinator.call('sessions.revoke', [...revoked])
    } catch {
      log.warn('revocation not relayed: the coordinator is away; other workers learn it when it is back', { families: revoked.length })
    }
  }

  apply (revoked: readonly RevokedFamily[]): void {
    this.revoked.add(revoked)
  }

  async loadFrom (db: Database): Promise<void> {
    try {
      this.revoked.add(await db.run(liveRevocations))
    } catch (error) {
      log.warn('revoked sessions not loaded from the database; the coordinator will send them', errorFields(error))
    }
  }

  async resync (): Promise<void> {
    try {
      this.revoked.add(await this.coordinator.call('sessions.list', null, 2000))
    } catch {
      // Reconnecting again calls this again.
    }
  }

  close (): void {
    clearInterval(this.sweeper)
  }
}
