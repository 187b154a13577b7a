import { normalizeDigits } from './digits.ts'

// Dates in this API are plain `YYYY-MM-DD` strings meaning a day in Iraq, and instants are UTC ISO-8601 with `Z`
// (contract §2.13). Legacy mixed naive UTC, `+00:00`, server-local time and Iraq time (§5.1); keeping days as strings
// means no Date object ever carries a day across a timezone boundary by accident.

/** Iraq has used a fixed UTC+3 with no daylight saving since 2008; legacy modelled it the same way (§5.1). */
export const IRAQ_UTC_OFFSET_HOURS = 3

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

function isLeapYear (y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}

function daysInMonth (y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
}

// Year 0000 matches the pattern but Postgres rejects it ("date/time field value out of range"), which would surface
// as a 500 instead of a 400.
function isRealDate (y: number, m: number, d: number): boolean {
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m)
}

/** Strict `YYYY-MM-DD` naming a day that exists (2025-02-30 and 2025-13-01 are not dates). */
export function isIsoDate (s: string): boolean {
  const m = ISO_DATE.exec(s)
  return m !== null && isRealDate(Number(m[1]), Number(m[2]), Number(m[3]))
}

function assertIsoDate (date: string): void {
  if (!isIsoDate(date)) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`)
}

// Date.parse reads a full ISO string as UTC and handles years below 100 literally, unlike Date.UTC.
function utcMidnight (date: string): number {
  assertIsoDate(date)
  return Date.parse(`${date}T00:00:00.000Z`)
}

function dayOf (ms: number): string {
  const iso = new Date(ms).toISOString()
  // Outside years 0001-9999 toISOString switches to the expanded `+YYYYYY` form, which is not a date we accept.
  if (iso.length !== 24) throw new RangeError('date out of range')
  const day = iso.slice(0, 10)
  assertIsoDate(day)
  return day
}

/** Today's date in Iraq: where the patient-app day search starts (§3.3) and the nightly archive's cutoff. */
export function iraqToday (now: Date = new Date()): string {
  return dayOf(now.getTime() + IRAQ_UTC_OFFSET_HOURS * HOUR_MS)
}

// 00:00 in Baghdad (UTC+3, no DST) is 21:00 UTC.
export function msUntilIraqMidnight (now: Date = new Date()): number {
  const next = new Date(now)
  next.setUTCHours(24 - IRAQ_UTC_OFFSET_HOURS, 0, 0, 0)
  if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1)
  return next.getTime() - now.getTime()
}

/** The calendar day `n` days after (or before, when negative) `date`. Throws on a malformed date. */
export function addDays (date: string, n: number): string {
  if (!Number.isInteger(n)) throw new RangeError(`day count must be an integer: ${n}`)
  return dayOf(utcMidnight(date) + n * DAY_MS)
}

/** `2025-11-14` → `20251114`, the form embedded in booking ids. */
export function compactDate (date: string): string {
  assertIsoDate(date)
  return date.replaceAll('-', '')
}

/** 0 = Sunday … 6 = Saturday. Computed from the date alone, so the server's timezone cannot shift it. */
export function weekdayOf (date: string): number {
  return new Date(utcMidnight(date)).getUTCDay()
}

const DAY_MONTH_YEAR = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/

/**
 * The `YYYY-MM` payment month of an exam date written `DD/MM/YYYY` (`29/10/2025` → `2025-10`), or null.
 * Null when it does not parse; the caller decides what that means (payments bill the current Iraq month, where legacy
 * took the server-local one, §5.1: src/payments/ledger.ts paymentMonthOf).
 */
export function parseDayMonthYear (s: string): string | null {
  const m = DAY_MONTH_YEAR.exec(normalizeDigits(s.trim()))
  if (m === null) return null
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (!isRealDate(year, month, day)) return null
  return `${m[3]}-${String(month).padStart(2, '0')}`
}

/** An instant as UTC ISO-8601 with `Z`, the one format our own timestamps use on the wire. */
export function utcIso (d: Date): string {
  return d.toISOString()
}
