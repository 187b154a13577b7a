import { addDays, compactDate, iraqToday } from '../../src/domain/calendar.ts'
import { client, openStream, SECRET, type Client, type OpenStream, type Response, type Target } from './client.ts'

// Shared by the booking wire-contract tests (bookings-regular, bookings-golden): the app's headers, typed shapes of
// the legacy answers, and a few small tools to look at them.

export { SECRET, openStream, type OpenStream }

export const appHeaders: Record<string, string> = { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json' }

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

// The booking tests' older call shape (extra headers as the third argument), over the one client.
export interface BookingApi {
  post: (path: string, body: Json, headers?: Record<string, string>) => Promise<Response>
  postRaw: (path: string, body: string | Buffer, headers?: Record<string, string>) => Promise<Response>
  get: (path: string, headers?: Record<string, string>) => Promise<Response>
}

export function bookingApi (target: Target | string): BookingApi {
  const api = client(target)
  return {
    post: async (path, body, headers = {}) => await api.post(path, JSON.stringify(body), { headers }),
    postRaw: async (path, body, headers = {}) => await api.post(path, body, { headers }),
    get: async (path, headers = {}) => await api.get(path, { headers })
  }
}

// Days relative to today in Iraq, the server's notion of "today" (legacy-api.md §3.3).
export const today = iraqToday()
export const day = (n: number): string => addDays(today, n)
export const compact = (date: string): string => compactDate(date)

// Legacy weekday names (Python's weekday → Arabic, §3.3), indexed by the JS weekday (0 = Sunday).
export const arabicWeekday = ['الأحد', 'الاثنين', 'الثلاثاء', 'الأربعاء', 'الخميس', 'الجمعة', 'السبت'] as const

export interface PatientEntry {
  booking_id: string
  token: number
  patient_id: string | null
  name: string
  phone: string
  source?: string
  status: string
  code?: string
  created_at: string
  secretary_id?: string
}

export interface DayEntry {
  source: string
  status: string
  capacity_total: number
  capacity_used: number
  patients: PatientEntry[]
  [key: string]: unknown
}

export interface DaysBody {
  clinic_id: number
  days: Record<string, DayEntry>
}

export interface BookingAnswer {
  message: string
  booking_id: string
  token: number
  capacity_used: number
  capacity_total: number
  status: string
  clinic_id: number
  date: string
  patient_id: string
  code?: string
}

export interface ArchiveItem {
  table_date: string
  capacity_total: number
  capacity_served: number | null
  capacity_cancelled: number | null
  patients: PatientEntry[]
}

export interface ArchivesBody {
  clinic_id: number
  items: ArchiveItem[]
}

export interface DetailBody {
  detail: string
  code?: string
  [key: string]: unknown
}

export interface ValidationBody {
  detail: Array<{ loc: Array<string | number>, msg: string, type: string }>
}

export type Kind = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array'

export function kindOf (value: unknown): Kind | 'undefined' {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  const type = typeof value
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'object') return type
  return 'undefined'
}

// The exact set of keys of a wire object, each with the JSON type the apps parse it as.
export function shapeOf (value: unknown): Record<string, Kind | 'undefined'> {
  const out: Record<string, Kind | 'undefined'> = {}
  if (typeof value !== 'object' || value === null) return out
  for (const key of Object.keys(value).sort()) out[key] = kindOf((value as Record<string, unknown>)[key])
  return out
}

export function sortedShape (shape: Record<string, Kind>): Record<string, Kind> {
  const out: Record<string, Kind> = {}
  for (const key of Object.keys(shape).sort()) out[key] = shape[key] as Kind
  return out
}

export interface SseFrame {
  event: string
  id: string | null
  data: string
}

// The frames received so far, comments and `retry:` lines left out.
export function framesOf (text: string): SseFrame[] {
  const frames: SseFrame[] = []
  // The last piece is an unfinished frame (or empty): only blocks closed by a blank line count.
  for (const block of text.split('\n\n').slice(0, -1)) {
    let event = ''
    let id: string | null = null
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7)
      else if (line.startsWith('id: ')) id = line.slice(4)
      else if (line.startsWith('data: ')) data.push(line.slice(6))
    }
    if (event !== '') frames.push({ event, id, data: data.join('\n') })
  }
  return frames
}

// Runs `tasks` with at most `width` in flight.
export async function inBatches<T> (tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length)
  let next = 0
  const lanes = Array.from({ length: Math.min(width, tasks.length) }, async () => {
    while (next < tasks.length) {
      const index = next++
      results[index] = await (tasks[index] as () => Promise<T>)()
    }
  })
  await Promise.all(lanes)
  return results
}

// Values that are wrong for any field of the given kind. Each burst request takes a valid body and breaks exactly
// one field with one of these, so a 2xx answer would mean the server accepted garbage.
const deep = (levels: number): Json => {
  let value: Json = 1
  for (let i = 0; i < levels; i++) value = { a: value }
  return value
}

export const bad = {
  id: ['abc', -1, 1.5, 1e20, 2 ** 31, 2 ** 53 + 2, '7abc', ' ', '', true, [], {}, [7], { id: 7 }, '99999999999999999999', deep(40)] as Json[],
  date: ['2025-02-30', '2025-13-01', '2025-00-10', '2025-11-31', '2025-1-1', '20251114', '14/11/2025', '2025-11-14T00:00:00Z',
    '0000-01-01', 'tomorrow', '', 20251114, true, [], {}, ['2025-11-14'], deep(40)] as Json[],
  status: ['done', 'BOOKED?', 'تم', '', '   ', 5, true, [], {}, ['served'], 'x'.repeat(65), deep(40)] as Json[],
  text: [5, true, [], {}, ['x'], deep(40)] as Json[],
  count: [-1, 1.5, 'abc', 100_001, 1e20, true, [], {}, [3], { n: 3 }] as Json[],
  // Not "yes", 1 or "on": legacy's pydantic took those (src/domain/booleans.ts).
  bool: ['maybe', 2, 1.5, [], {}, 'TRUE '] as Json[]
}

// Bodies that are not a JSON object at all, or not JSON.
export const badBodies: Array<string | Buffer> = [
  '{', '{"clinic_id":', '{"clinic_id":7,}', "{'clinic_id':7}", 'NaN', 'undefined', '[]', '[{}]', '"text"', '42', 'true', 'null',
  '['.repeat(5000) + ']'.repeat(5000), '{"a":'.repeat(200) + '1' + '}'.repeat(200), '{"clinic_id":1e400}',
  Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), '\u0000', '{"clinic_id":7}garbage'
]

// A write route's malformed-request burst: a valid `base` body, the wrong values to try per field, and the
// required fields to leave out one at a time.
export interface BurstRoute {
  path: string
  base: Record<string, Json>
  fields: Record<string, Json[]>
  required: string[]
}

export interface BurstAnswer {
  label: string
  status: number
  text: string
}

// Every body breaks exactly one thing of a valid one (raw garbage, a missing field, one wrong value, the wrong
// container), so a 2xx would mean the server accepted garbage. Sent 16 at a time.
export async function sendMalformed (api: Client, routes: BurstRoute[], extra: Array<{ label: string, send: () => Promise<Response> }> = []): Promise<BurstAnswer[]> {
  const requests: Array<{ label: string, send: () => Promise<Response> }> = []
  for (const route of routes) {
    for (const raw of badBodies) {
      requests.push({ label: `${route.path} raw ${JSON.stringify(raw.toString()).slice(0, 40)}`, send: async () => await api.post(route.path, raw) })
    }
    for (const field of route.required) {
      const body = { ...route.base }
      delete body[field]
      requests.push({ label: `${route.path} without ${field}`, send: async () => await api.post(route.path, body) })
    }
    for (const [field, values] of Object.entries(route.fields)) {
      for (const value of values) {
        requests.push({ label: `${route.path} ${field}=${JSON.stringify(value).slice(0, 40)}`, send: async () => await api.post(route.path, { ...route.base, [field]: value }) })
      }
    }
    requests.push({ label: `${route.path} array body`, send: async () => await api.post(route.path, [route.base]) })
    requests.push({ label: `${route.path} nested body`, send: async () => await api.post(route.path, { body: route.base }) })
  }
  requests.push(...extra)
  return await inBatches(requests.map((r) => async () => {
    const res = await r.send()
    return { label: r.label, status: res.status, text: res.text }
  }), 16)
}
