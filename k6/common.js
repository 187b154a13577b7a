// Shared by the k6 scenarios: the same clinic day as `npm run loadtest` (scripts/loadtest/mix.ts), for operators who
// run k6 against a deployment (BASE_URL, DOCTOR_SECRET) or through scripts/k6.sh against a local server. Plain k6
// JavaScript: k6 runs it, not Node (the project's tests only parse it, see k6/README.md).
import http from 'k6/http'
import exec from 'k6/execution'

export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8000'
export const SECRET = __ENV.DOCTOR_SECRET || 'dev-secret'
// The clinics the scenarios create in setup() and then read and book: CLINICS × DAYS, as the runner's seed.
export const CLINIC_BASE = Number(__ENV.CLINIC_BASE || 90000)
export const CLINICS = Number(__ENV.CLINICS || 500)
export const DAYS = 14
export const CAPACITY = 30
export const GOLDEN_CAPACITY = 10
// USERS concurrent users, 8 in 10 of them watching their clinic's queue live (k6/sse.js), the rest app users.
export const USERS = Number(__ENV.USERS || 10000)
export const APP_USERS = USERS - Math.round(USERS * 0.8)

// Per app user and second, as scripts/loadtest/mix.ts PER_APP_USER (a test compares the two).
export const PER_APP_USER = { read: 0.1, book: 0.012, walkIn: 0.004, status: 0.006, golden: 0.001, payment: 0.0005 }

// Arrivals per second of each action for APP_USERS (k6 takes whole numbers per timeUnit: per minute keeps precision).
export function perMinute (action, factor) {
  return Math.max(1, Math.round(PER_APP_USER[action] * APP_USERS * 60 * (factor || 1)))
}

// A 409 (a full day, a patient already booked that day), a 429 (the limiter) and a 304 (a revalidated read) are
// the intended outcome of a busy day, not failures: http_req_failed counts only the rest.
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 299 }, 304, 409, 429))

// Failed requests < 0.1 % (intended 409/429 apart), reads p95 < 50 ms: the thresholds every scenario shares.
export const THRESHOLDS = {
  http_req_failed: ['rate<0.001'],
  'http_req_duration{name:read}': ['p(95)<50']
}

// Against scripts/k6.sh's local server (TRUST_PROXY_HOPS=1), each VU is its own client for the rate limiter through
// X-Forwarded-For (loopback-range text). Behind a real proxy (Render) the proxy's own address wins: there the limits
// apply per machine running k6, as they would to one busy phone.
export function headers (extra) {
  const vu = exec.vu.idInTest
  return Object.assign({
    'Doctor-Secret': SECRET,
    'Content-Type': 'application/json',
    'X-Forwarded-For': `127.20.${(vu >> 8) & 255}.${vu & 255}`
  }, extra || {})
}

function isoDay (offset) {
  // The server's "today" is Iraq's (UTC+3).
  const d = new Date(Date.now() + 3 * 3600 * 1000 + offset * 86400 * 1000)
  return d.toISOString().slice(0, 10)
}

export const DATES = Array.from({ length: DAYS }, (_, i) => isoDay(i))

// CLINICS clinics × DAYS days (regular) and DAYS - 1 golden days, as the runner seeds them; an existing day answers
// "exists", so a second run reuses them. (The runner's extra "yesterday" and its midnight need the database: k6 has
// neither, so these scenarios start at today.)
export function seed () {
  const regular = {}
  const golden = {}
  DATES.forEach((d, i) => {
    regular[d] = { capacity_total: CAPACITY }
    if (i > 0) golden[d] = { capacity_total: GOLDEN_CAPACITY }
  })
  for (let i = 0; i < CLINICS; i++) {
    for (const [path, days] of [['/api/create_table', regular], ['/api/create_golden_table', golden]]) {
      const res = http.post(`${BASE_URL}${path}`, JSON.stringify({ clinic_id: CLINIC_BASE + i, days }),
        { headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': '127.20.255.1' }, tags: { name: 'seed' } })
      if (res.status !== 200) throw new Error(`${path} ${CLINIC_BASE + i}: ${res.status} ${res.body}`)
    }
  }
  return { dates: DATES }
}

export function randomClinic () {
  return CLINIC_BASE + Math.floor(Math.random() * CLINICS)
}

function pick (list) {
  return list[Math.floor(Math.random() * list.length)]
}

function uuid () {
  return 'xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx'.replace(/x/g, () => Math.floor(Math.random() * 16).toString(16))
}

// What this VU's phone last saw of each clinic (ETag), for If-None-Match.
const etags = {}
// This VU's desk: bookings it may move, and golden bookings it may bill.
const desk = []
const toPay = []

// The patient opens the app: the clinic's days, gzip, revalidated with the ETag it has.
export function read () {
  const clinic = randomClinic()
  const extra = { 'Accept-Encoding': 'gzip' }
  if (etags[clinic] !== undefined) extra['If-None-Match'] = etags[clinic]
  const res = http.get(`${BASE_URL}/api/booking_days?clinic_id=${clinic}`, { headers: headers(extra), tags: { name: 'read' } })
  if (res.headers.Etag !== undefined) etags[clinic] = res.headers.Etag
  return res
}

// A booking with an Idempotency-Key; a share of the answers are "lost" and the phone sends the same request again
// (the same booking must come back, Idempotent-Replayed); no answer or a 5xx is retried once with the same key.
function bookWithKey (path, body, name) {
  const params = { headers: headers({ 'Idempotency-Key': uuid() }), tags: { name } }
  const payload = JSON.stringify(body)
  const res = http.post(`${BASE_URL}${path}`, payload, params)
  const lost = res.status === 200 && Math.random() < 0.05
  if (lost || res.status === 0 || res.status >= 500) {
    const again = http.post(`${BASE_URL}${path}`, payload, { headers: params.headers, tags: { name: 'retry' } })
    if (lost && (again.status !== 200 || again.json('booking_id') !== res.json('booking_id'))) throw new Error(`retry answered another booking: ${again.status}`)
    return res.status === 200 ? res : again
  }
  return res
}

function patientId () {
  return `K${Date.now()}x${exec.vu.idInTest}-${exec.vu.iterationInInstance}`
}

// The patient app: half auto-assigned (the server finds a day), half dated.
export function book (data) {
  const body = { clinic_id: randomClinic(), name: 'k6 patient', phone: '+9647700000000', patient_id: patientId(), source: 'patient_app' }
  if (Math.random() < 0.5) body.date = pick(data.dates.slice(1))
  return bookWithKey('/api/patient_booking', body, 'book')
}

// The desk adds a walk-in to today's queue.
export function walkIn (data) {
  const res = bookWithKey('/api/patient_booking', {
    clinic_id: randomClinic(), name: 'k6 walk-in', phone: '+9647700000001', patient_id: patientId(), source: 'secretary_app', secretary_id: '100001', date: data.dates[0]
  }, 'walkIn')
  if (res.status === 200) desk.push({ clinic: res.json('clinic_id'), id: res.json('booking_id') })
  return res
}

// The desk moves a patient of today's queue. k6 VUs share nothing, so a VU of this scenario keeps its own desk: with
// none to move, it adds the walk-in first (counted as a walk-in).
export function status (data) {
  if (desk.length === 0 && walkIn(data).status !== 200) return null
  const at = Math.floor(Math.random() * desk.length)
  const entry = desk[at]
  const roll = Math.random()
  const next = roll < 0.5 ? 'served' : roll < 0.7 ? 'in_progress' : roll < 0.85 ? 'no_show' : 'cancelled'
  if (next === 'served' || next === 'cancelled') desk.splice(at, 1)
  return http.post(`${BASE_URL}/api/edit_patient_booking`, JSON.stringify({ clinic_id: entry.clinic, booking_id: entry.id, status: next }),
    { headers: headers(), tags: { name: 'status' } })
}

export function golden (data) {
  const res = bookWithKey('/api/patient_golden_booking', {
    clinic_id: randomClinic(), date: pick(data.dates.slice(1)), patient_id: patientId(), name: 'k6 golden', phone: '+9647700000002'
  }, 'golden')
  if (res.status === 200) toPay.push({ clinic: res.json('clinic_id'), id: res.json('booking_id'), code: res.json('code'), date: res.json('date') })
  return res
}

// A golden visit billed; as with the desk, a VU with nothing to bill makes the golden booking first.
export function payment (data) {
  if (toPay.length === 0) golden(data)
  const due = toPay.shift()
  if (due === undefined) return null
  const [y, m, d] = due.date.split('-')
  return http.post(`${BASE_URL}/api/golden_patient_payment`, JSON.stringify({
    clinic_id: due.clinic, exam_date: `${d}/${m}/${y}`, patient_name: 'k6 golden', booking_id: due.id, code: due.code
  }), { headers: headers(), tags: { name: 'payment' } })
}

// The morning rush: many patients for today on a few clinics (409 when the day is full is the intended answer).
export function rush (data) {
  return bookWithKey('/api/patient_booking', {
    clinic_id: CLINIC_BASE + Math.floor(Math.random() * 4), name: 'k6 rush', phone: '+9647700000003', patient_id: patientId(), source: 'patient_app', date: data.dates[0]
  }, 'rush')
}

// The app users' scenarios at `factor` × the mix's rates for `duration` (constant arrival rate, as the runner).
export function mixScenarios (duration, factor, startTime) {
  const scenarios = {}
  for (const action of Object.keys(PER_APP_USER)) {
    const rate = perMinute(action, factor)
    scenarios[action] = {
      executor: 'constant-arrival-rate', exec: action, rate, timeUnit: '1m', duration, startTime: startTime || '0s',
      preAllocatedVUs: Math.max(2, Math.ceil(rate / 60)), maxVUs: Math.max(20, Math.ceil(rate / 6))
    }
  }
  return scenarios
}
