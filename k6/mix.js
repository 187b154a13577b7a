// The runner's mixed day for the app users, at the rates of `npm run loadtest` for USERS users (reads with gzip and
// ETag, patient bookings with Idempotency-Key retries, walk-ins and status moves at the desk, golden bookings and
// payments), and the morning rush a little after the start. Viewers are k6/sse.js (run both for the whole day).
//   BASE_URL=https://… DOCTOR_SECRET=… k6 run -e USERS=10000 -e DURATION=5m k6/mix.js
import { THRESHOLDS, mixScenarios, perMinute, seed, read, book, walkIn, status, golden, payment, rush } from './common.js'

const DURATION = __ENV.DURATION || '5m'

export const options = {
  setupTimeout: '10m',
  scenarios: Object.assign(mixScenarios(DURATION, 1), {
    rush: { executor: 'constant-arrival-rate', exec: 'rush', rate: perMinute('read', 0.3), timeUnit: '1m', duration: '20s', startTime: '30s', preAllocatedVUs: 10, maxVUs: 200 }
  }),
  thresholds: THRESHOLDS
}

export function setup () {
  return seed()
}

export { read, book, walkIn, status, golden, payment, rush }
