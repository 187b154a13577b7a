import { parsePositiveInt } from './identifiers.ts'
import { isRecord } from './json.ts'

// Queue tokens and day capacity. The token is the number a patient waits for on the day; the apps show it and
// expect it to move up when someone ahead cancels.

/**
 * The active bookings that move up one place when the booking holding `cancelledToken` is cancelled, with their new
 * tokens, in ascending token order.
 *
 * Legacy deleted the cancelled entry and renumbered the whole list 1..n, served and no-show entries included
 * (§3.5). We keep cancelled bookings (their ids must never be reused) and renumber only the active queue behind the
 * cancelled one; when the queue was contiguous 1..n this gives exactly the tokens legacy gave.
 *
 * Ascending order matters: applied one by one, each entry moves into the slot just freed by the one before it, so a
 * unique (day, token) constraint on active bookings never sees two rows with the same token.
 */
export function queueAfterCancel<T extends { token: number }> (active: T[], cancelledToken: number): Array<T & { token: number }> {
  return active
    .filter((entry) => entry.token > cancelledToken)
    .sort((a, b) => a.token - b.token)
    .map((entry) => ({ ...entry, token: entry.token - 1 }))
}

/** Default capacity of a regular day when neither the request nor the doctor profile gives one (legacy §3.4). */
export const DEFAULT_REGULAR_CAPACITY = 20
/** Capacity of a golden day created implicitly by a golden booking (legacy §3.2). */
export const DEFAULT_GOLDEN_CAPACITY = 5

// The doctor app has written the daily capacity under three names over its versions; legacy read them in this order.
const CAPACITY_KEYS = ['receiving_patients', 'receivingPatients', 'receiving_patients_count'] as const

/**
 * The doctor's daily patient capacity from a profile (`general_info.receiving_patients`, Arabic digits allowed), or
 * null when absent or not a positive integer. Accepts the profile as an object or as the JSON text legacy stored.
 */
export function capacityFromProfile (profile: unknown): number | null {
  let value = profile
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown
    } catch {
      return null
    }
  }
  if (!isRecord(value)) return null
  const info = value['general_info']
  if (!isRecord(info)) return null
  for (const key of CAPACITY_KEYS) {
    const capacity = parsePositiveInt(info[key])
    if (capacity !== null) return capacity
  }
  return null
}
