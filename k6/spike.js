// Spike: a quiet baseline, a sudden jump (the morning the booking day opens), back to quiet. What to look for: no
// 5xx other than bounded 503s with Retry-After when the database pool is saturated, and latency back to the
// baseline after the spike. The whole run lasts about DURATION (default 70 s).
//   scripts/k6.sh spike
import { check } from 'k6'
import { createClinics, readDays, book } from './common.js'

const BASE = Number(__ENV.BASE_RATE || 50)
const PEAK = Number(__ENV.PEAK_RATE || 1500)

export const options = {
  setupTimeout: '60s',
  scenarios: {
    reads: {
      executor: 'ramping-arrival-rate', exec: 'reads', startRate: BASE, timeUnit: '1s', preAllocatedVUs: 50, maxVUs: 400,
      stages: [
        { target: BASE, duration: '20s' },
        { target: PEAK, duration: '5s' },
        { target: PEAK, duration: '20s' },
        { target: BASE, duration: '5s' },
        { target: BASE, duration: '20s' }
      ]
    },
    bookings: {
      executor: 'ramping-arrival-rate', exec: 'bookings', startRate: BASE / 10, timeUnit: '1s', preAllocatedVUs: 20, maxVUs: 200,
      stages: [
        { target: BASE / 10, duration: '20s' },
        { target: PEAK / 10, duration: '5s' },
        { target: PEAK / 10, duration: '20s' },
        { target: BASE / 10, duration: '5s' },
        { target: BASE / 10, duration: '20s' }
      ]
    }
  },
  thresholds: {
    // 503 (pool saturated, with Retry-After) is an accepted answer under a spike; anything else is a failure.
    checks: ['rate>0.99']
  }
}

export function setup () {
  return createClinics()
}

export function reads () {
  check(readDays(true), { 'days 200 or 503': (r) => r.status === 200 || (r.status === 503 && r.headers['Retry-After'] !== undefined) })
}

export function bookings (data) {
  check(book(data.day), { 'booked 200 or 503': (r) => r.status === 200 || (r.status === 503 && r.headers['Retry-After'] !== undefined) })
}
