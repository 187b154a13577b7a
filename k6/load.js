// Mixed load: cached reads of the clinics' days (plain and gzip) and bookings, at fixed arrival rates, for DURATION.
//   scripts/k6.sh load [30s]
import { check } from 'k6'
import { createClinics, readDays, book } from './common.js'

const DURATION = __ENV.DURATION || '30s'
const READ_RATE = Number(__ENV.READ_RATE || 1500)
const BOOK_RATE = Number(__ENV.BOOK_RATE || 150)

export const options = {
  setupTimeout: '60s',
  scenarios: {
    reads: {
      executor: 'constant-arrival-rate', exec: 'reads', rate: READ_RATE, timeUnit: '1s', duration: DURATION,
      preAllocatedVUs: 50, maxVUs: 200
    },
    bookings: {
      executor: 'constant-arrival-rate', exec: 'bookings', rate: BOOK_RATE, timeUnit: '1s', duration: DURATION,
      preAllocatedVUs: 20, maxVUs: 100
    }
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:booking_days}': ['p(99)<250'],
    'http_req_duration{name:patient_booking}': ['p(99)<1000'],
    checks: ['rate>0.99']
  }
}

export function setup () {
  return createClinics()
}

export function reads () {
  const res = readDays(Math.random() < 0.5)
  check(res, { 'days 200': (r) => r.status === 200 })
}

export function bookings (data) {
  const res = book(data.day)
  check(res, { 'booked 200': (r) => r.status === 200 })
}
