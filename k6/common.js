// Shared by the k6 scenarios (run them through scripts/k6.sh, which starts a server on 127.0.0.1 and passes
// BASE_URL). Plain k6 JavaScript: k6 runs it, not Node.
import http from 'k6/http'
import exec from 'k6/execution'

export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8000'
export const SECRET = __ENV.DOCTOR_SECRET || 'dev-secret'
// Clinics the scenarios create in setup() and then read and book.
export const CLINIC_BASE = Number(__ENV.CLINIC_BASE || 90000)
export const CLINICS = Number(__ENV.CLINICS || 50)

// Every request comes from 127.0.0.1. scripts/k6.sh starts the server with TRUST_PROXY_HOPS=1, and each virtual
// user sends its own X-Forwarded-For (loopback-range text, no traffic goes there), so each VU is one client for the
// rate limiter (30,000 a minute per client in these runs) instead of all of them sharing one bucket.
export function headers (extra) {
  const vu = exec.vu.idInTest
  return Object.assign({
    'Doctor-Secret': SECRET,
    'Content-Type': 'application/json',
    'X-Forwarded-For': `127.20.${(vu >> 8) & 255}.${vu & 255}`
  }, extra || {})
}

function isoDay (offset) {
  // The server's "today" is Iraq's (UTC+3); a few days ahead is a future day whatever the time zone.
  const d = new Date(Date.now() + 3 * 3600 * 1000 + offset * 86400 * 1000)
  return d.toISOString().slice(0, 10)
}

export const BOOKING_DAY = __ENV.BOOKING_DAY || isoDay(3)

// One future day of large capacity per clinic; idempotent (an existing day answers "exists").
export function createClinics () {
  for (let i = 0; i < CLINICS; i++) {
    const res = http.post(`${BASE_URL}/api/create_table`, JSON.stringify({
      clinic_id: CLINIC_BASE + i,
      days: { [BOOKING_DAY]: { capacity_total: 100000 } }
    }), { headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': '127.20.255.1' } })
    if (res.status !== 200) throw new Error(`create_table ${CLINIC_BASE + i}: ${res.status} ${res.body}`)
  }
  return { day: BOOKING_DAY }
}

export function randomClinic () {
  return CLINIC_BASE + Math.floor(Math.random() * CLINICS)
}

// A dated booking with a patient id unique in the whole test (VU id + iteration), half from each app.
export function book (day, tags) {
  const vu = exec.vu.idInTest
  const iteration = exec.vu.iterationInInstance
  const secretary = iteration % 2 === 1
  const body = {
    clinic_id: randomClinic(),
    name: `k6 ${vu}-${iteration}`,
    phone: '+9647700000000',
    patient_id: `K6-${exec.scenario.name}-${vu}-${iteration}`,
    date: day,
    source: secretary ? 'secretary_app' : 'patient_app'
  }
  return http.post(`${BASE_URL}/api/patient_booking`, JSON.stringify(body), { headers: headers(), tags: tags || { name: 'patient_booking' } })
}

export function readDays (gzip, tags) {
  const extra = gzip ? { 'Accept-Encoding': 'gzip' } : {}
  return http.get(`${BASE_URL}/api/booking_days?clinic_id=${randomClinic()}`, { headers: headers(extra), tags: tags || { name: 'booking_days' } })
}
