// Soak: the runner's mix, steady, for 30 minutes (as `npm run loadtest -- --seconds 1800`), to show leaks and drift
// rather than peaks: compare the first and last five minutes, and watch /stats memory.total_rss.
//   scripts/k6.sh soak [30m]
import { THRESHOLDS, mixScenarios, seed, read, book, walkIn, status, golden, payment } from './common.js'

export const options = {
  setupTimeout: '10m',
  scenarios: mixScenarios(__ENV.DURATION || '30m', Number(__ENV.FACTOR || 1)),
  thresholds: Object.assign({ 'http_req_duration{name:book}': ['p(99)<1000'] }, THRESHOLDS)
}

export function setup () {
  return seed()
}

export { read, book, walkIn, status, golden, payment }
