import { randomInt } from 'node:crypto'
import { compactDate, isIsoDate } from './calendar.ts'
import { normalizeDigits } from './digits.ts'

// Identifiers the apps see and send back: display booking ids, golden codes, phone numbers, account and secretary
// references. Inputs arrive as strings, numbers or Arabic digits depending on the app, so every parser takes the
// loosest form legacy took and returns one canonical value or null.

export { normalizeDigits }

/** The largest id a Postgres int4 (`serial`) column holds: a larger number names no row, and would fail the query. */
export const INT32_MAX = 2_147_483_647

/**
 * Booking ids keep the legacy shapes the apps parse (`B-`, `S-`, `G-` + clinic + YYYYMMDD + number), but the number
 * is a per-day sequence that only grows. Legacy used "list length + 1", which reused ids after a cancellation
 * (§3.6), and golden ids ended in the patient id (`G-4-20251029-P-71`), which collided when the same patient booked
 * the same day again after cancelling. Ours are unique and never reused.
 */
export const BOOKING_ID_SCHEME = 'prefix-clinic-YYYYMMDD-sequence (per-day, monotonic, never reused)'

export type BookingLane = 'regular' | 'golden'

export interface ParsedBookingId {
  lane: BookingLane
  clinicId: number
  /** YYYY-MM-DD */
  date: string
  /** Null for a legacy golden id, which carries a patient id instead of a sequence. */
  seq: number | null
}

/**
 * The shapes of the three booking ids: the letter, and the least number of digits the sequence is written with (a
 * longer sequence is written whole). Secretary ids have three digits only because the secretary app was built around
 * them. Also written by SQL where the sequence is known only inside the statement (src/booking/book.ts).
 */
export const BOOKING_ID_SHAPES = {
  regular: { letter: 'B', digits: 4 }, // patient app: `B-7-20251114-0004`
  secretary: { letter: 'S', digits: 3 }, // `S-7-20251114-002`
  golden: { letter: 'G', digits: 4 } // `G-4-20251029-0001`
} as const
export type BookingIdShape = keyof typeof BOOKING_ID_SHAPES

/** Everything of a booking id before its sequence: `B-7-20251114-`. */
export function bookingIdStem (shape: BookingIdShape, clinicId: number, date: string): string {
  return `${BOOKING_ID_SHAPES[shape].letter}-${clinicId}-${compactDate(date)}-`
}

const bookingId = (shape: BookingIdShape, clinicId: number, date: string, seq: number): string =>
  bookingIdStem(shape, clinicId, date) + String(seq).padStart(BOOKING_ID_SHAPES[shape].digits, '0')

/** Patient-app booking: `B-7-20251114-0004`. */
export function regularBookingId (clinicId: number, date: string, seq: number): string {
  return bookingId('regular', clinicId, date, seq)
}

/** Secretary booking: `S-7-20251114-002`. */
export function secretaryBookingId (clinicId: number, date: string, seq: number): string {
  return bookingId('secretary', clinicId, date, seq)
}

/** Golden booking: `G-4-20251029-0001`. */
export function goldenBookingId (clinicId: number, date: string, seq: number): string {
  return bookingId('golden', clinicId, date, seq)
}

const BOOKING_ID = /^([BSG])-([1-9]\d*)-(\d{4})(\d{2})(\d{2})-(\d+)$/
const LEGACY_GOLDEN_ID = /^G-([1-9]\d*)-(\d{4})(\d{2})(\d{2})-(.+)$/

/**
 * Reads a display booking id back into lane, clinic, date and sequence, or null. A golden id whose tail is all
 * digits is read as a sequence; any other tail (`P-71`) is a legacy patient id, still accepted because bookings and
 * payments made before the switch keep their ids.
 */
export function parseBookingId (id: string): ParsedBookingId | null {
  const s = id.trim()
  const m = BOOKING_ID.exec(s)
  if (m !== null) {
    const date = `${m[3]}-${m[4]}-${m[5]}`
    const clinicId = Number(m[2])
    const seq = Number(m[6])
    if (!isIsoDate(date) || !Number.isSafeInteger(clinicId) || !Number.isSafeInteger(seq) || seq < 1) return null
    return { lane: m[1] === 'G' ? 'golden' : 'regular', clinicId, date, seq }
  }
  const g = LEGACY_GOLDEN_ID.exec(s)
  if (g !== null) {
    const date = `${g[2]}-${g[3]}-${g[4]}`
    const clinicId = Number(g[1])
    if (!isIsoDate(date) || !Number.isSafeInteger(clinicId)) return null
    return { lane: 'golden', clinicId, date, seq: null }
  }
  return null
}

/** A 4-digit golden code (1000-9999) from the CSPRNG; legacy used a guessable RNG (contract §2.6). */
export function goldenCode (): string {
  return String(randomInt(1000, 10_000))
}

/** A positive safe integer from a number or a digit string (`20`, `"20"`, `"٢٠"`), or null. */
export function parsePositiveInt (v: unknown): number | null {
  let n: number
  if (typeof v === 'number') {
    n = v
  } else if (typeof v === 'string') {
    const s = normalizeDigits(v.trim())
    if (!/^\d+$/.test(s)) return null
    n = Number(s)
  } else {
    return null
  }
  return Number.isSafeInteger(n) && n > 0 ? n : null
}

const E164 = /^\+[1-9]\d{6,14}$/
// Bidi marks and zero-width characters ride along when a number is copied from an Arabic (right-to-left) screen.
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g
const SEPARATORS = /[\s\-\u2010-\u2015().]/g

/**
 * A phone number in E.164 (`+9647701234567`), or null. A leading space stands for `+`, because an unencoded `+` in a
 * query string decodes to a space (legacy check-phone did the same). Digits without `+` are taken as already
 * international; a local `0770…` number therefore fails rather than being guessed into a country.
 */
export function normalizePhone (raw: string): string | null {
  let s = normalizeDigits(raw.replace(INVISIBLE, ''))
  if (/^\s+\d/.test(s)) s = `+${s.trimStart()}`
  s = s.replace(SEPARATORS, '')
  if (/^\d/.test(s)) s = `+${s}`
  return E164.test(s) ? s : null
}

/** The patient reference stored on bookings for an account: `P-71`. */
export function accountRef (accountId: number): string {
  return `P-${accountId}`
}

/** A user-account id from `P-71`, `71`, `"٧١"` or 71, or null. */
export function parseAccountId (v: unknown): number | null {
  if (typeof v === 'string') return parsePositiveInt(v.trim().replace(/^P-/i, ''))
  return parsePositiveInt(v)
}

/**
 * The account a stored patient_id belongs to, read strictly: only `P-<id>` names an account. A bare number does
 * not, because secretary walk-ins carry their 3-digit sequence ("002") as patient_id, which is no account's id.
 */
export function accountOfPatientRef (stored: unknown): number | null {
  if (typeof stored !== 'string' || !/^\s*P-/i.test(stored)) return null
  return parseAccountId(stored)
}

/** A secretary login code from `S-123456`, `123456` or 123456, or null. */
export function secretaryCode (v: unknown): number | null {
  if (typeof v === 'string') return parsePositiveInt(v.trim().replace(/^S-/i, ''))
  return parsePositiveInt(v)
}
