// Arabic-locale keyboards and Flutter's intl formatting send Arabic-Indic (٠-٩) or Persian (۰-۹) digits in any
// numeric field: capacities, phone numbers, dates. Legacy converted them before parsing; so do we, in one place.
// Kept in its own module so calendar.ts and identifiers.ts can both use it without importing each other.

const ARABIC_INDIC_ZERO = 0x0660
const PERSIAN_ZERO = 0x06f0

/** Replaces Arabic-Indic and Persian digits with ASCII digits; other characters are left as they are. */
export function normalizeDigits (s: string): string {
  return s.replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (d) => {
    const code = d.charCodeAt(0)
    const zero = code >= PERSIAN_ZERO ? PERSIAN_ZERO : ARABIC_INDIC_ZERO
    return String(code - zero)
  })
}
