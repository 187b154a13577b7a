import { randomBytes } from 'node:crypto'
import type postgres from 'postgres'
import type { Sql, TransactionSql } from '../db/pool.ts'
import { AD_LIFETIME_MS, expiryText, type AdRow } from './payload.ts'
import type { ImageType } from './image.ts'

// Reads and writes of ads (legacy-api.md §2.12). Every query leaves out an expired ad: the expiry job keeps the row,
// marked, where legacy deleted it, so for the apps it is gone as it was.

const COLUMNS = 'a.id, a.public_id, a.clinic_id, a.ad_status, a.request_date, a.created_date, a.clinic_name, a.ad_subtitle, ' +
  'a.ad_description, a.ad_address, a.ad_phonenumber, a.ad_state, a.ad_discount, a.ad_price, a.team_message, a.clinic_address, ' +
  'a.ad_location, a.image_url, a.image_sha256, a.expired_date, a.activated_at, a.created_at'

// The columns an ad's fields may set; `image` is the one field that is two columns (the app's URL, or our image).
export interface AdFields {
  request_date?: string | null
  created_date?: string | null
  clinic_name?: string | null
  ad_subtitle?: string | null
  ad_description?: string | null
  ad_address?: string | null
  ad_phonenumber?: string | null
  ad_state?: string | null
  ad_discount?: string | null
  ad_price?: string | null
  team_message?: string | null
  clinic_address?: string | null
  ad_location?: postgres.JSONValue
  ad_status?: boolean
  expired_date?: string | null
  expires_at?: Date | null
  image?: ImageRef
}

export type ImageRef = { url: string | null } | { sha256: string }

function columnsOf (sql: Sql | TransactionSql, fields: AdFields): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || key === 'image') continue
    out[key] = key === 'ad_location' ? (value === null ? null : sql.json(value as postgres.JSONValue)) : value
  }
  if (fields.image !== undefined) {
    out['image_url'] = 'url' in fields.image ? fields.image.url : null
    out['image_sha256'] = 'sha256' in fields.image ? fields.image.sha256 : null
  }
  return out
}

// "<clinic_id>_<8 hex>_<unix seconds>", the legacy form the apps display and send back.
export function newPublicId (clinicId: number, now = Date.now()): string {
  return `${clinicId}_${randomBytes(4).toString('hex')}_${Math.floor(now / 1000)}`
}

export async function insertAd (sql: Sql | TransactionSql, clinicId: number, fields: AdFields): Promise<AdRow> {
  const values = { public_id: newPublicId(clinicId), clinic_id: clinicId, ...columnsOf(sql, fields) }
  const [row] = await sql<AdRow[]>`INSERT INTO ads ${sql(values)} RETURNING ${sql.unsafe(COLUMNS.replaceAll('a.', ''))}`
  if (row === undefined) throw new Error('ad insert returned no row')
  return row
}

export async function adByPublicId (sql: Sql | TransactionSql, publicId: string, forUpdate = false): Promise<AdRow | null> {
  const [row] = await sql<AdRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM ads a WHERE a.public_id = ${publicId} AND a.expired_at IS NULL
    ${forUpdate ? sql`FOR UPDATE` : sql``}`
  return row ?? null
}

export async function adById (sql: Sql, id: number): Promise<AdRow | null> {
  const [row] = await sql<AdRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM ads a WHERE a.id = ${id} AND a.expired_at IS NULL`
  return row ?? null
}

/** The clinic id of a live ad, for the actor rules; null when there is no such ad. */
export async function clinicOfAd (sql: Sql, publicId: string): Promise<number | null> {
  const [row] = await sql<Array<{ clinic_id: number }>>`SELECT clinic_id FROM ads WHERE public_id = ${publicId} AND expired_at IS NULL`
  return row?.clinic_id ?? null
}

/** A clinic's ads, newest first. */
export async function adsOfClinic (sql: Sql, clinicId: number): Promise<AdRow[]> {
  return await sql<AdRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM ads a WHERE a.clinic_id = ${clinicId} AND a.expired_at IS NULL ORDER BY a.id DESC`
}

/** Every ad (or only the active ones), newest first, with the clinic's doctor name. */
export async function listAds (sql: Sql, activeOnly: boolean): Promise<AdRow[]> {
  return await sql<AdRow[]>`
    SELECT ${sql.unsafe(COLUMNS)}, c.name AS doctor_name
    FROM ads a LEFT JOIN clinics c ON c.id = a.clinic_id
    WHERE a.expired_at IS NULL ${activeOnly ? sql`AND a.ad_status` : sql``}
    ORDER BY a.id DESC`
}

/** Sets the fields sent; null when there is no such live ad. */
export async function updateAd (sql: Sql | TransactionSql, publicId: string, fields: AdFields): Promise<AdRow | null> {
  const values = columnsOf(sql, fields)
  if (Object.keys(values).length === 0) return await adByPublicId(sql, publicId)
  const [row] = await sql<AdRow[]>`
    UPDATE ads SET ${sql(values)}, updated_at = now()
    WHERE public_id = ${publicId} AND expired_at IS NULL
    RETURNING ${sql.unsafe(COLUMNS.replaceAll('a.', ''))}`
  return row ?? null
}

/**
 * Flips an ad's status. Turning it on starts its 24 hours: activated_at now, expired_date (and expires_at) a day
 * later, as legacy did. Null when there is no such live ad.
 */
export async function toggleAd (tx: TransactionSql, publicId: string, now = new Date()): Promise<{ old: boolean, new: boolean } | null> {
  const current = await adByPublicId(tx, publicId, true)
  if (current === null) return null
  const next = !current.ad_status
  const expires = new Date(now.getTime() + AD_LIFETIME_MS)
  await tx`
    UPDATE ads SET ad_status = ${next}, updated_at = now()
      ${next ? tx`, activated_at = ${now}, expires_at = ${expires}, expired_date = ${expiryText(expires)}` : tx``}
    WHERE id = ${current.id}`
  return { old: current.ad_status, new: next }
}

/** Deletes an ad for good (legacy delete_ad); false when there is no such live ad. */
export async function deleteAd (sql: Sql, publicId: string): Promise<boolean> {
  const gone = await sql`DELETE FROM ads WHERE public_id = ${publicId} AND expired_at IS NULL`
  return gone.count > 0
}

// ---------------------------------------------------------------------------------------------------------------
// Images

/** Stores an image once, named by its SHA-256; storing the same bytes again is a no-op. */
export async function storeImage (sql: Sql | TransactionSql, sha256: string, type: ImageType, bytes: Buffer): Promise<void> {
  await sql`
    INSERT INTO ad_images (sha256, content_type, size, bytes) VALUES (${sha256}, ${type}, ${bytes.length}, ${bytes})
    ON CONFLICT (sha256) DO NOTHING`
}

export async function imageExists (sql: Sql | TransactionSql, sha256: string): Promise<boolean> {
  const [row] = await sql`SELECT 1 FROM ad_images WHERE sha256 = ${sha256}`
  return row !== undefined
}

export async function imageBySha (sql: Sql, sha256: string): Promise<{ content_type: ImageType, bytes: Buffer } | null> {
  const [row] = await sql<Array<{ content_type: ImageType, bytes: Buffer }>>`SELECT content_type, bytes FROM ad_images WHERE sha256 = ${sha256}`
  return row ?? null
}

// ---------------------------------------------------------------------------------------------------------------
// The expiry job (coordinator/jobs.ts)

/** Marks every live ad past its expired_date as expired: kept, no longer shown. Returns how many. */
export async function markExpiredAds (sql: Sql | TransactionSql): Promise<number> {
  const expired = await sql`UPDATE ads SET expired_at = now(), updated_at = now() WHERE expired_at IS NULL AND expires_at <= now()`
  return expired.count
}

/**
 * Drops stored images no ad points to any more (replaced, or their ad deleted) once they are a day old: an upload
 * whose ad write is still in flight is younger. One referenced meanwhile is kept by the foreign key.
 */
export async function dropOrphanImages (sql: Sql | TransactionSql): Promise<number> {
  const dropped = await sql`
    DELETE FROM ad_images i
    WHERE i.created_at < now() - interval '1 day' AND NOT EXISTS (SELECT 1 FROM ads a WHERE a.image_sha256 = i.sha256)`
  return dropped.count
}
