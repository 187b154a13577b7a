// Spike: the mix at its rate, then every action at PEAK × for 20 s (the morning a booking day opens), then back. What
// to look for: no 5xx but bounded 503s with Retry-After when the pool is saturated (counted as failures here: the
// threshold says how many are tolerable), and latency back to the baseline after the spike.
//   scripts/k6.sh spike
import { THRESHOLDS, PER_APP_USER, perMinute, seed, read, book, walkIn, status, golden, payment } from './common.js'

const PEAK = Number(__ENV.PEAK || 5)

function ramp (action) {
  const base = perMinute(action, 1)
  return {
    executor: 'ramping-arrival-rate', exec: action, startRate: base, timeUnit: '1m',
    preAllocatedVUs: Math.max(2, Math.ceil(base / 60)), maxVUs: Math.max(50, Math.ceil(base * PEAK / 6)),
    stages: [
      { target: base, duration: '20s' },
      { target: base * PEAK, duration: '5s' },
      { target: base * PEAK, duration: '20s' },
      { target: base, duration: '5s' },
      { target: base, duration: '20s' }
    ]
  }
}

export const options = {
  setupTimeout: '10m',
  scenarios: Object.fromEntries(Object.keys(PER_APP_USER).map((action) => [action, ramp(action)])),
  thresholds: THRESHOLDS
}

export function setup () {
  return seed()
}

export { read, book, walkIn, status, golden, payment }
