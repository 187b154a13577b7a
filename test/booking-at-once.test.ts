import t from 'tap'
import { startStack } from './helpers/stack.ts'
import { day } from './helpers/booking-api.ts'
import { Database } from '../src/db/pool.ts'
import { bookRegular, placeRegular, type RegularBookingInput } from '../src/booking/book.ts'
import { DayFull } from '../src/booking/seats.ts'
import { regularBookingId, secretaryBookingId } from '../src/domain/identifiers.ts'
import { ApiError } from '../src/errors.ts'

// A dated booking of a day with room is one statement (placeRegular → bookAtOnce, src/booking/book.ts); everything
// else is the transaction's (bookRegular). The statement must give what the transaction gives, row for row, and
// change nothing when it refuses.

const { api, db, sql } = await startStack(t, { mode: 'in-process' })
const pool = new Database({ url: db.url, max: 2, applicationName: 'tabeby:unit:at-once', queueTimeoutMs: 10_000 })
t.teardown(() => pool.close())
const OPTIONS = { secretaryOverbook: false, horizonDays: 60 }
const DATE = day(2)

async function openDay (clinicId: number, capacity: number, date = DATE): Promise<void> {
  t.equal((await api.post('/api/create_table', { clinic_id: clinicId, days: { [date]: { capacity_total: capacity } } })).status, 200)
}

const input = (clinicId: number, source: RegularBookingInput['source'], patientId: string | null, date = DATE): RegularBookingInput => ({
  clinicId, name: 'مريض', phone: '+9647700000000', source, patientId, date, status: 'booked', createdAt: source === 'secretary_app' ? '2025-11-14T09:00:00' : null, secretaryId: source === 'secretary_app' ? '100001' : null
})

// What a day and its lane hold: the counters, the version, every booking as stored.
async function stateOf (clinicId: number, date = DATE) {
  const [dayRow] = await sql<Array<{ active_count: number, next_seq: number }>>`
    SELECT active_count, next_seq FROM booking_days WHERE clinic_id = ${clinicId} AND lane = 'regular' AND day = ${date} AND status <> 'archived'`
  const [version] = await sql<Array<{ version: string }>>`SELECT version::text FROM lane_versions WHERE clinic_id = ${clinicId} AND lane = 'regular'`
  const bookings = await sql`
    SELECT b.seq, b.token, b.display_id, b.patient_id, b.name, b.phone, b.source, b.status::text, b.secretary_id, b.client_created_at
    FROM bookings b JOIN booking_days d ON d.id = b.day_id WHERE d.clinic_id = ${clinicId} AND d.day = ${date} ORDER BY b.seq`
  return { day: dayRow, version: version?.version ?? null, bookings: bookings.map((b) => ({ ...b })) }
}

// Another clinic's ids and answers read as this one's, to compare the two paths made on two clinics.
const asClinic = (value: unknown, from: number, to: number): unknown => JSON.parse(JSON.stringify(value).replaceAll(`-${from}-`, `-${to}-`).replaceAll(`"clinic_id":${from}`, `"clinic_id":${to}`))

t.test('the statement stores and answers what the transaction does, for each kind of booking', async (t) => {
  // Clinic 701 books through placeRegular (the statement), 702 through the transaction, the same bookings in turn.
  await openDay(701, 10)
  await openDay(702, 10)
  const kinds: Array<[RegularBookingInput['source'], string | null]> = [['patient_app', 'P-1'], ['patient_app', null], ['secretary_app', 'P-2'], ['secretary_app', null]]
  for (const [source, patientId] of kinds) {
    const viaStatement = await placeRegular(pool, input(701, source, patientId), OPTIONS)
    const viaTransaction = await pool.transaction((tx) => bookRegular(tx, input(702, source, patientId), OPTIONS))
    t.same(asClinic(viaStatement.body, 701, 702), viaTransaction.body, `${source}, patient id ${patientId ?? 'none'}: the same answer`)
    t.ok(viaStatement.version > 0, 'with the version it made')
  }
  const [a, b] = [await stateOf(701), await stateOf(702)]
  t.same(asClinic(a.bookings, 701, 702), b.bookings, 'the same rows')
  t.same(a.day, b.day, 'the same counters')
  t.same(a.day, { active_count: 4, next_seq: 5 })
})

t.test('ids past the sequence widths are written whole, as the transaction writes them', async (t) => {
  await openDay(703, 100)
  await sql`UPDATE booking_days SET next_seq = 999 WHERE clinic_id = 703 AND day = ${DATE}`
  const walkIns = [await placeRegular(pool, input(703, 'secretary_app', null), OPTIONS), await placeRegular(pool, input(703, 'secretary_app', null), OPTIONS)]
  t.same(walkIns.map((w) => [w.body['booking_id'], w.body['patient_id']]), [[`S-703-${DATE.replaceAll('-', '')}-999`, '999'], [`S-703-${DATE.replaceAll('-', '')}-1000`, '1000']])
  t.same(walkIns.map((w) => w.body['booking_id']), [secretaryBookingId(703, DATE, 999), secretaryBookingId(703, DATE, 1000)], 'as secretaryBookingId writes them')
  await sql`UPDATE booking_days SET next_seq = 9999 WHERE clinic_id = 703 AND day = ${DATE}`
  const patients = [await placeRegular(pool, input(703, 'patient_app', null), OPTIONS), await placeRegular(pool, input(703, 'patient_app', null), OPTIONS)]
  t.same(patients.map((p) => p.body['booking_id']), [`B-703-${DATE.replaceAll('-', '')}-9999`, `B-703-${DATE.replaceAll('-', '')}-10000`])
  t.same(patients.map((p) => p.body['booking_id']), [regularBookingId(703, DATE, 9999), regularBookingId(703, DATE, 10000)], 'as regularBookingId writes them')
  t.same(patients.map((p) => p.body['patient_id']), patients.map((p) => p.body['booking_id']), 'a patient without an id is known by the booking id')
})

async function refusal (work: Promise<unknown>): Promise<ApiError> {
  try {
    await work
  } catch (error) {
    if (error instanceof ApiError) return error
    throw error
  }
  throw new Error('not refused')
}

t.test('a patient already booked that day: 409 naming the booking, and the seat and version are not taken', async (t) => {
  await openDay(704, 10)
  const first = await placeRegular(pool, input(704, 'patient_app', 'P-9'), OPTIONS)
  const before = await stateOf(704)
  const again = await refusal(placeRegular(pool, input(704, 'patient_app', 'P-9'), OPTIONS))
  t.equal(again.status, 409)
  t.match(again.body, { booking_id: first.body['booking_id'], token: first.body['token'] })
  t.same(await stateOf(704), before, 'nothing changed')
})

t.test('a full day is refused by the statement itself, with the version of its reading', async (t) => {
  await openDay(705, 2)
  await placeRegular(pool, input(705, 'patient_app', 'P-1'), OPTIONS)
  const last = await placeRegular(pool, input(705, 'secretary_app', 'P-2'), OPTIONS)
  const before = await stateOf(705)
  const full = await refusal(placeRegular(pool, input(705, 'patient_app', 'P-3'), OPTIONS))
  t.ok(full instanceof DayFull, 'a DayFull, so the worker learns the day')
  t.match(full, { status: 409, date: DATE, active: 2, capacity: 2, version: last.version })
  t.same(await stateOf(705), before, 'nothing changed')
})

t.test('what the statement does not settle is the transaction\'s: a clinic that refuses, a closed day, a day to create', async (t) => {
  await sql`INSERT INTO clinics (id, status) VALUES (706, 'inactive')`
  await openDay(706, 5)
  const inactive = await refusal(placeRegular(pool, input(706, 'patient_app', 'P-1'), OPTIONS))
  t.match(inactive, { status: 409, code: 'doctor_inactive' })
  t.same((await stateOf(706)).day, { active_count: 0, next_seq: 1 }, 'no seat taken')
  t.equal((await placeRegular(pool, input(706, 'secretary_app', 'P-2'), OPTIONS)).body['token'], 1, 'the desk books walk-ins all the same')

  await openDay(707, 5)
  t.equal((await api.post('/api/close_table', { clinic_id: 707, date: DATE })).status, 200)
  const closed = await refusal(placeRegular(pool, input(707, 'patient_app', 'P-1'), OPTIONS))
  t.match(closed, { status: 409, code: 'day_closed' })

  const created = await placeRegular(pool, input(708, 'patient_app', 'P-1', day(4)), OPTIONS)
  t.match(created.body, { token: 1, date: day(4) }, 'a day created on the way')
})

t.test('a walk-in without a patient id whose sequence is already someone\'s patient id that day: the transaction\'s 409, nothing taken', async (t) => {
  await openDay(709, 10)
  const first = await placeRegular(pool, input(709, 'patient_app', '002'), OPTIONS) // seq 1, patient id "002"
  const before = await stateOf(709)
  const walkIn = await refusal(placeRegular(pool, input(709, 'secretary_app', null), OPTIONS)) // seq 2 would be "002"
  t.match(walkIn, { status: 409, body: { booking_id: first.body['booking_id'] } })
  t.same(await stateOf(709), before, 'nothing changed')
})
