import type { Sql, TransactionSql } from '../db/pool.ts'
import { ACCESS_TOKEN_SECONDS } from './tokens.ts'

// Revoked session families (issue: a refresh token's reuse, logout, "end every session", a password change or reset).
// Every dashboard access token names its family (`fam`), and a family's access tokens are refused from the moment
// it is revoked. The set is small (a row lives only as long as a token issued before the revocation could) and is
// held in memory: the coordinator loads it from the database, learns every revocation (from its workers, and from
// other instances through NOTIFY), and pushes it to the workers, whose guards then check a token with a map lookup
// instead of a query.

export const REVOCATIONS_CHANNEL = 'tabeby_revocations'

// A family and the moment (ms since the epoch) after which no access token it issued can still be valid.
export type RevokedFamily = [family: string, until: number]

// Clocks of two instances may differ a little; a revocation is kept this much longer than the tokens it stops.
const SKEW_SECONDS = 5

export class RevokedFamilies {
  private readonly families = new Map<string, number>()

  /** Adds what is new or lasts longer; returns exactly those, so a relay passes on nothing twice. */
  add (revoked: Iterable<RevokedFamily>): RevokedFamily[] {
    const fresh: RevokedFamily[] = []
    for (const [family, until] of revoked) {
      if ((this.families.get(family) ?? 0) >= until) continue
      this.families.set(family, until)
      fresh.push([family, until])
    }
    return fresh
  }

  has (family: string, now: number = Date.now()): boolean {
    const until = this.families.get(family)
    return until !== undefined && until > now
  }

  list (): RevokedFamily[] {
    return [...this.families]
  }

  get size (): number {
    return this.families.size
  }

  sweep (now: number = Date.now()): void {
    for (const [family, until] of this.families) if (until <= now) this.families.delete(family)
  }
}

interface Row {
  family: string
  until: string // bigint epoch milliseconds
}

// NOTIFY payloads are limited to 8000 bytes; a revocation of more families than fit asks listeners to reload.
const MAX_PAYLOAD = 7900

/**
 * Records the families as revoked, in the caller's transaction, and tells every instance when it commits (the
 * NOTIFY is delivered on commit, and not at all on rollback). Returns what to push to this instance's workers.
 */
export async function revokeFamilies (tx: TransactionSql, families: readonly string[]): Promise<RevokedFamily[]> {
  if (families.length === 0) return []
  const rows = await tx<Row[]>`
    INSERT INTO revoked_families (family, expires_at)
    SELECT f, now() + make_interval(secs => ${ACCESS_TOKEN_SECONDS + SKEW_SECONDS}) FROM unnest(${families}::uuid[]) AS f
    ON CONFLICT (family) DO UPDATE SET expires_at = greatest(revoked_families.expires_at, excluded.expires_at)
    RETURNING family::text, (extract(epoch FROM expires_at) * 1000)::bigint::text AS until`
  const revoked = rows.map((row): RevokedFamily => [row.family, Number(row.until)])
  const payload = JSON.stringify({ f: revoked })
  await tx`SELECT pg_notify(${REVOCATIONS_CHANNEL}, ${payload.length <= MAX_PAYLOAD ? payload : JSON.stringify({ reload: true })})`
  return revoked
}

export async function liveRevocations (sql: Sql): Promise<RevokedFamily[]> {
  const rows = await sql<Row[]>`
    SELECT family::text, (extract(epoch FROM expires_at) * 1000)::bigint::text AS until FROM revoked_families WHERE expires_at > now()`
  return rows.map((row) => [row.family, Number(row.until)])
}

// A NOTIFY payload: the families, or null when the listener must reload them all.
export function parseRevocations (payload: string): RevokedFamily[] | null {
  const parsed = JSON.parse(payload) as { f?: unknown, reload?: unknown }
  if (!Array.isArray(parsed.f)) return null
  return parsed.f.filter((entry): entry is RevokedFamily =>
    Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'number')
}
