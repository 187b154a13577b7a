import type { Sql } from '../src/db/pool.ts'
import { liveRevocations, parseRevocations, RevokedFamilies, type RevokedFamily } from '../src/auth/revocations.ts'
import { errorFields, log } from '../src/log.ts'

// The instance's set of revoked dashboard session families (src/auth/revocations.ts). It learns each revocation
// from the worker that made it (sessions.revoke), from other instances through NOTIFY (onNotify, on the change bus's
// LISTEN connection), and from the database at start and after every re-LISTEN (reload: a NOTIFY sent while the
// connection was away is lost). Whatever is new is pushed to every worker, whose guards check tokens against their copy.

export interface SessionRevocationSet {
  revoke: (revoked: RevokedFamily[]) => void
  list: () => RevokedFamily[]
  onNotify: (payload: string) => void
  reload: () => void
}

export function createRevocations (sql: Sql, push: (fresh: RevokedFamily[]) => void): SessionRevocationSet {
  const set = new RevokedFamilies()
  const add = (revoked: RevokedFamily[]): void => {
    const fresh = set.add(revoked)
    if (fresh.length > 0) push(fresh)
  }
  const reload = (): void => {
    liveRevocations(sql).then(add, (error: unknown) => log.warn('revoked sessions not loaded', errorFields(error)))
  }
  setInterval(() => set.sweep(), 60_000).unref()
  return {
    revoke: add,
    list: () => set.list(),
    onNotify: (payload) => {
      const revoked = parseRevocations(payload)
      if (revoked === null) reload()
      else add(revoked)
    },
    reload
  }
}
