import { addDays, weekdayOf } from './calendar.ts'
import { isRecord } from './json.ts'

// A doctor's working days come from the profile as an Arabic weekday range, e.g. {"from":"السبت","to":"الخميس"}.
// The Iraqi week starts on Saturday, so ranges are read in Saturday → Friday order.

/** How many calendar days the patient-app search looks ahead, starting with today (legacy §3.3). */
export const SEARCH_HORIZON_DAYS = 30

// Index in Saturday → Friday order; the JS weekday (0 = Sunday) is derived from it.
const WEEK_ORDER = ['السبت', 'الاحد', 'الاثنين', 'الثلاثاء', 'الاربعاء', 'الخميس', 'الجمعة'] as const

function jsWeekday (orderIndex: number): number {
  return (orderIndex + 6) % 7
}

// Profiles are typed by hand on phones: `الأحد`, `الاحد` and `الإثنين` all occur, sometimes with a tatweel or
// stray spaces. Legacy folded only hamza (§3.3); tatweel and inner spaces never change the meaning of a day name.
function foldDayName (name: string): string {
  return name.trim().replace(/[أإآ]/g, 'ا').replace(/[\u0640\s]/g, '')
}

const ORDER_BY_NAME = new Map<string, number>(WEEK_ORDER.map((name, i) => [foldDayName(name), i]))

function orderIndexOf (name: unknown): number | null {
  if (typeof name !== 'string') return null
  return ORDER_BY_NAME.get(foldDayName(name)) ?? null
}

/** The JS weekday (0 = Sunday … 6 = Saturday) of an Arabic day name, or null when it is not one. */
export function weekdayFromArabic (name: unknown): number | null {
  const i = orderIndexOf(name)
  return i === null ? null : jsWeekday(i)
}

/**
 * The JS weekdays a clinic works, from an inclusive Arabic range. When `from` comes after `to` in Saturday → Friday
 * order the range wraps past Friday (الخميس → الأحد is Thu, Fri, Sat, Sun).
 * Null means "every day counts": legacy disabled the filter rather than refuse bookings when the profile has no
 * range or an unreadable one, and a clinic must not become unbookable because of a typo in its profile.
 */
export function workingDays (range: { from?: unknown; to?: unknown } | null | undefined): Set<number> | null {
  if (range === null || range === undefined) return null
  const from = orderIndexOf(range.from)
  const to = orderIndexOf(range.to)
  if (from === null || to === null) return null
  const days = new Set<number>()
  const length = ((to - from + 7) % 7) + 1
  for (let k = 0; k < length; k++) days.add(jsWeekday((from + k) % 7))
  return days
}

/**
 * Working days of a doctor profile, read from `clinic_days` only. The sample profile spells it `clinck_days`, which
 * legacy never read; honouring it now would silently change which days existing clinics can be booked on.
 */
export function workingDaysOfProfile (profile: unknown): Set<number> | null {
  if (!isRecord(profile)) return null
  const range = profile['clinic_days']
  return isRecord(range) ? workingDays(range) : null
}

/**
 * The dates the automatic search may offer, in order: today and the following days up to `horizon` calendar days,
 * keeping working days only. Non-working days still use up the horizon, as in legacy, so "the next 30 days" in the
 * Arabic error message stays true.
 */
export function candidateDays (today: string, horizon: number, working: Set<number> | null): string[] {
  const days: string[] = []
  for (let i = 0; i < horizon; i++) {
    const day = addDays(today, i)
    if (working === null || working.has(weekdayOf(day))) days.push(day)
  }
  return days
}
