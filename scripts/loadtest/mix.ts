// The clinic day the load test plays, as numbers: who is there and how often each of them acts. One place, so the
// runner, its report and the k6 scenarios (k6/mix.js mirrors these rates) describe the same day.
//
// Open model (k6's constant-arrival-rate): each action arrives at its rate whatever the server's latency, so a slow
// server meets the same demand, not a politely slower client. A user who finds no free connection waits for one, and
// that wait counts in the latency (no coordinated omission).

export interface Mix {
  users: number
  viewers: number // patients holding a live SSE view of their clinic's day
  appUsers: number // everyone else: they open the app, book, work the desk
  clinics: number
  days: number // live days per clinic, the first of them "yesterday" until midnight
  capacity: number // patient-app places per regular day
  goldenCapacity: number
  rates: Rates // arrivals per second, for the whole run
  rush: { clinics: number, rate: number, startFraction: number, seconds: number }
  midnightFraction: number // where in the run the nightly archive crosses midnight
  viewerCutPerMinute: number // share of viewers whose connection is cut each minute (they reconnect with Last-Event-ID)
  retryShare: number // share of bookings whose answer is "lost": the phone sends the same request and key again
}

export interface Rates {
  read: number // GET /api/booking_days, gzip, with If-None-Match when the phone has seen the clinic before
  book: number // POST /api/patient_booking from the patient app, half auto-assigned, half dated
  walkIn: number // the desk adds a walk-in to today's queue
  status: number // the desk moves a patient of today's queue (served, in progress, no-show, cancelled)
  golden: number // POST /api/patient_golden_booking
  payment: number // POST /api/golden_patient_payment for a golden booking made earlier in the run
}

// Per app user and second: how often a person who has the app open does each thing. 2,000 app users give 200 reads,
// 24 bookings, 8 walk-ins, 12 status moves, 2 golden bookings and 1 payment a second: a busy morning across 500
// clinics, compressed (legacy's own figures assumed 10,000 users at 100-200 ms; we ask for far less).
// k6/common.js keeps the same figures (test/loadtest.test.ts compares them).
export const PER_APP_USER: Rates = { read: 0.1, book: 0.012, walkIn: 0.004, status: 0.006, golden: 0.001, payment: 0.0005 }

export function mixFor (users: number, clinics = 500): Mix {
  const viewers = Math.round(users * 0.8)
  const appUsers = users - viewers
  const rates = Object.fromEntries(Object.entries(PER_APP_USER).map(([k, v]) => [k, v * appUsers])) as unknown as Rates
  return {
    users,
    viewers,
    appUsers,
    clinics,
    days: 14,
    capacity: 30,
    goldenCapacity: 10,
    rates,
    // A few clinics whose booking day opens: many more patients than places, for a short while (409s are the answer).
    rush: { clinics: Math.min(4, clinics), rate: Math.max(2, appUsers * 0.03), startFraction: 0.6, seconds: 20 },
    midnightFraction: 0.5,
    viewerCutPerMinute: 0.05,
    retryShare: 0.05
  }
}

// Routes as the summary names them.
export const ROUTES = ['read', 'book', 'retry', 'walkIn', 'status', 'golden', 'payment', 'rush', 'poll'] as const
export type Route = typeof ROUTES[number]

// Answers that are the intended outcome of the load, not failures: a full day (409), a patient who already holds a
// place that day (409), the limiter (429), a revalidated read (304).
export function intended (route: Route, status: number): boolean {
  if (status >= 200 && status < 300) return true
  if (status === 304) return route === 'read' || route === 'poll'
  return status === 409 || status === 429
}
