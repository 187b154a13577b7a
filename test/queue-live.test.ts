import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { patientToken, secretaryToken } from '../src/auth/actors.ts'
import { startStack } from './helpers/stack.ts'
import { addDays, compactDate, weekdayOf } from '../src/domain/calendar.ts'
import { ESTIMATE_EVERY_MS, estimateOnce } from '../coordinator/jobs.ts'
import { waitFor } from './helpers/server.ts'
import { framesOf, today } from './helpers/booking-api.ts'
import { client, ok, type OpenStream } from './helpers/client.ts'

// Issue 15.1 and 15.2: "now serving" for a clinic's day and each booking's place in it, as JSON and as streams. The
// secretary app moves bookings through the edit route, as it does today; every answer below follows from that.

const { app, api, sql, launch } = await startStack(t, { mode: 'in-process' })
const strict = await launch(t, { AUTH_MODE: 'strict' })
const strictApi = client(strict)

async function openDay (clinicId: number, patients: number): Promise<string[]> {
  await ok(api.post('/api/create_table', { clinic_id: clinicId, days: { [today]: { capacity_total: 50 } } }), 'create_table')
  const ids: string[] = []
  for (let i = 1; i <= patients; i++) {
    const booked = await ok(api.post('/api/patient_booking', {
      clinic_id: clinicId, name: `مريض ${i}`, phone: '+9647700000000', source: 'secretary_app', date: today, patient_id: `P-${clinicId * 100 + i}`
    }), 'booking')
    ids.push(booked['booking_id'] as string)
  }
  return ids
}

const setStatus = (clinicId: number, bookingId: string, status: string) =>
  ok(api.post('/api/edit_patient_booking', { clinic_id: clinicId, booking_id: bookingId, status }), `${status} ${bookingId}`)
const nowServing = (clinicId: number) => ok(api.get(`/api/queue/now_serving?clinic_id=${clinicId}`), 'now_serving')
const position = (bookingId: string) => ok(api.get(`/api/queue/position?booking_id=${bookingId}`), 'position')

const dataOf = (stream: OpenStream) => framesOf(stream.text()).filter((f) => f.event === 'snapshot' || f.event === 'update')
const lastData = (stream: OpenStream) => {
  const frames = dataOf(stream)
  const last = frames[frames.length - 1]
  return last === undefined ? null : { ...last, body: JSON.parse(last.data) as Record<string, unknown> }
}

t.test('now serving follows the secretary: called, served, the next called, a cancellation closing the gap', async (t) => {
  const ids = await openDay(1501, 4)
  t.same(await nowServing(1501), { clinic_id: 1501, date: today, now_serving: null, next: [1, 2, 3, 4], waiting: 4, served: 0 }, 'nobody called yet')
  await setStatus(1501, ids[0] as string, 'in_progress')
  t.same(await nowServing(1501), { clinic_id: 1501, date: today, now_serving: 1, next: [2, 3, 4], waiting: 3, served: 0 }, 'token 1 in progress')
  await setStatus(1501, ids[0] as string, 'served')
  t.match(await nowServing(1501), { now_serving: 1, next: [2, 3, 4], served: 1 }, 'served: the screen keeps showing 1 until the next is called')
  await setStatus(1501, ids[1] as string, 'جاري المعاينة')
  t.match(await nowServing(1501), { now_serving: 2, next: [3, 4], waiting: 2 }, 'the next called (Arabic status, as the app sends it)')
  await setStatus(1501, ids[2] as string, 'cancelled')
  t.match(await nowServing(1501), { now_serving: 2, next: [3], waiting: 1 }, 'token 4 moved up to 3 at once')
  await setStatus(1501, ids[1] as string, 'booked')
  t.match(await nowServing(1501), { now_serving: 1, next: [2, 3], waiting: 2 }, 'sent back to waiting: the last one still called shows')
  t.same(await nowServing(1599), { clinic_id: 1599, date: today, now_serving: null, next: [], waiting: 0, served: 0 }, 'a clinic without a day: nobody')
  t.match(await ok(api.get('/api/queue/now_serving?clinic_id=1501&lane=golden'), 'golden'), { now_serving: null, next: [] }, 'the golden queue is its own')
})

t.test('a place: the waiting before it, who is being seen, the expected minutes; a cancellation moves it at once', async (t) => {
  const ids = await openDay(1502, 5)
  const last = ids[4] as string
  // No history yet: the default 10 minutes a patient, ±50 %.
  t.same(await position(last), { booking_id: last, token: 5, status: 'booked', ahead: 4, now_serving: null, eta_minutes: 40, eta_range: [20, 60] })
  await setStatus(1502, ids[0] as string, 'in_progress')
  t.same(await position(last), { booking_id: last, token: 5, status: 'booked', ahead: 3, now_serving: 1, eta_minutes: 35, eta_range: [17, 53] }, 'half of the one inside counts')
  await setStatus(1502, ids[2] as string, 'cancelled')
  t.match(await position(last), { token: 4, ahead: 2 }, 'the cancellation ahead moved it up')
  t.match(await position(ids[2] as string), { token: null, status: 'cancelled', ahead: null, eta_minutes: null, eta_range: null }, 'the cancelled one has no place')
  await setStatus(1502, last, 'in_progress')
  t.match(await position(last), { status: 'in_progress', ahead: null, now_serving: 4, eta_minutes: null }, 'called: no wait left')
  const missing = await api.get('/api/queue/position?booking_id=B-1502-20000101-999')
  t.equal(missing.status, 404)
  t.match(missing.json(), { code: 'queue_booking_not_found', detail: 'الحجز غير موجود' })
})

t.test('streams: a snapshot with an id, updates on change, Last-Event-ID resumes, unchanged places are not woken', async (t) => {
  const ids = await openDay(1503, 4)
  const now = await api.openStream('/api/queue/now_serving?clinic_id=1503&stream=true', { 'Doctor-Secret': 'dev-secret' })
  const mine = await api.openStream(`/api/queue/position?booking_id=${ids[1] as string}&stream=true`, { 'Doctor-Secret': 'dev-secret' })
  t.teardown(() => { now.close(); mine.close() })
  t.equal(now.headers['content-type'], 'text/event-stream')
  await waitFor('the snapshots', async () => dataOf(now).length > 0 && dataOf(mine).length > 0, 60_000)
  t.equal(dataOf(now)[0]?.event, 'snapshot')
  t.match(lastData(mine)?.body, { token: 2, ahead: 1 })
  const firstId = Number(lastData(now)?.id)

  await setStatus(1503, ids[0] as string, 'in_progress')
  await waitFor('the update', async () => lastData(mine)?.body['ahead'] === 0 && lastData(now)?.body['now_serving'] === 1, 60_000)
  t.ok(Number(lastData(now)?.id) > firstId, 'the update carries a later id')

  const before = dataOf(mine).length
  await ok(api.post('/api/patient_booking', { clinic_id: 1503, name: 'متأخر', phone: '+9647700000000', source: 'secretary_app', date: today }), 'a walk-in behind')
  await waitFor('now serving sees the walk-in', async () => (lastData(now)?.body['waiting'] as number) === 4, 60_000)
  await sleep(200)
  t.equal(dataOf(mine).length, before, 'a booking behind it does not move its place: no frame')

  const resumed = await api.openStream('/api/queue/now_serving?clinic_id=1503&stream=true', { 'Doctor-Secret': 'dev-secret', 'Last-Event-ID': lastData(now)?.id as string })
  t.teardown(resumed.close)
  await sleep(300)
  t.same(dataOf(resumed), [], 'resuming at the current id: nothing was missed')
  const stale = await api.openStream('/api/queue/now_serving?clinic_id=1503&stream=true', { 'Doctor-Secret': 'dev-secret', 'Last-Event-ID': String(firstId) })
  t.teardown(stale.close)
  await waitFor('the missed state', async () => dataOf(stale).length > 0, 60_000)
  t.equal(dataOf(stale)[0]?.event, 'update', 'resuming from an older id: the current state as an update')
})

t.test('one load per change for the worker, however many watch', async (t) => {
  const ids = await openDay(1504, 30)
  const streams: OpenStream[] = []
  t.teardown(() => { for (const s of streams) s.close() })
  for (let i = 0; i < 30; i++) {
    streams.push(await api.openStream(`/api/queue/position?booking_id=${ids[i] as string}&stream=true`, { 'Doctor-Secret': 'dev-secret' }))
    streams.push(await api.openStream('/api/queue/now_serving?clinic_id=1504&stream=true', { 'Doctor-Secret': 'dev-secret' }))
  }
  await waitFor('every snapshot', async () => streams.every((s) => dataOf(s).length === 1), 60_000)
  const loads = app.context.cache.counters.loads
  const parses = app.context.queueViews.counters.parses
  await setStatus(1504, ids[0] as string, 'in_progress')
  await waitFor('every viewer told', async () => streams.every((s) => dataOf(s).length === 2), 60_000)
  t.equal(app.context.cache.counters.loads - loads, 1, 'one load of the day for 60 viewers')
  t.equal(app.context.queueViews.counters.parses - parses, 1, 'parsed once')
})

t.test("the expected time is the clinic's own, computed by the coordinator's job; a moved figure reaches the streams", async (t) => {
  // Three past weeks on today's weekday: 12 patients called 7 minutes apart, the first at 09:00 Baghdad.
  for (const weeksAgo of [1, 2, 3]) {
    const date = addDays(today, -7 * weeksAgo)
    const [day] = await sql<Array<{ id: string }>>`
      INSERT INTO booking_days (clinic_id, lane, day, capacity_total, status) VALUES (1506, 'regular', ${date}, 20, 'archived') RETURNING id::text`
    for (let i = 1; i <= 12; i++) {
      await sql`
        INSERT INTO bookings (day_id, seq, token, display_id, name, phone, status, called_at)
        VALUES (${day?.id as string}, ${i}, ${i}, ${`B-1506-${compactDate(date)}-${String(i).padStart(3, '0')}`}, 'x', '0', 'served',
                ${date}::date + time '06:00' + ${i * 7} * interval '1 minute')`
    }
  }
  const ids = await openDay(1506, 3)
  const mine = await api.openStream(`/api/queue/position?booking_id=${ids[2] as string}&stream=true`, { 'Doctor-Secret': 'dev-secret' })
  t.teardown(mine.close)
  await waitFor('the snapshot', async () => lastData(mine) !== null, 60_000)
  t.match(lastData(mine)?.body, { ahead: 2, eta_minutes: 20 }, 'before the job: the default 10 minutes')

  // The job as the coordinator runs it every five minutes (a later slot than the one it ran at start).
  // (The app's own coordinator may run its job meanwhile, at a slot boundary: then it is the one that moved the figure.)
  const run = await estimateOnce(sql, new Date(Date.now() + ESTIMATE_EVERY_MS))
  t.ok(run !== null, 'the job ran for its slot')
  await waitFor('the new expected time on the stream', async () => lastData(mine)?.body['eta_minutes'] === 14, 60_000)
  t.same(lastData(mine)?.body['eta_range'], [14, 14], 'seven minutes, every time')
  t.match(await position(ids[2] as string), { eta_minutes: 14 })
  const [row] = await sql<Array<{ minutes: number, samples: number }>>`SELECT minutes, samples FROM service_estimates WHERE clinic_id = 1506 AND weekday = ${weekdayOf(today)}`
  t.same(row, { minutes: 7, samples: 33 }, "today's weekday: 33 gaps (the first call of each day is none)")
  t.equal(await estimateOnce(sql, new Date(Date.now() + ESTIMATE_EVERY_MS)), null, 'the same slot runs once, whichever coordinator asks')
})

t.test('AUTH_MODE=strict: a place is its patient\'s own', async (t) => {
  const ids = await openDay(1505, 2)
  await sql`INSERT INTO secretaries (code, clinic_id) VALUES (123456, 1505), (123457, 1506)`
  const owner = patientToken(strict.config.jwtSecret, 150501, true)
  const other = patientToken(strict.config.jwtSecret, 150502, true)
  const secretary = secretaryToken(strict.config.jwtSecret, 123456, 1505)
  const path = `/api/queue/position?booking_id=${ids[0] as string}`
  t.equal((await strictApi.get(path, { token: owner })).status, 200, 'the owner')
  t.equal((await strictApi.get(path, { token: other })).status, 403, 'another patient')
  t.equal((await strictApi.get(path, { token: secretary })).status, 403, "the clinic's secretary: positions are the patient's")
  t.equal((await strictApi.get(path)).status, 401, 'the secret alone')
  t.equal((await strictApi.get('/api/queue/now_serving?clinic_id=1505', { token: other })).status, 200, 'now serving: any patient (tokens only, no names)')
  t.equal((await strictApi.get('/api/queue/now_serving?clinic_id=1505', { token: secretaryToken(strict.config.jwtSecret, 123457, 1506) })).status, 403, "another clinic's secretary")
})

t.test('bad input: 4xx with a message', async (t) => {
  for (const path of [
    '/api/queue/now_serving', '/api/queue/now_serving?clinic_id=abc', '/api/queue/now_serving?clinic_id=1&date=2025-02-30',
    '/api/queue/now_serving?clinic_id=1&lane=vip', '/api/queue/now_serving?clinic_id=1&stream=maybe',
    '/api/queue/position', `/api/queue/position?booking_id=${'x'.repeat(65)}`
  ]) {
    const res = await api.get(path)
    t.equal(res.status, 422, path)
    t.ok(Array.isArray(res.json()['detail']), 'the validation list')
  }
  t.equal((await api.get('/api/queue/now_serving?clinic_id=1', { secret: null })).status, 403, 'no app secret')
})
