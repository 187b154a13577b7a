import { createHash, randomBytes } from 'node:crypto'
import type { Sql } from '../db/pool.ts'

// Waiting-room screens' keys. A screen on the wall shows tokens and the doctor's name, never a patient's: it is given
// a key of its clinic instead of the apps' secret or anyone's token. The key is shown once, stored as its SHA-256, and
// checked when a screen loads its page and when it (re)connects its stream. A revocation is announced as a `display`
// change of the clinic (to every worker of every instance, like a clinic change): each worker holding screens of that
// clinic reads the clinic's live keys once and ends the streams of the revoked ones.

// A clinic has a few screens; more live keys than this is a leak nobody revoked.
export const MAX_LIVE_KEYS = 20

export interface DisplayKeyRow {
  id: number
  clinic_id: number
  label: string
  created_at: Date
  revoked_at: Date | null
}

/** A revoked key, and the microsecond of its revocation: the version of the `display` change that announces it. */
export type RevokedKey = DisplayKeyRow & { revoked_us: string }

/** What is stored of a key, and what a screen's stream is tagged with. */
export const displayKeyDigest = (key: string): string => createHash('sha256').update(key).digest('hex')
const digest = displayKeyDigest

export function newDisplayKey (): string {
  return randomBytes(24).toString('base64url')
}

/** A new key for the clinic (null: it already has MAX_LIVE_KEYS live ones), and the key itself, shown this once. */
export async function createDisplayKey (sql: Sql, clinicId: number, label: string): Promise<{ row: DisplayKeyRow, key: string } | null> {
  const key = newDisplayKey()
  // One statement: the count and the insert see the same snapshot (two creations at the very same moment could end
  // one over the limit, which is harmless: the limit is against forgotten keys, not a security boundary).
  const [row] = await sql<DisplayKeyRow[]>`
    INSERT INTO display_keys (clinic_id, key_sha256, label)
    SELECT ${clinicId}, ${digest(key)}, ${label}
    WHERE (SELECT count(*) FROM display_keys WHERE clinic_id = ${clinicId} AND revoked_at IS NULL) < ${MAX_LIVE_KEYS}
    RETURNING id, clinic_id, label, created_at, revoked_at`
  return row === undefined ? null : { row, key }
}

export async function listDisplayKeys (sql: Sql, clinicId: number): Promise<DisplayKeyRow[]> {
  return await sql<DisplayKeyRow[]>`
    SELECT id, clinic_id, label, created_at, revoked_at FROM display_keys WHERE clinic_id = ${clinicId} ORDER BY id`
}

/** Revokes the clinic's key `id`; null when the clinic has no such key. Revoking twice keeps the first time. */
export async function revokeDisplayKey (sql: Sql, clinicId: number, id: number): Promise<RevokedKey | null> {
  const [row] = await sql<RevokedKey[]>`
    UPDATE display_keys SET revoked_at = COALESCE(revoked_at, now())
    WHERE clinic_id = ${clinicId} AND id = ${id}
    RETURNING id, clinic_id, label, created_at, revoked_at, (extract(epoch FROM revoked_at) * 1000000)::bigint::text AS revoked_us`
  return row ?? null
}

/** The digests of the clinic's live keys: what a worker keeps its screens of that clinic against. */
export async function liveDisplayDigests (sql: Sql, clinicId: number): Promise<Set<string>> {
  const rows = await sql<Array<{ key_sha256: string }>>`
    SELECT key_sha256 FROM display_keys WHERE clinic_id = ${clinicId} AND revoked_at IS NULL`
  return new Set(rows.map((row) => row.key_sha256))
}

/** Whether `key` is a live key of the clinic. */
export async function displayKeyValid (sql: Sql, clinicId: number, key: string): Promise<boolean> {
  const [row] = await sql`
    SELECT 1 FROM display_keys WHERE key_sha256 = ${digest(key)} AND clinic_id = ${clinicId} AND revoked_at IS NULL`
  return row !== undefined
}
