import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startStack } from './helpers/stack.ts'
import { day } from './helpers/booking-api.ts'

// A day known full is refused from memory (workers/full-days.ts): the same 409 as the database path, no transaction
// for it, and never refused from stale memory after anything that may have freed a seat.

const { api, sql, launch } = await startStack(t, { mode: 'in-process', statements: true })
await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`
const PHONE = '+9647700000000'

// The reserving UPDATE runs once per booking transaction: none of it means no transaction ran. (pg_stat_statements
// shows its constants as $n.)
async function reservations (): Promise<number> {
  const [row] = await sql<Array<{ n: number }>>`
    SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements WHERE query LIKE '%SET active_count = active_count + %, next_seq = next_seq + %'`
  return row?.n ?? 0
}

async function refusalsFromMemory (): Promise<number> {
  const res = await api.get('/stats')
  return res.json<{ hot_paths: { full_day_refusals: number } }>().hot_paths.full_day_refusals
}

const patientBooks = (clinicId: number, date: string, patient: string, headers: Record<string, string> = {}) =>
  api.post('/api/patient_booking', { clinic_id: clinicId, name: `مريض ${patient}`, phone: PHONE, patient_id: patient, date }, { headers })

t.test('the booking that takes the last seat makes the day known full: the next ones get the 409 with no transaction', async (t) => {
  t.equal((await api.post('/api/create_table', { clinic_id: 801, days: { [day(3)]: { capacity_total: 3 } } })).status, 200)
  for (const patient of ['P-1', 'P-2', 'P-3']) t.equal((await patientBooks(801, day(3), patient)).status, 200, `${patient} booked`)
  const before = { reservations: await reservations(), refusals: await refusalsFromMemory() }
  const refused = await Promise.all(['P-4', 'P-5', 'P-6', 'P-7'].map((p) => patientBooks(801, day(3), p)))
  t.same(refused.map((r) => r.status), [409, 409, 409, 409])
  t.ok(before.reservations >= 3, `the reservations are counted (${before.reservations})`)
  t.equal(await reservations(), before.reservations, 'no booking transaction ran')
  t.equal(await refusalsFromMemory() - before.refusals, 4, 'all four refused from memory')

  // The database path's answer, from an app with the step switched off, is the same to the byte.
  const other = await launch(t, { HOT_PATHS_OFF: 'full-days' })
  const fromDatabase = await other.request('/api/patient_booking', {
    method: 'POST',
    headers: { 'Doctor-Secret': 'dev-secret', 'Content-Type': 'application/json' },
    body: JSON.stringify({ clinic_id: 801, name: 'مريض P-8', phone: PHONE, patient_id: 'P-8', date: day(3) })
  })
  t.equal(fromDatabase.status, 409)
  t.equal(refused[0]?.text, fromDatabase.text, 'the same body as the database path')
  t.equal(await reservations(), before.reservations + 1, 'which did run its transaction')
})

t.test('after a cancellation frees a seat, the next booking gets it; then the day is known full again', async (t) => {
  t.equal((await api.post('/api/create_table', { clinic_id: 802, days: { [day(4)]: { capacity_total: 2 } } })).status, 200)
  const first = await patientBooks(802, day(4), 'P-1')
  t.equal((await patientBooks(802, day(4), 'P-2')).status, 200)
  t.equal((await patientBooks(802, day(4), 'P-3')).status, 409, 'full')
  for (let round = 0; round < 3; round++) {
    const id = round === 0 ? first.json<{ booking_id: string }>().booking_id : null
    const cancelled = id ?? (await sql<Array<{ display_id: string }>>`
      SELECT b.display_id FROM bookings b JOIN booking_days d ON d.id = b.day_id
      WHERE d.clinic_id = 802 AND b.status <> 'cancelled' ORDER BY b.seq LIMIT 1`)[0]?.display_id
    t.equal((await api.post('/api/edit_patient_booking', { clinic_id: 802, booking_id: cancelled, status: 'cancelled' })).status, 200, `round ${round + 1}: one cancelled`)
    const next = await patientBooks(802, day(4), `P-R${round}`)
    t.equal(next.status, 200, `round ${round + 1}: the next booking takes the freed seat, not a stale refusal`)
    t.equal((await patientBooks(802, day(4), `P-X${round}`)).status, 409, `round ${round + 1}: and the day is full again`)
  }
})

t.test('a new capacity, or any other change of the lane, drops what was known', async (t) => {
  t.equal((await api.post('/api/create_table', { clinic_id: 803, days: { [day(5)]: { capacity_total: 1 } } })).status, 200)
  t.equal((await patientBooks(803, day(5), 'P-1')).status, 200)
  t.equal((await patientBooks(803, day(5), 'P-2')).status, 409)
  // A posted day that exists is updated, when the first posted date is a new one (src/booking/tables.ts).
  const raised = await api.post('/api/create_table', { clinic_id: 803, days: { [day(9)]: { capacity_total: 1 }, [day(5)]: { capacity_total: 2 } } })
  t.equal(raised.status, 200)
  t.equal((await patientBooks(803, day(5), 'P-3')).status, 200, 'the raised capacity is bookable at once')
  t.equal((await patientBooks(803, day(5), 'P-4')).status, 409)
  // A secretary's walk-in past capacity (overbooking) changes the lane: what was known (2/2) is dropped, and the
  // walk-in's own answer (3/2) is what the next refusal says.
  t.match((await patientBooks(803, day(5), 'P-5')).text, /\(2\/2\)/)
  t.equal((await api.post('/api/patient_booking', { clinic_id: 803, name: 'walk-in', phone: PHONE, source: 'secretary_app', date: day(5) })).status, 200)
  t.match((await patientBooks(803, day(5), 'P-6')).text, /\(3\/2\)/, 'the refusal counts the walk-in')
})

t.test('an Idempotency-Key retry is owed its first answer: never answered from memory', async (t) => {
  t.equal((await api.post('/api/create_table', { clinic_id: 804, days: { [day(6)]: { capacity_total: 1 } } })).status, 200)
  const first = await patientBooks(804, day(6), 'P-1', { 'Idempotency-Key': 'full-day-retry-1' })
  t.equal(first.status, 200)
  await sleep(10)
  const retry = await patientBooks(804, day(6), 'P-1', { 'Idempotency-Key': 'full-day-retry-1' })
  t.equal(retry.status, 200, 'the retry of the booking that filled the day replays its 200')
  t.equal(retry.text, first.text)
})

t.test('a day the database found full is known full too, after a change of the lane made the last seat forgotten', async (t) => {
  t.equal((await api.post('/api/create_table', { clinic_id: 805, days: { [day(3)]: { capacity_total: 2 }, [day(4)]: { capacity_total: 5 } } })).status, 200)
  for (const patient of ['P-1', 'P-2']) t.equal((await patientBooks(805, day(3), patient)).status, 200)
  // A walk-in on another day of the clinic changes the lane: what the last seat taught is dropped.
  t.equal((await api.post('/api/patient_booking', { clinic_id: 805, name: 'walk-in', phone: PHONE, source: 'secretary_app', date: day(4) })).status, 200)
  const before = { reservations: await reservations(), refusals: await refusalsFromMemory() }
  t.equal((await patientBooks(805, day(3), 'P-3')).status, 409, 'the database says full')
  t.equal(await reservations(), before.reservations + 1, 'through a transaction')
  const refused = await Promise.all(['P-4', 'P-5', 'P-6'].map((p) => patientBooks(805, day(3), p)))
  t.same(refused.map((r) => r.status), [409, 409, 409])
  t.equal(await reservations(), before.reservations + 1, 'the next ones ran none')
  t.equal(await refusalsFromMemory() - before.refusals, 3, 'refused from memory')
  t.match(refused[0]?.text, /\(2\/2\)/)
})

t.test('with an Idempotency-Key, a day known full is refused after the key is claimed, without a booking transaction', async (t) => {
  t.equal((await api.post('/api/create_table', { clinic_id: 806, days: { [day(5)]: { capacity_total: 1 } } })).status, 200)
  const first = await patientBooks(806, day(5), 'P-1', { 'Idempotency-Key': 'keyed-full-1' })
  t.equal(first.status, 200)
  const before = { reservations: await reservations(), refusals: await refusalsFromMemory() }
  const refused = await Promise.all(['P-2', 'P-3', 'P-4'].map((p, i) => patientBooks(806, day(5), p, { 'Idempotency-Key': `keyed-full-${i + 2}` })))
  t.same(refused.map((r) => r.status), [409, 409, 409])
  t.equal(await reservations(), before.reservations, 'no booking transaction ran')
  t.equal(await refusalsFromMemory() - before.refusals, 3, 'refused from memory')
  const replay = await patientBooks(806, day(5), 'P-1', { 'Idempotency-Key': 'keyed-full-1' })
  t.equal(replay.text, first.text, 'the first key still replays its 200 on the full day')
  t.equal(replay.headers['idempotent-replayed'], 'true')
  const reused = await patientBooks(806, day(5), 'P-9', { 'Idempotency-Key': 'keyed-full-1' })
  t.equal(reused.status, 422, 'a key reused for another request is refused as on the database path')
  const [stored] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM idempotency_keys WHERE key LIKE 'keyed-full-%'`
  t.equal(stored?.n, 1, 'a refusal is never stored under its key')
  // So once a seat is free, the same key books.
  const cancelled = first.json<{ booking_id: string }>().booking_id
  t.equal((await api.post('/api/edit_patient_booking', { clinic_id: 806, booking_id: cancelled, status: 'cancelled' })).status, 200)
  t.equal((await patientBooks(806, day(5), 'P-2', { 'Idempotency-Key': 'keyed-full-2' })).status, 200, 'the refused key books the freed seat')
})
