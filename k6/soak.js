// Soak: a long, low, steady rate (a clinic day's real traffic, compressed), to show leaks and drift rather than
// peaks: watch /stats memory.total_rss and the latency trend over the run.
//   scripts/k6.sh soak [30m]
import { check } from 'k6'
import { createClinics, readDays, book } from './common.js'

const DURATION = __ENV.DURATION || '30m'

export const options = {
  setupTimeout: '60s',
  scenarios: {
    reads: { executor: 'constant-arrival-rate', exec: 'reads', rate: Number(__ENV.READ_RATE || 50), timeUnit: '1s', duration: DURATION, preAllocatedVUs: 10, maxVUs: 50 },
    bookings: { executor: 'constant-arrival-rate', exec: 'bookings', rate: Number(__ENV.BOOK_RATE || 5), timeUnit: '1s', duration: DURATION, preAllocatedVUs: 5, maxVUs: 20 }
  },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    'http_req_duration{name:booking_days}': ['p(99)<100'],
    'http_req_duration{name:patient_booking}': ['p(99)<300']
  }
}

export function setup () {
  return createClinics()
}

export function reads () {
  check(readDays(true), { 'days 200': (r) => r.status === 200 })
}

export function bookings (data) {
  check(book(data.day), { 'booked 200': (r) => r.status === 200 })
}
