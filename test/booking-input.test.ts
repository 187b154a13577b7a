import t from 'tap'
import { weekdayOf } from '../src/domain/calendar.ts'
import { request, startDatabase, startServer, type Response } from './helpers/server.ts'
import { SECRET, connect, digests } from './helpers/legacy-client.ts'
import { arabicWeekday, bookingApi, day, type BookingAnswer, type DaysBody, type DetailBody, type Json, type ValidationBody } from './helpers/booking-api.ts'
import { bearer, login, withAdmin } from './helpers/admin.ts'

// What a booking accepts (issue "holes found by an exploratory review", items 9 and 10): the dates a patient may
// book (BOOKING_HORIZON_DAYS, the doctor's working days, no past golden dates), messages that say what happened, one
// validation issue per wrong field, and input kept exactly as sent or refused: never an unpaired surrogate stored as
// U+FFFD, never a patient_id rounded past 2^53, never a doctor filed under another clinic id than the one posted.

const HORIZON = 20
const db = await startDatabase()
t.teardown(db.destroy)
const server = await startServer({ env: withAdmin(db.url, { BOOKING_HORIZON_DAYS: String(HORIZON) }) })
t.teardown(server.cleanup)
const sql = connect(db.url)
t.teardown(() => sql.end())
const api = bookingApi(server)
const PHONE = '+9647701234567'
const TABLES = ['booking_days', 'bookings', 'clinics'] as const

const regular = (body: Record<string, Json>) => api.post('/api/patient_booking', { name: 'مريض', phone: PHONE, ...body })
const golden = (body: Record<string, Json>) => api.post('/api/patient_golden_booking', { name: 'مريض', phone: PHONE, ...body })
const detailOf = (res: Response) => res.json<DetailBody>()
const issuesOf = (res: Response) => res.json<ValidationBody>().detail

t.test(`BOOKING_HORIZON_DAYS (${HORIZON} here): the patient app books up to that many days ahead`, async (t) => {
  t.equal((await regular({ clinic_id: 901, date: day(HORIZON), patient_id: 'P-1' })).status, 200, 'the last day of the horizon')
  const beyond = await regular({ clinic_id: 901, date: day(HORIZON + 1), patient_id: 'P-1' })
  t.equal(beyond.status, 400)
  t.same(beyond.json(), { detail: `لا يمكن الحجز لأكثر من ${HORIZON} يوماً مقدماً`, code: 'beyond_booking_horizon', date: day(HORIZON + 1), horizon_days: HORIZON })
  t.equal((await regular({ clinic_id: 901, date: '2999-12-31' })).status, 400, 'legacy booked 2999-12-31')
  t.equal((await golden({ clinic_id: 901, date: day(HORIZON + 1), patient_id: 'P-1' })).status, 400, 'the golden queue too')
  t.equal((await golden({ clinic_id: 901, date: day(HORIZON), patient_id: 'P-1' })).status, 200)
  t.equal((await regular({ clinic_id: 901, date: day(HORIZON + 10), source: 'secretary_app' })).status, 200,
    'the horizon is the patient app\'s: a secretary books the dates the clinic gives')
  t.notOk(day(HORIZON + 1) in (await api.get('/api/booking_days?clinic_id=901')).json<DaysBody>().days, 'no day was created beyond it')
})

t.test('a golden booking for a past date is refused, as a regular one is', async (t) => {
  const before = await digests(sql, TABLES)
  const res = await golden({ clinic_id: 902, date: day(-1), patient_id: 'P-1' })
  t.equal(res.status, 400)
  t.same(res.json(), { detail: 'لا يمكن الحجز في تاريخ سابق', code: 'past_date', date: day(-1) })
  t.same(await digests(sql, TABLES), before, 'nothing was written')
})

t.test('a dated patient-app booking on a day the doctor does not work is refused, unless the clinic opened that day', async (t) => {
  // The doctor works every day but the one of day(5).
  const off = weekdayOf(day(5))
  const clinicDays = { from: arabicWeekday[(off + 1) % 7] as string, to: arabicWeekday[(off + 6) % 7] as string }
  await sql`INSERT INTO clinics (id, profile) VALUES (903, ${sql.json({ clinic_days: clinicDays })}), (904, ${sql.json({ clinic_days: clinicDays })})`

  const refused = await regular({ clinic_id: 903, date: day(5), patient_id: 'P-1' })
  t.equal(refused.status, 409)
  t.same(refused.json(), { detail: 'العيادة لا تعمل في هذا اليوم، يرجى اختيار يوم آخر', code: 'not_working_day', date: day(5) })
  t.equal((await regular({ clinic_id: 903, date: day(4), patient_id: 'P-1' })).status, 200, 'a working day is booked')
  t.equal((await regular({ clinic_id: 903, date: day(5), source: 'secretary_app' })).status, 200, 'the secretary books a walk-in on it')
  t.equal((await regular({ clinic_id: 903, date: day(5), patient_id: 'P-2' })).status, 200, 'and the day the clinic opened takes bookings')

  const goldenRefused = await golden({ clinic_id: 904, date: day(5), patient_id: 'P-1', auto_assign: false })
  t.equal(goldenRefused.status, 409)
  t.equal(detailOf(goldenRefused).code, 'not_working_day')
  const moved = await golden({ clinic_id: 904, date: day(5), patient_id: 'P-1' })
  t.equal(moved.status, 200)
  t.equal(moved.json<BookingAnswer>().date, day(6), 'auto_assign moves to the next working day')
  t.equal(moved.json<BookingAnswer>().message, `تم الحجز بنجاح بأسم: مريض (تم الحجز في ${day(6)} لأن ${day(5)} ليس من أيام عمل العيادة)`,
    'and says why, instead of "full"')
})

t.test('auto_assign says a closed day was closed, and a full one full', async (t) => {
  await api.post('/api/create_golden_table', { clinic_id: 905, days: { [day(3)]: { capacity_total: 3, status: 'closed' }, [day(7)]: { capacity_total: 1 } } })
  const fromClosed = await golden({ clinic_id: 905, date: day(3), patient_id: 'P-1' })
  t.equal(fromClosed.json<BookingAnswer>().message, `تم الحجز بنجاح بأسم: مريض (تم الحجز في ${day(4)} لأن ${day(3)} مغلق)`)
  t.equal((await golden({ clinic_id: 905, date: day(7), patient_id: 'P-2' })).status, 200)
  const fromFull = await golden({ clinic_id: 905, date: day(7), patient_id: 'P-3' })
  t.equal(fromFull.json<BookingAnswer>().message, `تم الحجز بنجاح بأسم: مريض (تم الحجز في ${day(8)} لأن ${day(7)} ممتلئ)`, 'legacy\'s words')
})

t.test(`no day found: the message states the days searched and BOOKING_HORIZON_DAYS (${HORIZON}), not a fixed "30 days"`, async (t) => {
  // The regular search: today and the next HORIZON days, every one of them closed.
  const days: Record<string, Json> = {}
  for (let i = 0; i <= HORIZON; i++) days[day(i)] = { capacity_total: 1, status: 'closed' }
  t.equal((await api.post('/api/create_table', { clinic_id: 906, days })).status, 200)
  const none = await regular({ clinic_id: 906, patient_id: 'P-1' })
  t.equal(none.status, 400)
  t.same(none.json(), {
    detail: `لا يوجد أيام متاحة خلال الـ ${HORIZON + 1} يوم القادمة (الحجز متاح حتى ${HORIZON} يوماً مقدماً)`,
    code: 'no_days_available',
    days_searched: HORIZON + 1,
    horizon_days: HORIZON
  })

  // The golden search from the horizon's last day has that one day to look at.
  await api.post('/api/create_golden_table', { clinic_id: 906, days: { [day(HORIZON)]: { capacity_total: 1 } } })
  t.equal((await golden({ clinic_id: 906, date: day(HORIZON), patient_id: 'P-2' })).status, 200)
  const full = await golden({ clinic_id: 906, date: day(HORIZON), patient_id: 'P-3', auto_assign: true })
  t.equal(full.status, 400)
  t.match(full.json(), { code: 'no_days_available', days_searched: 1, horizon_days: HORIZON })
})

t.test('one validation issue per wrong field, naming it', async (t) => {
  for (const [what, res] of [
    ['clinic_id 1e308', await regular({ clinic_id: 1e308, date: day(2) })],
    ['clinic_id "abc"', await regular({ clinic_id: 'abc', date: day(2) })],
    ['golden clinic_id 1e308', await golden({ clinic_id: 1e308, date: day(2), patient_id: 'P-1' })],
    ['create_table clinic_id 1e308', await api.post('/api/create_table', { clinic_id: 1e308, days: { [day(2)]: { capacity_total: 1 } } })],
    ['capacity_total 1e308', await api.post('/api/create_table', { clinic_id: 906, days: { [day(2)]: { capacity_total: 1e308 } } })]
  ] as const) {
    t.equal(res.status, 422, what)
    t.equal(issuesOf(res).length, 1, `${what}: one issue (${JSON.stringify(issuesOf(res))})`)
  }
  t.match(issuesOf(await regular({ clinic_id: 1e308 }))[0], { loc: ['body', 'clinic_id'], msg: 'clinic_id must be a positive integer' })

  const missing = await golden({ clinic_id: 906, date: day(2) })
  t.equal(missing.status, 422)
  t.same(issuesOf(missing).map((i) => [i.loc.join('.'), i.msg]), [['body.patient_id', 'patient_id is required']], 'says which field is missing')
})

t.test('an unpaired surrogate is refused with 400 and stores nothing; a real pair is kept exactly', async (t) => {
  const before = await digests(sql, TABLES)
  const body = (name: string) => `{"clinic_id": 907, "name": "${name}", "phone": "${PHONE}", "source": "secretary_app", "date": "${day(2)}"}`
  for (const name of ['a\\ud800b', '\\udc00', 'x\\ud83d']) {
    const res = await api.postRaw('/api/patient_booking', body(name))
    t.equal(res.status, 400, name)
    t.same(res.json(), { detail: 'text must not contain an unpaired UTF-16 surrogate (\\ud800-\\udfff)', code: 'unpaired_surrogate' })
  }
  const inKey = await api.postRaw('/api/patient_golden_booking', `{"clinic_id": 907, "\\ud800": 1, "date": "${day(2)}", "patient_id": "P-1", "name": "x", "phone": "${PHONE}"}`)
  t.equal(inKey.status, 400, 'in a key too')
  t.same(await digests(sql, TABLES), before, 'nothing was written')

  const kept = await api.postRaw('/api/patient_booking', body('طبيب \\ud83d\\ude00'))
  t.equal(kept.status, 200)
  const stored = (await api.get('/api/booking_days?clinic_id=907')).json<DaysBody>().days[day(2)]?.patients[0]?.name
  t.equal(stored, 'طبيب 😀', 'an escaped pair is one character, stored as sent')

  // The doctors router answers in its own shape.
  const { accessToken } = await login(server.url)
  const doctor = await request(`${server.url}/api/doctors`, {
    method: 'POST', headers: { ...bearer(accessToken), 'Doctor-Secret': SECRET, 'Content-Type': 'application/json' }, body: '{"general_info": {"doctor_name": "\\udfff"}}'
  })
  t.equal(doctor.status, 400)
  t.same(doctor.json(), { error: { code: 'bad_request', message: 'text must not contain NUL characters or unpaired surrogates' } })
})

t.test('a numeric patient_id past 2^53 is refused; below it, kept as its exact digits', async (t) => {
  const before = await digests(sql, TABLES)
  for (const path of ['/api/patient_booking', '/api/patient_golden_booking']) {
    const res = await api.postRaw(path, `{"clinic_id": 908, "name": "x", "phone": "${PHONE}", "source": "secretary_app", "date": "${day(2)}", "patient_id": 123456789012345678901234567890}`)
    t.equal(res.status, 422, path)
    t.same(issuesOf(res).map((i) => i.loc.join('.')), ['body.patient_id'], `${path}: one issue, on patient_id`)
    t.match(issuesOf(res)[0]?.msg, /send it as a string/)
  }
  t.same(await digests(sql, TABLES), before, 'nothing was stored as 1.2345678901234568e+29')
  const exact = await api.postRaw('/api/patient_booking', `{"clinic_id": 908, "name": "x", "phone": "${PHONE}", "source": "secretary_app", "date": "${day(2)}", "patient_id": 9007199254740991}`)
  t.equal(exact.json<BookingAnswer>().patient_id, '9007199254740991')
  const asText = await api.postRaw('/api/patient_booking', `{"clinic_id": 908, "name": "y", "phone": "${PHONE}", "source": "secretary_app", "date": "${day(2)}", "patient_id": "123456789012345678901234567890"}`)
  t.equal(asText.json<BookingAnswer>().patient_id, '123456789012345678901234567890', 'as a string, any length up to 64')
})

t.test('POST /api/doctors with general_info.clinic_id files the doctor under that id, or refuses a clash', async (t) => {
  const { accessToken } = await login(server.url)
  const create = (body: Json) => request(`${server.url}/api/doctors`, {
    method: 'POST', headers: { ...bearer(accessToken), 'Doctor-Secret': SECRET, 'Content-Type': 'application/json' }, body: JSON.stringify(body)
  })
  const created = await create({ general_info: { clinic_id: 4321, doctor_name: 'د. ليلى' } })
  t.equal(created.status, 200)
  t.same(created.json(), { id: 4321 })
  const found = await api.get('/api/doctors/clinic/4321')
  t.equal(found.status, 200, '/api/doctors/clinic/{id} finds it')
  t.match(found.json(), { id: 4321, profile: { general_info: { clinic_id: 4321, doctor_name: 'د. ليلى' } } })
  t.same((await create({ profile: { general_info: { clinic_id: '٤٣٢٢' } } })).json(), { id: 4322 }, 'Arabic digits, inside profile')

  const before = await digests(sql, TABLES)
  const clash = await create({ general_info: { clinic_id: 4321, doctor_name: 'آخر' } })
  t.equal(clash.status, 409)
  t.same(clash.json(), { error: { code: 'clinic_id_taken', message: "general_info.clinic_id 4321 is already another doctor's clinic id" } })
  const invalid = await create({ general_info: { clinic_id: 'abc' } })
  t.equal(invalid.status, 400)
  t.same(invalid.json(), { error: { code: 'bad_request', message: 'general_info.clinic_id must be a positive integer' } })
  t.same(await digests(sql, TABLES), before, 'neither wrote anything')
  t.same((await create({ general_info: { doctor_name: 'بلا رقم' } })).json(), { id: 4323 }, 'without one: the next id, as before')
})
