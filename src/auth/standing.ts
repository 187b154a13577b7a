import type { Sql, TransactionSql } from '../db/pool.ts'
import { log, errorFields } from '../log.ts'

// Which app actors may no longer use the tokens they hold, without a query per request. A patient token lives 30
// days and a doctor token as long; deactivating the patient or the doctor must end them at once (AUTH_MODE=strict).
// The coordinator holds the whole set (it is small: deactivated and deleted actors), pushes it to every worker, and
// each change to it is pushed as it happens (coordinator/standing.ts); a worker checks tokens against its copy,
// and reads the database only while it has no current copy (its coordinator is away).
//
// Keys name the actor as the token does: `patient:<account id>`, `doctor:<clinic id>`. A value is the moment (ms)
// before which the actor's tokens are void, or null while the actor is deactivated (every token void, whenever
// issued). A deletion leaves a moment, not null: a doctor created again under the same clinic id later gets tokens
// issued after it, which stand.

export type ActorKey = `patient:${number}` | `doctor:${number}`
export type RevokedBefore = number | null

export interface StandingChange {
  key: string
  // The key's state now: revoked (ongoing or before a moment), or `false` for a key that no longer is.
  value: RevokedBefore | false
}

export const patientKey = (accountId: number): ActorKey => `patient:${accountId}`
export const doctorKey = (clinicId: number): ActorKey => `doctor:${clinicId}`

// The longest an actor token lives (patients' and doctors' 30 days), plus a day: a deletion's mark may go then.
export const TOMBSTONE_DAYS = 31

/** Whether a token issued at `issuedAt` (seconds, its `iat`) is void under this state of its key. */
export function voids (state: RevokedBefore | undefined, issuedAt: number): boolean {
  if (state === undefined) return false
  return state === null || issuedAt * 1000 <= state
}

// null (deactivated) outranks any moment: a deactivated actor's every token is void.
export function merge (a: RevokedBefore | undefined, b: RevokedBefore): RevokedBefore {
  if (a === undefined) return b
  if (a === null || b === null) return null
  return Math.max(a, b)
}

/** The whole set, from the rows that decide it. */
export async function loadStanding (sql: Sql): Promise<Map<string, RevokedBefore>> {
  const rows = await sql<Array<{ key: string, before: number | null }>>`
    SELECT 'patient:' || account_id AS key, NULL::float8 AS before FROM patient_profiles WHERE NOT is_active
    UNION ALL SELECT 'doctor:' || id, NULL FROM clinics WHERE status = 'inactive'
    UNION ALL SELECT key, extract(epoch FROM revoked_at) * 1000 FROM revoked_actors`
  const out = new Map<string, RevokedBefore>()
  for (const row of rows) out.set(row.key, merge(out.get(row.key), row.before === null ? null : Number(row.before)))
  return out
}

/** One key's state, read from the rows: what a worker without a current copy asks, and what a change publishes. */
export async function standingOf (sql: Sql, key: ActorKey): Promise<RevokedBefore | false> {
  const [kind, idText] = key.split(':') as ['patient' | 'doctor', string]
  const id = Number(idText)
  const [row] = await sql<Array<{ inactive: boolean, before: number | null }>>`
    SELECT ${kind === 'patient'
      ? sql`EXISTS (SELECT 1 FROM patient_profiles WHERE account_id = ${id} AND NOT is_active)`
      : sql`EXISTS (SELECT 1 FROM clinics WHERE id = ${id} AND status = 'inactive')`} AS inactive,
      (SELECT extract(epoch FROM revoked_at) * 1000 FROM revoked_actors WHERE key = ${key}) AS before`
  if (row === undefined) return false
  if (row.inactive) return null
  return row.before === null ? false : Number(row.before)
}

/** Marks a deleted actor's tokens void, inside the transaction that deletes it. */
export async function recordDeletion (sql: Sql | TransactionSql, key: ActorKey): Promise<void> {
  await sql`
    INSERT INTO revoked_actors (key) VALUES (${key})
    ON CONFLICT (key) DO UPDATE SET revoked_at = now()`
}

/** Marks older than the longest token's lifetime name no token that could still be used. */
export async function purgeTombstones (sql: Sql): Promise<number> {
  const gone = await sql`DELETE FROM revoked_actors WHERE revoked_at < now() - make_interval(days => ${TOMBSTONE_DAYS})`
  return gone.count
}

/** A process's view of the set: a key's state, or 'unknown' while its copy may be behind (then ask the database). */
export interface StandingView {
  stateOf: (key: string) => RevokedBefore | undefined | 'unknown'
}

// Other instances learn a change on their LISTEN connection (coordinator/changes.ts carries this channel too), and
// their workers from them; an instance ignores its own.
export const STANDING_CHANNEL = 'tabeby_standing'

export function announceStanding (sql: Sql, instance: string, change: StandingChange): void {
  const payload = JSON.stringify({ i: instance, k: change.key, v: change.value })
  sql`SELECT pg_notify(${STANDING_CHANNEL}, ${payload})`.catch((error: unknown) => log.warn('standing notification failed', errorFields(error)))
}

/** A notification's change, or null for this instance's own or one that makes no sense. */
export function parseStandingNotice (payload: string, instance: string): StandingChange | null {
  const parsed = JSON.parse(payload) as { i?: unknown, k?: unknown, v?: unknown }
  if (parsed.i === instance || typeof parsed.k !== 'string' || !/^(patient|doctor):\d+$/.test(parsed.k)) return null
  const value = parsed.v
  if (value !== null && value !== false && typeof value !== 'number') return null
  return { key: parsed.k, value }
}
