// Smoke: the whole mix at a hundredth of the rates for 30 s, one of each action at least: does every route answer
// as the runner expects, before a real run. Same thresholds.
//   BASE_URL=https://… DOCTOR_SECRET=… k6 run -e CLINICS=20 k6/smoke.js
import { THRESHOLDS, mixScenarios, seed, read, book, walkIn, status, golden, payment } from './common.js'

export const options = {
  setupTimeout: '5m',
  scenarios: mixScenarios(__ENV.DURATION || '30s', 0.01),
  thresholds: THRESHOLDS
}

export function setup () {
  return seed()
}

export { read, book, walkIn, status, golden, payment }
