// SSE viewers: 8 in 10 of USERS hold a live view of their clinic's day (the xk6-sse extension, `k6/x/sse`), spread
// over the clinics as the runner spreads them; a view ends at its timeout (or a cut) and comes back with
// Last-Event-ID, as EventSource does. Each viewer times how long after a booking was sent its `update` arrived (the
// runner's and these scenarios' bookings carry their send time in the patient id). With BOOKER=1 (the default) a
// booker adds a booking every 3 s, so the file also runs alone; next to k6/mix.js, set BOOKER=0.
//   scripts/k6.sh sse [60s]      or      BASE_URL=… DOCTOR_SECRET=… k6 run -e USERS=10000 k6/sse.js
import sse from 'k6/x/sse'
import http from 'k6/http'
import exec from 'k6/execution'
import { check } from 'k6'
import { Trend, Counter } from 'k6/metrics'
import { BASE_URL, CLINICS, CLINIC_BASE, USERS, headers, seed } from './common.js'

const DURATION = __ENV.DURATION || '60s'
const VIEWERS = Number(__ENV.VIEWERS || Math.round(USERS * 0.8))
// A view lasts this long (the server's `timeout`), then the viewer reconnects.
const HOLD_SECONDS = Number(__ENV.HOLD_SECONDS || 240)

const delivery = new Trend('sse_update_delivery_ms', true)
const updates = new Counter('sse_updates')
const resumed = new Counter('sse_resumed_with_last_event_id')

export const options = {
  setupTimeout: '10m',
  scenarios: Object.assign({
    viewers: { executor: 'constant-vus', exec: 'viewer', vus: VIEWERS, duration: DURATION, gracefulStop: '10s' }
  }, __ENV.BOOKER === '0'
    ? {}
    : { booker: { executor: 'constant-arrival-rate', exec: 'booker', rate: 1, timeUnit: '3s', duration: DURATION, preAllocatedVUs: 2, startTime: '10s' } }),
  thresholds: {
    sse_update_delivery_ms: ['p(99)<250'],
    checks: ['rate>0.999']
  }
}

export function setup () {
  return seed()
}

// Per VU: the last event id seen, sent again when the view is reopened (the next iteration).
let lastEventId = null

export function viewer () {
  const clinic = CLINIC_BASE + ((exec.vu.idInTest - 1) % CLINICS)
  const url = `${BASE_URL}/api/booking_days?clinic_id=${clinic}&stream=true&heartbeat=60&timeout=${HOLD_SECONDS}`
  const extra = { Accept: 'text/event-stream' }
  if (lastEventId !== null) {
    extra['Last-Event-ID'] = lastEventId
    resumed.add(1)
  }
  let newest = 0
  const response = sse.open(url, { method: 'GET', headers: headers(extra) }, function (client) {
    client.on('event', function (event) {
      if (event.id) lastEventId = event.id
      if (event.name !== 'snapshot' && event.name !== 'update') return
      const sent = Math.max(0, ...(event.data.match(/"patient_id":"[LK](\d{13})x/g) || []).map((m) => Number(m.slice(-14, -1))))
      if (event.name === 'update') {
        updates.add(1)
        if (sent > newest && newest > 0) delivery.add(Date.now() - sent)
      }
      if (sent > newest) newest = sent
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
    clinic_id: CLINIC_BASE + Math.floor(Math.random() * CLINICS), name: 'k6 sse', phone: '+9647700000000', patient_id: `K${sent}x0-${exec.vu.iterationInInstance}`,
    date: data.dates[1], source: 'secretary_app'
  }), { headers: headers(), tags: { name: 'book' } })
  check(res, { 'booked 200': (r) => r.status === 200 })
}
