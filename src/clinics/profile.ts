import { normalizeDigits } from '../domain/digits.ts'
import { INT32_MAX, parsePositiveInt } from '../domain/identifiers.ts'
import { isRecord } from '../domain/json.ts'
import { capacityFromProfile } from '../domain/queue.ts'

// The doctor profile as the doctor app sends it (legacy-api.md §1.3): one JSON object, kept whole in
// `clinics.profile`, plus the columns that list filters and booking rules read. Everything here is a plain function
// over plain data; store.ts owns the SQL.

export type Profile = Record<string, unknown>

export type DoctorStatus = 'active' | 'inactive'

function generalInfo (profile: Profile): Record<string, unknown> {
  const info = profile['general_info']
  return isRecord(info) ? info : {}
}

// Trimmed non-empty text, or null: legacy's `value or None`, without storing a name made of spaces.
function text (v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null
}

/** A whole number 0..INT32_MAX from a number or a digit string (Arabic digits allowed), or null. */
export function wholeNumber (v: unknown): number | null {
  const digits = typeof v === 'string' ? normalizeDigits(v.trim()) : null
  const n = typeof v === 'number' ? v : digits !== null && /^\d+$/.test(digits) ? Number(digits) : null
  return n !== null && Number.isInteger(n) && n >= 0 && n <= INT32_MAX ? n : null
}

/** `general_info.clinic_id`, the doctor's row id by convention (§1.3), when it is a usable integer id. */
export function clinicIdOf (profile: Profile): number | null {
  const id = parsePositiveInt(generalInfo(profile)['clinic_id'])
  return id !== null && id <= INT32_MAX ? id : null
}

// Python's `_safe_bool` as the legacy server applied it to account_status: anything else means "not said".
function legacyBool (v: unknown): boolean | null {
  if (typeof v === 'boolean') return v
  if (typeof v !== 'string' && typeof v !== 'number') return null
  const s = String(v).trim().toLowerCase()
  if (s === 'true' || s === '1' || s === 'yes' || s === 'y') return true
  if (s === 'false' || s === '0' || s === 'no' || s === 'n') return false
  return null
}

// The doctor app's older key for account_status. The column is the status, so stored and returned profiles drop it.
function withoutAccountStatusKey (profile: Profile): Profile {
  const info = profile['general_info']
  if (!isRecord(info) || !('accountStatus' in info)) return profile
  const { accountStatus: _dropped, ...rest } = info
  return { ...profile, general_info: rest }
}

/** The status the profile asks for (`account_status`, else the older `accountStatus`), or null when it says none. */
export function explicitStatus (profile: Profile): DoctorStatus | null {
  const info = generalInfo(profile)
  const said = legacyBool(info['account_status']) ?? legacyBool(info['accountStatus'])
  return said === null ? null : said ? 'active' : 'inactive'
}

// ---------------------------------------------------------------------------------------------------------------
// Specializations

// The apps' specialization list (§1.3): every spelling the apps have sent for the same specialization maps to one id.
const SPECIALIZATION_NAMES: ReadonlyArray<readonly [number, readonly string[]]> = [
  [1, ['طبيب عام', 'General', 'general']],
  [2, ['الجهاز الهضمي']],
  [3, ['الصدرية والقلبية']],
  [4, ['أمراض جلدية']],
  [5, ['مخ وأعصاب']],
  [6, ['طب نفسي']],
  [7, ['طب أطفال']],
  [8, ['نسائية و توليد / رعاية حوامل', 'نسائية وتوليد / رعاية حوامل']],
  [9, ['جراحة العظام و المفاصل و الكسور']],
  [10, ['جراحة العيون']],
  [11, ['أنف وأذن و حنجرة']],
  [12, ['الغدد الصماء']],
  [13, ['صدرية و تنفسية']],
  [14, ['أمراض الكلى']],
  [15, ['طب الأسنان', 'طب اسنان', 'طب أسنان']],
  [16, ['جراحة تجميلة', 'جراحة تجميلية']],
  [17, ['المسالك البولية']],
  [18, ['أخصائي المناعة']],
  [19, ['أخصائي أمراض الدم']],
  [20, ['سرطان و اورام']],
  [21, ['طب أسرة', 'طب الأسرة']],
  [22, ['تغذية']],
  [23, ['تجميل لا جراحي وليزر', 'تجميل غير جراحي وليزر']],
  [24, ['مفاصل وتأهيل طبي']],
  [25, ['أشعة و سنوار', 'أشعة وسنوار', 'أشعة و سونار', 'أشعة وسونار']],
  [26, ['ذكورة وعقم واطفال انابيب', 'ذكورة وعقم وأطفال أنابيب']],
  [27, ['أخرى', 'مختلف', 'Others', 'others']]
]

const DENTISTRY = 15
const PLASTIC_SURGERY = 16

// Names are typed on phones: stray and doubled spaces never change which specialization is meant.
function foldName (name: string): string {
  return name.trim().replace(/\s+/g, ' ')
}

const ID_BY_NAME = new Map<string, number>(
  SPECIALIZATION_NAMES.flatMap(([id, names]) => names.map((name): [string, number] => [foldName(name), id]))
)

export function specializationId (name: string): number | null {
  return ID_BY_NAME.get(foldName(name)) ?? null
}

export interface Specialization {
  id: number | null
  name: string
}

/**
 * A specialization list as `[{id, name}]`. The apps send plain names, `{id, name}` objects, or a mix. With
 * `lookup`, a name without an id gets its id from the list above; additions (`dents_addition`, `plastic_addition`)
 * use ids of their own, so they are not looked up.
 */
export function specializationList (value: unknown, lookup: boolean): Specialization[] {
  if (!Array.isArray(value)) return []
  const out: Specialization[] = []
  for (const entry of value) {
    const raw = isRecord(entry) ? entry['name'] : entry
    const name = typeof raw === 'number' ? String(raw) : text(raw)
    if (name === null) continue
    const given = isRecord(entry) ? parsePositiveInt(entry['id']) : null
    out.push({ id: given ?? (lookup ? specializationId(name) : null), name })
  }
  return out
}

export interface SpecialtyView {
  specializations: Specialization[]
  dents_addition?: Specialization[]
  plastic_addition?: Specialization[]
}

function mergeByName (base: Specialization[], extra: Specialization[]): Specialization[] {
  const seen = new Set(base.map((s) => s.name))
  const out = [...base]
  for (const s of extra) {
    if (seen.has(s.name)) continue
    seen.add(s.name)
    out.push(s)
  }
  return out
}

/**
 * The dentistry / plastic-surgery rule of the doctors list (§2.7). A dentist's or a plastic surgeon's other
 * specializations are really sub-specialties of that main one: the list shows the main one only and moves the rest
 * into `dents_addition` / `plastic_addition` (merged by name with what the profile already has there). A doctor with
 * both mains, or neither, keeps every specialization.
 */
export function specialtyView (profile: Profile): SpecialtyView {
  const all = specializationList(profile['specializations'], true)
  const isMain = (main: number) => (s: Specialization) => specializationId(s.name) === main
  const dentist = all.some(isMain(DENTISTRY))
  const plastic = all.some(isMain(PLASTIC_SURGERY))
  if (dentist === plastic) return { specializations: all } // both mains, or neither
  const main = dentist ? DENTISTRY : PLASTIC_SURGERY
  const key = dentist ? 'dents_addition' : 'plastic_addition'
  const mains = all.filter(isMain(main))
  const others = all.filter((s) => !isMain(main)(s))
  return { specializations: mains, [key]: mergeByName(specializationList(profile[key], false), others) }
}

// ---------------------------------------------------------------------------------------------------------------
// Normalization and derived columns

const WAITING_TIME_DEFAULT = { id: 3, name: '15 دقيقة' }
// Legacy kept certificate names written in Latin letters only (§1.3); the apps were built against that.
const CERTIFICATION = /^[A-Za-z0-9\s.,\-()']+$/

/**
 * What POST /doctor/profile stores (§1.3): an old-style `clinic_waiting_time` ({value} without id/name) becomes the
 * 15-minute default, the legacy `general_info.accountStatus` is dropped (the column is the status), and
 * certifications keep English strings only. Returns a new object; the input is not changed.
 */
export function normalizeProfile (input: Profile): Profile {
  const profile: Profile = withoutAccountStatusKey({ ...input })
  const waiting = profile['clinic_waiting_time']
  if (isRecord(waiting) && 'value' in waiting && !('id' in waiting) && !('name' in waiting)) {
    profile['clinic_waiting_time'] = { ...WAITING_TIME_DEFAULT }
  }
  const certifications = profile['certifications']
  if (Array.isArray(certifications)) {
    profile['certifications'] = certifications.filter((c): c is string => typeof c === 'string' && c.trim() !== '' && CERTIFICATION.test(c))
  }
  return profile
}

export interface DoctorColumns {
  name: string
  email: string | null
  phone: string | null
  image_url: string | null
  specialty: string | null
  clinic_state: string | null
  status: DoctorStatus
  experience_years: number | null
  patients_count: number | null
  receiving_patients: number | null
}

// The doctor app has used several names for the photo over its versions.
const IMAGE_KEYS = ['profile_image_URL', 'profileImageUrl', 'image_url', 'imageUrl'] as const

function imageOf (profile: Profile): string | null {
  for (const source of [generalInfo(profile), profile]) {
    for (const key of IMAGE_KEYS) {
      const url = text(source[key])
      if (url !== null) return url
    }
  }
  return null
}

/**
 * The columns derived from a profile (§1.3). `receiving_patients` is the daily capacity the booking rules read; it
 * is NULL unless the profile gives a positive number (the column refuses anything else), and a number past the
 * integer range counts as not given.
 */
export function deriveColumns (profile: Profile): DoctorColumns {
  const info = generalInfo(profile)
  const first = specializationList(profile['specializations'], false)[0]
  const capacity = capacityFromProfile(profile)
  return {
    name: text(info['doctor_name']) ?? 'Doctor',
    email: text(info['email_address']),
    phone: text(info['doctor_phone_number']),
    image_url: imageOf(profile),
    specialty: first?.name ?? null,
    clinic_state: text(info['clinic_states']),
    status: explicitStatus(profile) ?? 'active',
    experience_years: wholeNumber(info['experience_years']),
    patients_count: wholeNumber(info['number_patients_treated']),
    receiving_patients: capacity !== null && capacity <= INT32_MAX ? capacity : null
  }
}

/** Sets the status inside the profile too, so the doctor app reading its profile back sees what the admin set. */
export function withAccountStatus (profile: Profile, status: DoctorStatus): Profile {
  const info = generalInfo(withoutAccountStatusKey(profile))
  return { ...profile, general_info: { ...info, account_status: status === 'active' } }
}

// ---------------------------------------------------------------------------------------------------------------
// PATCH /api/doctors/{id}

export interface AccountPatch {
  email?: string | null
  phone?: string | null
  status?: DoctorStatus | null
}

/**
 * Legacy's JSON merge (§2.7): an object value is shallow-merged into the object already under that key, any other
 * value replaces it. `account` is not profile data: it is applied to the columns (withAccount).
 */
export function mergeProfile (current: Profile, patch: Profile): Profile {
  const merged: Profile = { ...current }
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'account') continue
    const base = merged[key]
    merged[key] = isRecord(value) ? { ...(isRecord(base) ? base : {}), ...value } : value
  }
  return merged
}

/**
 * The columns a PATCH refreshes from the merged profile. Legacy refreshed each one only when the new value was set,
 * so clearing a field keeps the last column value, and email, phone and status move only through `account`. The
 * daily capacity and the photo follow the profile always: the booking rules and the lists read them from the columns.
 */
export function patchedColumns (current: DoctorColumns, merged: Profile): DoctorColumns {
  const derived = deriveColumns(merged)
  return {
    email: current.email,
    phone: current.phone,
    status: current.status,
    name: derived.name,
    image_url: derived.image_url,
    specialty: derived.specialty ?? current.specialty,
    clinic_state: derived.clinic_state ?? current.clinic_state,
    experience_years: derived.experience_years ?? current.experience_years,
    patients_count: derived.patients_count ?? current.patients_count,
    receiving_patients: derived.receiving_patients
  }
}

/** The `account` block of a dashboard write: an empty email or phone clears it, an empty status keeps the current one. */
export function withAccount (columns: DoctorColumns, account: AccountPatch): DoctorColumns {
  return {
    ...columns,
    email: account.email === undefined ? columns.email : (account.email || null),
    phone: account.phone === undefined ? columns.phone : (account.phone || null),
    status: account.status ?? columns.status
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** The profile POST /api/doctors stores when it is given nothing (legacy's DEFAULT_PROFILE). */
export const DEFAULT_PROFILE: Profile = {
  general_info: {
    doctor_name: 'Doctor',
    email_address: 'doctor@example.com',
    doctor_phone_number: '',
    experience_years: '0',
    clinic_states: ''
  },
  specializations: ['General'],
  clinic_phone_number: { phone_1: '', phone_2: '', phone_3: '' },
  clinic_location: { latitude: '', longitude: '', place_name: '' }
}

export interface AccountBlock {
  email: string | null
  phone: string | null
  status: string
}

/**
 * A stored profile as the read routes answer it: without the legacy `accountStatus` and with the `account` block
 * from the columns, which are the truth for email, phone and status. With `normalized`, specializations come as
 * `[{id, name}]`.
 */
export function profileForReading (profile: Profile, account: AccountBlock, normalized: boolean): Profile {
  const out: Profile = { ...withoutAccountStatusKey(profile) }
  if (normalized && 'specializations' in out) out['specializations'] = specializationList(out['specializations'], true)
  out['account'] = account
  return out
}

// PostgreSQL refuses a NUL character (text and jsonb) and an unpaired UTF-16 surrogate (jsonb). Both are valid JSON,
// so they are turned away here as bad input instead of failing in the database as a 500.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Whether a string anywhere in the value (keys included) could not be stored. */
export function hasUnstorableText (value: unknown): boolean {
  if (typeof value === 'string') return UNSTORABLE.test(value)
  if (Array.isArray(value)) return value.some(hasUnstorableText)
  if (isRecord(value)) return Object.entries(value).some(([key, v]) => UNSTORABLE.test(key) || hasUnstorableText(v))
  return false
}
