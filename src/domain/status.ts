// The booking status vocabulary. We store the English word (the Postgres enum) and render the Arabic label on the
// wire, because the apps compare the Arabic strings. Legacy stored whichever language the request used (§3.5), so
// every reader had to accept both; here a status is parsed once at the edge and never stored verbatim.

export type BookingStatus = 'booked' | 'in_progress' | 'served' | 'no_show' | 'cancelled'

export const BOOKING_STATUSES: readonly BookingStatus[] = ['booked', 'in_progress', 'served', 'no_show', 'cancelled']

const LABELS: Record<BookingStatus, string> = {
  booked: 'تم الحجز',
  in_progress: 'جاري المعاينة',
  served: 'تمت المعاينة',
  no_show: 'لم يحضر',
  cancelled: 'ملغى',
}

const hamza = /[أإآ]/g

// Arabic input is compared after folding hamza forms and whitespace runs: keyboards differ on `إلغاء` vs `الغاء`,
// and the apps have sent both.
function foldArabic (s: string): string {
  return s.trim().replace(/\s+/g, ' ').replace(hamza, 'ا')
}

const FROM_ARABIC = new Map<string, BookingStatus>([
  ...BOOKING_STATUSES.map((s): [string, BookingStatus] => [foldArabic(LABELS[s]), s]),
  // "Cancel the booking" is a command, not a state: legacy accepted it as input only and never showed it back.
  [foldArabic('الغاء الحجز'), 'cancelled'],
])

const ENGLISH = new Set<string>(BOOKING_STATUSES)

function isEnglishStatus (s: string): s is BookingStatus {
  return ENGLISH.has(s)
}

/** English (any case) or Arabic status as the apps send it; null when unknown. */
export function parseStatus (input: string): BookingStatus | null {
  const english = input.trim().toLowerCase()
  if (isEnglishStatus(english)) return english
  return FROM_ARABIC.get(foldArabic(input)) ?? null
}

/** The Arabic label the apps display and compare against. */
export function statusLabel (s: BookingStatus): string {
  return LABELS[s]
}

/** Whether the booking still holds a seat in the queue. Served and no-show keep their seat, as in legacy (§3.4). */
export function isActiveStatus (s: BookingStatus): boolean {
  return s !== 'cancelled'
}
