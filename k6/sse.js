// SSE: VUS viewers hold a live stream of one clinic (the xk6-sse extension, `k6/x/sse`), while a booker adds one
// booking every few seconds; each viewer measures how long after the booking was sent its `update` frame arrived
// (the booking's patient id carries the send time). Needs a k6 binary built with xk6-sse: see scripts/k6.sh.
//   scripts/k6.sh sse [60s]
import sse from 'k6/x/sse'
import http from 'k6/http'
import { check } from 'k6'
import { Trend, Counter } from 'k6/metrics'
import { BASE_URL, SECRET, BOOKING_DAY, headers } from './common.js'

const DURATION = __ENV.DURATION || '60s'
const VIEWERS = Number(__ENV.VUS || 1000)
const CLINIC = Number(__ENV.SSE_CLINIC || 91000)
// A viewer stays this long, then closes; k6 starts it again (each iteration is one connection).
const HOLD_SECONDS = Number(__ENV.HOLD_SECONDS || 50)

const delivery = new Trend('sse_update_delivery_ms', true)
const updates = new Counter('sse_updates')

export const options = {
  setupTimeout: '60s',
  scenarios: {
    viewers: { executor: 'constant-vus', exec: 'viewer', vus: VIEWERS, duration: DURATION, gracefulStop: '10s' },
    booker: { executor: 'constant-arrival-rate', exec: 'booker', rate: 1, timeUnit: '3s', duration: DURATION, preAllocatedVUs: 2, startTime: '10s' }
  },
  thresholds: {
    sse_update_delivery_ms: ['p(99)<250'],
    checks: ['rate>0.99']
  }
}

export function setup () {
  const res = http.post(`${BASE_URL}/api/create_table`, JSON.stringify({ clinic_id: CLINIC, days: { [BOOKING_DAY]: { capacity_total: 100000 } } }),
    { headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', 'X-Forwarded-For': '127.20.255.2' } })
  if (res.status !== 200) throw new Error(`create_table: ${res.status} ${res.body}`)
  return { day: BOOKING_DAY }
}

export function viewer () {
  const url = `${BASE_URL}/api/booking_days?clinic_id=${CLINIC}&stream=true&heartbeat=60&timeout=3600`
  const opened = Date.now()
  const response = sse.open(url, { method: 'GET', headers: headers({ Accept: 'text/event-stream' }) }, function (client) {
    let seen = ''
    client.on('event', function (event) {
      if (event.name === 'update') {
        updates.add(1)
        // The newest booking's patient id is SSE-<sent ms>; take the largest one in the frame we have not seen.
        const matches = event.data.match(/SSE-\d+/g) || []
        const newest = matches.sort().pop()
        if (newest !== undefined && newest !== seen) {
          seen = newest
          delivery.add(Date.now() - Number(newest.slice(4)))
        }
      }
      if (Date.now() - opened > HOLD_SECONDS * 1000) client.close()
    })
    client.on('error', function (e) {
      console.error(`sse error: ${e.error()}`)
    })
  })
  check(response, { 'stream 200': (r) => r && r.status === 200 })
}

export function booker (data) {
  const sent = Date.now()
  const res = http.post(`${BASE_URL}/api/patient_booking`, JSON.stringify({
    clinic_id: CLINIC, name: `k6 sse ${sent}`, phone: '+9647700000000', patient_id: `SSE-${sent}`, date: data.day, source: 'secretary_app'
  }), { headers: headers() })
  check(res, { 'booked 200': (r) => r.status === 200 })
}
