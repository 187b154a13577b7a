// Load: the runner's mix for USERS users (default 10,000: 2,000 app users; their viewers are k6/sse.js) for DURATION.
//   scripts/k6.sh load [30s]      or      BASE_URL=… DOCTOR_SECRET=… k6 run -e USERS=10000 k6/load.js
import { THRESHOLDS, mixScenarios, seed, read, book, walkIn, status, golden, payment } from './common.js'

export const options = {
  setupTimeout: '10m',
  scenarios: mixScenarios(__ENV.DURATION || '30s', 1),
  thresholds: THRESHOLDS
}

export function setup () {
  return seed()
}

export { read, book, walkIn, status, golden, payment }
