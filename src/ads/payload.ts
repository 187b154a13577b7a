import { normalizeDigits } from '../domain/digits.ts'
import { IMAGE_PATH } from './image.ts'

// An ad as the apps read it. The legacy server stored each ad as the JSON payload it answered with; ours is a row,
// and these functions give back the legacy payload: its keys in the order the doctor app's create wrote them, only
// those the ad has (a null column is a key the legacy payload lacked), and the image as something an app can show.

export interface AdRow {
  id: number
  public_id: string
  clinic_id: number
  ad_status: boolean
  request_date: string | null
  created_date: string | null
  clinic_name: string | null
  ad_subtitle: string | null
  ad_description: string | null
  ad_address: string | null
  ad_phonenumber: string | null
  ad_state: string | null
  ad_discount: string | null
  ad_price: string | null
  team_message: string | null
  clinic_address: string | null
  ad_location: unknown
  image_url: string | null
  image_sha256: string | null
  expired_date: string | null
  activated_at: Date | null
  created_at: Date
  doctor_name?: string | null
}

// What the app shows for the image: the URL it sent (its own storage), or our URL for an image stored here. An
// uploaded image was a multi-megabyte data URI in every listing in legacy; a URL lets the app fetch it once and
// cache it (ETag, a year's max-age). `base` is the scheme and host the client reached us by, '' for a relative path.
export function imageOf (row: AdRow, base: string): string | null {
  return row.image_sha256 === null ? row.image_url : `${base}${IMAGE_PATH}${row.image_sha256}`
}

const TEXT_KEYS = [
  'request_date', 'clinic_name', 'ad_subtitle', 'ad_description', 'ad_address', 'ad_phonenumber', 'ad_state',
  'ad_discount', 'ad_price'
] as const

/** The full legacy payload of an ad. */
export function payloadOf (row: AdRow, base: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ad_ID: row.public_id }
  for (const key of TEXT_KEYS) if (row[key] !== null) out[key] = row[key]
  if (row.team_message !== null) out['team_message'] = row.team_message
  const image = imageOf(row, base)
  if (image !== null) out['ad_image_url'] = image
  out['clinic_id'] = row.clinic_id
  out['ad_status'] = row.ad_status
  if (row.expired_date !== null) out['expired_date'] = row.expired_date
  if (row.activated_at !== null) out['activated_at'] = row.activated_at.toISOString()
  if (row.created_date !== null) out['created_date'] = row.created_date
  if (row.clinic_address !== null) out['clinic_address'] = row.clinic_address
  if (row.ad_location !== null) out['ad_location'] = row.ad_location
  return out
}

/** The short form of get_ad_image, get_all_ads and create_clinic_ad: absent fields are null, as legacy's .get() gave. */
export function shortOf (row: AdRow, base: string): Record<string, unknown> {
  return {
    ad_ID: row.public_id,
    ad_image: imageOf(row, base),
    ad_state: row.ad_state,
    clinic_id: row.clinic_id,
    ad_status: row.ad_status,
    expired_date: row.expired_date
  }
}

/** The dashboard's full listing: the payload plus the clinic's doctor name. */
export function listedOf (row: AdRow, base: string): Record<string, unknown> {
  return { ...payloadOf(row, base), doctor_name: row.doctor_name ?? null }
}

/** The patient app's active listing: three fields the app reads default to "" (legacy clinic_ads). */
export function activeListedOf (row: AdRow, base: string): Record<string, unknown> {
  const out = listedOf(row, base)
  out['ad_phonenumber'] ??= ''
  out['ad_subtitle'] ??= ''
  out['ad_discount'] ??= ''
  return out
}

// The older /api/ads routes coerced the price to a number when the ad was posted, and answered it as one.
export function rawPayloadOf (row: AdRow, base: string): Record<string, unknown> {
  const out = payloadOf(row, base)
  if (typeof out['ad_price'] === 'string') out['ad_price'] = /^\d{1,15}$/.test(out['ad_price']) ? Number(out['ad_price']) : null
  return out
}

/** GET /api/ads/{id} and /api/ads/by-clinic/{id}: the row around its payload. */
export function rawOf (row: AdRow, base: string): Record<string, unknown> {
  return { id: row.id, clinic_id: row.clinic_id, ad_status: row.ad_status, created_at: row.created_at.toISOString(), data: rawPayloadOf(row, base) }
}

// ---------------------------------------------------------------------------------------------------------------
// Input, as the legacy routes read it

/** Python's str(v).translate(ASCII digits), for the numeric text fields (phone, price, discount). */
export function asciiDigits (value: string | number): string {
  return normalizeDigits(String(value))
}

// ad_price on POST /api/ads: the digits of the text, as a number, or null when there are none.
export function priceDigits (value: string | number): string | null {
  const digits = asciiDigits(value).replace(/\D/g, '')
  return digits === '' ? null : digits.replace(/^0+(?=\d)/, '')
}

// legacy _parse_bool: a few spellings each way, anything else is the default (`"active"` is false).
export function legacyBool (value: unknown, fallback = false): boolean {
  if (typeof value === 'boolean') return value
  if (value === null || value === undefined) return fallback
  const text = String(value).trim().toLowerCase()
  if (['true', '1', 'yes', 'y', 'صح'].includes(text)) return true
  if (['false', '0', 'no', 'n', 'خطأ'].includes(text)) return false
  return fallback
}

/** `DD/MM/YYYY HH:MM` (or `DD/MM/YYYY`) read as UTC, as the legacy expiry task read it; null for anything else. */
export function expiryOf (text: string): Date | null {
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?: (\d{1,2}):(\d{2}))?$/.exec(text.trim())
  if (match === null) return null
  const [day, month, year, hour, minute] = [match[1], match[2], match[3], match[4] ?? '0', match[5] ?? '0'].map(Number) as [number, number, number, number, number]
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute))
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1 || hour > 23 || minute > 59) return null
  return date
}

/** The legacy `expired_date` text of an instant: `DD/MM/YYYY HH:MM`, UTC. */
export function expiryText (date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${two(date.getUTCDate())}/${two(date.getUTCMonth() + 1)}/${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}`
}

// The placeholder an ad carries until it is first activated ("will be set on activation").
export const EXPIRY_ON_ACTIVATION = 'سيُحدد عند التفعيل'
// An activated ad is shown this long (legacy: 24 h from activation).
export const AD_LIFETIME_MS = 24 * 3600 * 1000
