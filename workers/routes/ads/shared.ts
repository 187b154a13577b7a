import { z } from 'zod'
import { adErrors, ApiError, errors } from '../../../src/errors.ts'
import { hasUnstorableText } from '../../../src/clinics/profile.ts'
import { INT32_MAX, normalizeDigits } from '../../../src/domain/identifiers.ts'
import { dataUriBytes, dataUriLength, ownImageSha, sha256Hex, sniffImage, type ImageType } from '../../../src/ads/image.ts'
import { asciiDigits } from '../../../src/ads/payload.ts'
import { clinicOfAd, imageExists, storeImage, type ImageRef } from '../../../src/ads/store.ts'
import type { TransactionSql } from '../../../src/db/pool.ts'
import type { Handler, Request } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import type { DocumentedRoute } from '../define.ts'

// What the ads routes share: their error shape, the field schemas, images, and the announcement of a change.

// The ads router answered bad input in the custom {"error": {code, message}} shape. A body that is not an object (or
// not JSON) gets `notObject` where the legacy route read the JSON itself, and keeps FastAPI's 422 where the route
// declared a `payload: dict`.
export function adShape (route: DocumentedRoute, notObject?: () => ApiError): DocumentedRoute {
  const inner: Handler = route.handler
  const handler: Handler = async (request) => {
    try {
      return await inner(request)
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== errors.validation.code) throw error
      const issue = (error.body as { detail?: Array<{ loc?: unknown[] }> }).detail?.[0]
      const path = (issue?.loc ?? []).slice(1).join('.')
      if (issue?.loc?.[0] !== 'body') throw error
      if (path === '') throw notObject?.() ?? error
      throw adErrors.fieldInvalid(error.message.includes(path) ? error.message : `${path}: ${error.message}`)
    }
  }
  return { ...route, handler }
}

const storable = (value: unknown): boolean => !hasUnstorableText(value)

// An ad_ID worth looking up: text a PostgreSQL text column can hold, of a sane length (ours are ~25 characters).
export const isAdId = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= 128 && storable(value)
const UNSTORABLE = 'text must not contain NUL characters or unpaired surrogates'

// Text as the apps send it; null stores nothing (the payload then lacks the key, as legacy's did for a None).
export const adText = (max: number) => z.string().max(max).refine(storable, UNSTORABLE).nullable().optional()
// Phone, price and discount: a number or text, Arabic digits turned ASCII (legacy _to_ascii_digits).
export const adDigits = z.union([z.string().max(64).refine(storable, UNSTORABLE), z.number()]).transform(asciiDigits).nullable().optional()
// Any JSON, stored as sent (a maps link, or an object from some builds).
export const adLocation = z.unknown().refine(storable, UNSTORABLE).optional()
// Legacy booleans come in many spellings; src/ads/payload.ts legacyBool reads them.
export const adBool = z.unknown().optional()

export function imageText (ctx: WorkerContext) {
  return z.string().max(dataUriLength(ctx.config.maxAdImageBytes)).refine(storable, UNSTORABLE).nullable().optional()
}

// The JSON routes that may carry a data URI image: the legacy server handed those out, and a client may post one back.
export function jsonImageLimit (ctx: WorkerContext): number {
  return dataUriLength(ctx.config.maxAdImageBytes) + ctx.config.maxBodyBytes
}

// A positive clinic id sent as a number or as (Arabic) digits, or null.
export function clinicIdOf (value: unknown): number | null {
  const text = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : '') : typeof value === 'string' ? normalizeDigits(value.trim()) : ''
  if (!/^\d{1,10}$/.test(text)) return null
  const id = Number(text)
  return id >= 1 && id <= INT32_MAX ? id : null
}

// Python truthiness, which the legacy "<field> required" checks used.
export function missing (value: unknown): boolean {
  return value === undefined || value === null || value === '' || value === 0 || value === false ||
    (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && value !== null && Object.keys(value).length === 0)
}

/** The clinic of the ad a request names, for the actor rules (null: no such ad, the handler's 404). */
export async function clinicOfNamedAd (ctx: WorkerContext, publicId: unknown): Promise<number | null> {
  if (!isAdId(publicId)) return null
  return await ctx.db.run((sql) => clinicOfAd(sql, publicId))
}

// ---------------------------------------------------------------------------------------------------------------
// Images

/** Refuses what is not a storable image, by its bytes: empty 400, over the limit 413, not PNG/JPEG/WebP 415. */
export function checkImage (ctx: WorkerContext, bytes: Buffer, truncated = false): ImageType {
  if (truncated || bytes.length > ctx.config.maxAdImageBytes) throw adErrors.imageTooLarge(ctx.config.maxAdImageBytes)
  if (bytes.length === 0) throw adErrors.imageEmpty()
  const type = sniffImage(bytes)
  if (type === null) throw adErrors.imageUnsupported()
  return type
}

export interface CheckedImage {
  sha256: string
  type: ImageType
  bytes: Buffer
}

export function checkedImage (ctx: WorkerContext, bytes: Buffer, truncated = false): CheckedImage {
  const type = checkImage(ctx, bytes, truncated)
  return { sha256: sha256Hex(bytes), type, bytes }
}

/**
 * What an `ad_image_url` the app sent stands for: a data URI becomes an image stored here (checked first), one of our
 * own image URLs stays ours, anything else is the app's own URL. Checked before the transaction, stored inside it.
 */
export async function imageOfText (ctx: WorkerContext, text: string): Promise<{ ref: ImageRef, upload: CheckedImage | null }> {
  const bytes = dataUriBytes(text)
  if (bytes !== null) {
    const upload = checkedImage(ctx, bytes)
    return { ref: { sha256: upload.sha256 }, upload }
  }
  const own = ownImageSha(text)
  if (own !== null && await ctx.db.run((sql) => imageExists(sql, own))) return { ref: { sha256: own }, upload: null }
  return { ref: { url: text }, upload: null }
}

export async function storeUpload (tx: TransactionSql, upload: CheckedImage | null): Promise<void> {
  if (upload !== null) await storeImage(tx, upload.sha256, upload.type, upload.bytes)
}

// ---------------------------------------------------------------------------------------------------------------
// Where the client reached us, for the absolute image URLs the apps need (they load images by URL). The host is the
// request's own, and the scheme the trusted proxy's (Render terminates TLS); a Host header that is not a plain host
// gives a relative URL rather than echoing text into every listing.

const HOST = /^(?:[a-z0-9.-]{1,253}|\[[0-9a-f:.]{2,45}\])(?::\d{1,5})?$/

export function publicBase (ctx: WorkerContext, request: Request): string {
  const host = (request.headers.get('host') ?? '').trim().toLowerCase()
  if (!HOST.test(host)) return ''
  let scheme = 'http'
  if (ctx.config.trustProxyHops > 0) {
    const hops = (request.headers.get('x-forwarded-proto') ?? '').split(',').map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '')
    const sent = hops[hops.length - ctx.config.trustProxyHops] ?? hops[0]
    if (sent === 'https' || sent === 'http') scheme = sent
  }
  return `${scheme}://${host}`
}

// Every ads write invalidates the cached listings, on every worker and instance, before it is answered. The version
// is the clock, as for clinic profiles: a listing loaded before the write can never fill the cache after it.
export async function announceAds (ctx: WorkerContext): Promise<void> {
  await ctx.publishChange({ topic: 'ads', clinicId: 0, version: Date.now() })
}
