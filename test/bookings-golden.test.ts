import t from 'tap'
import { waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'
import {
  bad, compact, day, framesOf, shapeOf, sortedShape,
  type ArchivesBody, type BookingAnswer, type DaysBody, type DetailBody, type Json, type ValidationBody, sendMalformed, type BurstRoute
} from './helpers/booking-api.ts'

// The golden (paid) queue's wire contract (legacy-api.md §2.14, §3.10; contract.md §2): what the patient and
// secretary apps send and read back on the premium lane.

const { api } = await startStack(t, { mode: 'in-process' })

const text = {
  created: 'تم الانشاء بنجاح',
  listCreated: (date: string) => `تم انشاء القائمة بهذا التاريخ: ${date}`,
  bookedAs: (name: string) => `تم الحجز بنجاح بأسم: ${name}`,
  movedBecauseFull: (name: string, final: string, requested: string) => `تم الحجز بنجاح بأسم: ${name} (تم الحجز في ${final} لأن ${requested} ممتلئ)`,
  booked: 'تم الحجز',
  served: 'تمت المعاينة',
  noShow: 'لم يحضر',
  cancelled: 'ملغى',
  statusUpdated: 'تم تحديث حالة الحجز الذهبي بنجاح',
  noGoldenTable: 'لا يوجد جدول Golden لهذه العيادة',
  alreadyBooked: 'هذا المريض محجوز مسبقاً في هذا التاريخ',
  bookingNotFound: 'الحجز غير موجود داخل هذا التاريخ',
  dateNotFound: 'التاريخ غير موجود',
  codeNotFound: 'الكود غير صحيح أو غير موجود',
  dayArchived: 'تم إغلاق وحفظ اليوم في الأرشيف بنجاح',
  dayArchivedAllRemoved: 'تم إغلاق وحفظ اليوم في الأرشيف، وحذف القائمة بالكامل',
  savedAndRemoved: 'day saved to archive and removed from the table'
}

const goldenAnswerShape = sortedShape({
  message: 'string', code: 'string', booking_id: 'string', token: 'number', capacity_used: 'number', capacity_total: 'number',
  status: 'string', clinic_id: 'number', date: 'string', patient_id: 'string'
})

// Golden entries carry the 4-digit code and no source (legacy-api.md §1.4).
const goldenEntryShape = sortedShape({
  booking_id: 'string', token: 'number', patient_id: 'string', name: 'string', phone: 'string', status: 'string', code: 'string', created_at: 'string'
})

// `message` is there, null, on a success too: pydantic sent every field of the response model (issue 9 item 7).
const verifyShape = sortedShape({
  status: 'string', message: 'null', patient_name: 'string', patient_phone: 'string', patient_id: 'string', booking_id: 'string', token: 'number',
  booking_status: 'string', booking_date: 'string'
})

const verifyErrorShape = sortedShape({
  status: 'string', message: 'string', patient_name: 'null', patient_phone: 'null', patient_id: 'null', booking_id: 'null', token: 'null',
  booking_status: 'null', booking_date: 'null'
})

const PHONE = '+9647701234567'

async function createGolden (clinicId: number, days: Record<string, Record<string, Json>>): Promise<void> {
  const res = await api.post('/api/create_golden_table', { clinic_id: clinicId, days })
  if (res.status !== 200) throw new Error(`create_golden_table ${clinicId}: ${res.status} ${res.text}`)
}

async function goldenBooks (clinicId: number, date: string, patientId: string, name = 'مراجع', autoAssign = true): Promise<BookingAnswer> {
  const res = await api.post('/api/patient_golden_booking', { clinic_id: clinicId, date, patient_id: patientId, name, phone: PHONE, auto_assign: autoAssign })
  if (res.status !== 200) throw new Error(`golden booking ${clinicId} ${date}: ${res.status} ${res.text}`)
  return res.json<BookingAnswer>()
}

async function goldenDaysOf (clinicId: number): Promise<DaysBody> {
  const res = await api.get(`/api/booking_golden_days?clinic_id=${clinicId}`)
  if (res.status !== 200) throw new Error(`booking_golden_days ${clinicId}: ${res.status} ${res.text}`)
  return res.json<DaysBody>()
}

async function goldenArchivesOf (clinicId: number, query = ''): Promise<ArchivesBody> {
  const res = await api.get(`/api/golden_booking_archives/${clinicId}${query}`)
  if (res.status !== 200) throw new Error(`golden_booking_archives ${clinicId}: ${res.status} ${res.text}`)
  return res.json<ArchivesBody>()
}

async function verify (body: Record<string, Json>): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await api.post('/api/verify_golden_code', body)
  return { status: res.status, body: res.json() }
}

t.test('create_golden_table', async (t) => {
  t.test('answers "created" for the first date and merges the days, overwriting a posted day that exists', async (t) => {
    const res = await api.post('/api/create_golden_table', { clinic_id: 201, days: { [day(12)]: { capacity_total: 1 }, [day(10)]: { capacity_total: 3 } } })
    t.equal(res.status, 200)
    t.has(res.json(), { status: text.created, message: text.listCreated(day(12)) })

    const again = await api.post('/api/create_golden_table', { clinic_id: 201, days: { [day(12)]: { capacity_total: 2, inline_next: 1 } } })
    t.equal(again.status, 200, 'no "exists" answer on the golden queue')
    t.has(again.json(), { status: text.created, message: text.listCreated(day(12)) })

    const { clinic_id: clinicId, days } = await goldenDaysOf(201)
    t.equal(clinicId, 201)
    t.same(Object.keys(days), [day(10), day(12)], 'sorted by date')
    t.same(days[day(12)], { source: 'patient_app', status: 'open', capacity_total: 2, capacity_used: 0, patients: [] }, 'the posted day replaced the old one; inline_next dropped')
  })

  t.test('needs no capacity: a golden day without one gets the clinic\'s golden capacity (5)', async (t) => {
    const res = await api.post('/api/create_golden_table', { clinic_id: 202, days: { [day(12)]: {} } })
    t.equal(res.status, 200)
    t.equal((await goldenDaysOf(202)).days[day(12)]?.capacity_total, 5)
  })

  t.test('refuses an empty days object and an impossible date key', async (t) => {
    const empty = await api.post('/api/create_golden_table', { clinic_id: 203, days: {} })
    t.equal(empty.status, 400)
    t.equal(empty.json<DetailBody>().detail, 'days must contain at least one date key')
    const impossible = await api.post('/api/create_golden_table', { clinic_id: 203, days: { '2025-02-29': {} } })
    t.equal(impossible.status, 422)
    t.equal(impossible.json<ValidationBody>().detail[0]?.loc[0], 'body')
  })
})

t.test('booking_golden_days, booking_golden_days_old and all_days_golden', async (t) => {
  t.test('a clinic without golden days: 404 with the Arabic detail, all_days_golden {}', async (t) => {
    const days = await api.get('/api/booking_golden_days?clinic_id=210')
    t.equal(days.status, 404)
    t.equal(days.json<DetailBody>().detail, text.noGoldenTable)
    const old = await api.get('/api/booking_golden_days_old?clinic_id=210')
    t.equal(old.status, 404)
    const all = await api.get('/api/all_days_golden?clinic_id=210')
    t.equal(all.status, 200)
    t.same(all.json(), { clinic_id: 210, days: {} })
  })

  t.test('the old reader, all_days_golden and the /backend mirror show the same days', async (t) => {
    await createGolden(211, { [day(11)]: { capacity_total: 3 } })
    await goldenBooks(211, day(11), 'P-1')
    const current = await goldenDaysOf(211)
    for (const path of ['/api/booking_golden_days_old?clinic_id=211', '/api/all_days_golden?clinic_id=211', '/backend/api/booking_golden_days?clinic_id=211']) {
      const res = await api.get(path)
      t.equal(res.status, 200, path)
      t.same(res.json(), current, path)
    }
  })

  t.test('the regular and golden queues of one clinic are separate', async (t) => {
    await createGolden(212, { [day(11)]: { capacity_total: 3 } })
    t.equal((await api.get('/api/booking_days?clinic_id=212')).status, 404)
    t.same((await api.get('/api/all_days?clinic_id=212')).json(), { clinic_id: 212, days: {} })
  })

  t.test('an unchanged golden day list answers 304 to If-None-Match', async (t) => {
    await createGolden(213, { [day(11)]: { capacity_total: 3 } })
    const first = await api.get('/api/booking_golden_days?clinic_id=213')
    const etag = first.headers.etag
    t.type(etag, 'string')
    if (typeof etag !== 'string') return
    const again = await api.get('/api/booking_golden_days?clinic_id=213', { headers: { 'If-None-Match': etag } })
    t.equal(again.status, 304)
    t.equal(again.text, '')
    await goldenBooks(213, day(11), 'P-1')
    const changed = await api.get('/api/booking_golden_days?clinic_id=213', { headers: { 'If-None-Match': etag } })
    t.equal(changed.status, 200)
    t.not(changed.headers.etag, etag)
  })

  t.test('stream=true answers Server-Sent Events: a snapshot of the golden days, then an update', async (t) => {
    await createGolden(214, { [day(11)]: { capacity_total: 3 } })
    const stream = await api.openStream('/api/booking_golden_days?clinic_id=214&stream=true', { 'Doctor-Secret': 'dev-secret' })
    t.teardown(stream.close)
    t.equal(stream.status, 200)
    t.match(String(stream.headers['content-type']), /^text\/event-stream/)
    const snapshot = await waitFor('the snapshot frame', async () => framesOf(stream.text()).find((f) => f.event === 'snapshot'))
    const payload = JSON.parse(snapshot.data) as { clinic_id: number, days: Record<string, unknown>, hash: string }
    t.same(Object.keys(payload), ['clinic_id', 'days', 'hash'])
    t.same(payload.days, (await goldenDaysOf(214)).days)
    const booked = await goldenBooks(214, day(11), 'P-1')
    const update = await waitFor('an update frame', async () => framesOf(stream.text()).find((f) => f.event === 'update'))
    const updated = JSON.parse(update.data) as { days: Record<string, { patients: Array<{ code: string }> }> }
    t.equal(updated.days[day(11)]?.patients[0]?.code, booked.code, 'the update carries the new booking with its code')
  })

  t.test('a golden stream for a clinic without golden days sends the golden 404 detail', async (t) => {
    const stream = await api.openStream('/api/booking_golden_days?clinic_id=215&stream=true', { 'Doctor-Secret': 'dev-secret' })
    t.teardown(stream.close)
    const error = await waitFor('the error frame', async () => framesOf(stream.text()).find((f) => f.event === 'error'))
    t.equal((JSON.parse(error.data) as { error: string }).error, `404: ${text.noGoldenTable}`, 'the golden detail, not the regular one')
  })
})

t.test('patient_golden_booking', async (t) => {
  t.test('answers the legacy fields with a 4-digit code and G-<clinic>-<YYYYMMDD>-NNNN', async (t) => {
    const res = await api.post('/api/patient_golden_booking', { clinic_id: 4, date: day(10), patient_id: 'P-71', name: 'عمر احمد', phone: PHONE, auto_assign: true })
    t.equal(res.status, 200)
    const body = res.json<BookingAnswer>()
    t.same(shapeOf(body), goldenAnswerShape)
    t.match(body.code, /^[1-9]\d{3}$/, 'code is a 4-digit string 1000-9999')
    t.same(body, {
      message: text.bookedAs('عمر احمد'), code: body.code, booking_id: `G-4-${compact(day(10))}-0001`, token: 1, capacity_used: 1,
      capacity_total: 5, status: text.booked, clinic_id: 4, date: day(10), patient_id: 'P-71'
    }, 'a day created by a golden booking has capacity 5')

    const entry = (await goldenDaysOf(4)).days[day(10)]?.patients[0]
    t.same(shapeOf(entry), goldenEntryShape, 'golden entries have a code and no source')
    t.has(entry, { booking_id: body.booking_id, token: 1, patient_id: 'P-71', name: 'عمر احمد', phone: PHONE, status: text.booked, code: body.code })
    t.match(entry?.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  })

  t.test('a numeric patient_id is answered as a string; auto_assign may be sent as "false"', async (t) => {
    const res = await api.post('/api/patient_golden_booking', { clinic_id: 220, date: day(10), patient_id: 71, name: 'x', phone: PHONE, auto_assign: 'false' })
    t.equal(res.status, 200)
    t.equal(res.json<BookingAnswer>().patient_id, '71')
  })

  t.test('tokens, capacity_used and booking ids count up; codes differ within a day', async (t) => {
    await createGolden(221, { [day(10)]: { capacity_total: 4 } })
    const answers: BookingAnswer[] = []
    for (const id of ['P-1', 'P-2', 'P-3', 'P-4']) answers.push(await goldenBooks(221, day(10), id))
    t.same(answers.map((a) => [a.token, a.capacity_used, a.capacity_total, a.booking_id]), [1, 2, 3, 4].map((n) => [n, n, 4, `G-221-${compact(day(10))}-000${n}`]))
    t.equal(new Set(answers.map((a) => a.code)).size, 4, 'four distinct codes')
  })

  t.test('auto_assign moves a booking to the next day when the requested one is full, and says so', async (t) => {
    await createGolden(222, { [day(10)]: { capacity_total: 1 } })
    await goldenBooks(222, day(10), 'P-1')
    const moved = await goldenBooks(222, day(10), 'P-2', 'زينب')
    t.has(moved, {
      message: text.movedBecauseFull('زينب', day(11), day(10)), date: day(11), token: 1, capacity_used: 1, capacity_total: 5,
      booking_id: `G-222-${compact(day(11))}-0001`
    })
    t.same(Object.keys((await goldenDaysOf(222)).days), [day(10), day(11)])
  })

  t.test('auto_assign skips a closed golden day', async (t) => {
    await createGolden(223, { [day(10)]: { capacity_total: 3, status: 'closed' } })
    const moved = await goldenBooks(223, day(10), 'P-1')
    t.equal(moved.date, day(11))
  })

  t.test('without auto_assign a full day answers 409 with an Arabic detail', async (t) => {
    await createGolden(224, { [day(10)]: { capacity_total: 1 } })
    await goldenBooks(224, day(10), 'P-1')
    const res = await api.post('/api/patient_golden_booking', { clinic_id: 224, date: day(10), patient_id: 'P-2', name: 'x', phone: PHONE, auto_assign: false })
    t.equal(res.status, 409)
    t.same(res.json(), { detail: 'هذا اليوم ممتلئ (1/1)، يرجى اختيار يوم آخر', code: 'day_full', date: day(10), capacity_used: 1, capacity_total: 1 })
    t.same(Object.keys((await goldenDaysOf(224)).days), [day(10)], 'no other day was created')
  })

  t.test('the same patient twice on a day answers 409 naming the booking, with or without auto_assign', async (t) => {
    const first = await goldenBooks(225, day(10), 'P-71')
    for (const autoAssign of [true, false]) {
      const res = await api.post('/api/patient_golden_booking', { clinic_id: 225, date: day(10), patient_id: 'P-71', name: 'x', phone: PHONE, auto_assign: autoAssign })
      t.equal(res.status, 409, `auto_assign ${String(autoAssign)}`)
      t.same(res.json(), { detail: text.alreadyBooked, code: 'already_booked', booking_id: first.booking_id, date: day(10), token: 1 })
    }
    t.same(Object.keys((await goldenDaysOf(225)).days), [day(10)], 'not moved to the next day')
  })

  t.test('an invalid or missing date is refused', async (t) => {
    for (const date of ['2025-02-30', '10/12/2025', '']) {
      const res = await api.post('/api/patient_golden_booking', { clinic_id: 226, date, patient_id: 'P-1', name: 'x', phone: PHONE })
      t.ok(res.status === 400 || res.status === 422, `${JSON.stringify(date)} → ${res.status}`)
    }
    const missing = await api.post('/api/patient_golden_booking', { clinic_id: 226, patient_id: 'P-1', name: 'x', phone: PHONE })
    t.equal(missing.status, 422)
    t.same(missing.json<ValidationBody>().detail[0]?.loc, ['body', 'date'])
    t.equal((await api.get('/api/booking_golden_days?clinic_id=226')).status, 404)
  })

  t.test('a missing or zero clinic_id is refused with "clinic_id must be sent"', async (t) => {
    const res = await api.post('/api/patient_golden_booking', { clinic_id: 0, date: day(10), patient_id: 'P-1', name: 'x', phone: PHONE })
    t.equal(res.status, 400)
    t.equal(res.json<DetailBody>().detail, 'clinic_id must be sent')
  })

  t.test('the /backend mirror books like /api', async (t) => {
    const res = await api.post('/backend/api/patient_golden_booking', { clinic_id: 227, date: day(10), patient_id: 'P-1', name: 'x', phone: PHONE })
    t.equal(res.status, 200)
    t.equal(res.json<BookingAnswer>().booking_id, `G-227-${compact(day(10))}-0001`)
  })

  t.test('dates past 2999 are refused at the door, dates past the booking horizon by it: auto_assign never walks past it', async (t) => {
    const created = await api.post('/api/create_golden_table', { clinic_id: 228, days: { '9999-12-31': { capacity_total: 1 } } })
    t.equal(created.status, 422)
    const res = await api.post('/api/patient_golden_booking', { clinic_id: 228, date: '9999-12-31', patient_id: 'P-2', name: 'x', phone: PHONE })
    t.equal(res.status, 422, `answered ${res.status}`)
    const far = await api.post('/api/patient_golden_booking', { clinic_id: 228, date: '2999-12-31', patient_id: 'P-2', name: 'x', phone: PHONE })
    t.equal(far.status, 400, 'BOOKING_HORIZON_DAYS (60 by default)')
    t.equal(far.json<DetailBody>().code, 'beyond_booking_horizon')
    await createGolden(228, { [day(60)]: { capacity_total: 1 } })
    await goldenBooks(228, day(60), 'P-1')
    const next = await api.post('/api/patient_golden_booking', { clinic_id: 228, date: day(60), patient_id: 'P-2', name: 'x', phone: PHONE })
    t.equal(next.status, 400, 'the horizon\'s last day full: auto_assign does not go past it')
    t.equal(next.json<DetailBody>().code, 'no_days_available')
  })
})

t.test('edit_patient_gold_booking', async (t) => {
  t.test('answers new_status normalized to Arabic and the golden message', async (t) => {
    const booked = await goldenBooks(230, day(10), 'P-71')
    const res = await api.post('/api/edit_patient_gold_booking', { clinic_id: 230, booking_id: booked.booking_id, status: 'served' })
    t.equal(res.status, 200)
    t.same(res.json(), {
      message: text.statusUpdated, clinic_id: 230, booking_id: booked.booking_id, old_status: text.booked, new_status: text.served, patient_id: 'P-71'
    })
    t.equal((await goldenDaysOf(230)).days[day(10)]?.patients[0]?.status, text.served)
    const noShow = await api.post('/api/edit_patient_gold_booking', { clinic_id: 230, booking_id: booked.booking_id, status: 'NO_SHOW' })
    t.has(noShow.json(), { old_status: text.served, new_status: text.noShow })
  })

  t.test('a token sent with the edit must match the booking\'s', async (t) => {
    await createGolden(231, { [day(10)]: { capacity_total: 3 } })
    await goldenBooks(231, day(10), 'P-1')
    const second = await goldenBooks(231, day(10), 'P-2')
    const wrong = await api.post('/api/edit_patient_gold_booking', { clinic_id: 231, booking_id: second.booking_id, status: 'served', token: 1 })
    t.equal(wrong.status, 404)
    t.equal(wrong.json<DetailBody>().detail, text.bookingNotFound)
    t.equal((await goldenDaysOf(231)).days[day(10)]?.patients[1]?.status, text.booked, 'nothing changed')
    const right = await api.post('/api/edit_patient_gold_booking', { clinic_id: 231, booking_id: second.booking_id, status: 'served', token: '2' })
    t.equal(right.status, 200)
  })

  t.test('a cancellation moves the queue behind up and capacity_used counts the active bookings', async (t) => {
    await createGolden(232, { [day(10)]: { capacity_total: 5 } })
    const seats: BookingAnswer[] = []
    for (const id of ['P-1', 'P-2', 'P-3']) seats.push(await goldenBooks(232, day(10), id))
    const res = await api.post('/api/edit_patient_gold_booking', { clinic_id: 232, booking_id: seats[0]?.booking_id ?? '', status: 'الغاء الحجز', token: 1 })
    t.equal(res.status, 200)
    t.has(res.json(), { old_status: text.booked, new_status: text.cancelled })
    const listed = (await goldenDaysOf(232)).days[day(10)]
    t.same(listed?.patients.map((p) => [p.patient_id, p.token, p.code]), [['P-2', 1, seats[1]?.code], ['P-3', 2, seats[2]?.code]])
    t.equal(listed?.capacity_used, 2)
    const next = await goldenBooks(232, day(10), 'P-1')
    t.has(next, { token: 3, capacity_used: 3, booking_id: `G-232-${compact(day(10))}-0004` }, 'the id is not reused; the patient may book again')
  })

  t.test('answers the legacy errors for a bad booking_id, a missing table, day or booking', async (t) => {
    await createGolden(233, { [day(10)]: { capacity_total: 3 } })
    const edit = async (clinicId: number, bookingId: string): Promise<{ status: number, detail: string }> => {
      const res = await api.post('/api/edit_patient_gold_booking', { clinic_id: clinicId, booking_id: bookingId, status: 'served' })
      return { status: res.status, detail: res.json<DetailBody>().detail }
    }
    t.same(await edit(233, 'G-233-0001'), { status: 400, detail: 'invalid booking_id' })
    t.same(await edit(233, 'G-233-20251340-0001'), { status: 400, detail: 'date part inside booking_id invalid' })
    t.same(await edit(234, `G-234-${compact(day(10))}-0001`), { status: 404, detail: text.noGoldenTable })
    t.same(await edit(233, `G-233-${compact(day(11))}-0001`), { status: 404, detail: 'day extracted from booking_id not found' })
    t.same(await edit(233, `G-233-${compact(day(10))}-0001`), { status: 404, detail: text.bookingNotFound })
    t.same(await edit(233, `G-233-${compact(day(10))}-P-71`), { status: 404, detail: text.bookingNotFound }, 'a legacy G-…-P-71 id is read for its date')
  })

  t.test('an unknown status is a 422', async (t) => {
    const booked = await goldenBooks(235, day(10), 'P-1')
    const res = await api.post('/api/edit_patient_gold_booking', { clinic_id: 235, booking_id: booked.booking_id, status: 'paid' })
    t.equal(res.status, 422)
    t.equal(res.json<ValidationBody>().detail[0]?.loc.join('.'), 'body.status')
  })
})

t.test('verify_golden_code', async (t) => {
  t.test('finds the booking a code belongs to, with or without the date', async (t) => {
    await createGolden(240, { [day(10)]: { capacity_total: 3 }, [day(11)]: { capacity_total: 3 } })
    await goldenBooks(240, day(10), 'P-1')
    const booked = await goldenBooks(240, day(11), 'P-71', 'عمر احمد')
    const expected = {
      status: 'success', message: null, patient_name: 'عمر احمد', patient_phone: PHONE, patient_id: 'P-71', booking_id: booked.booking_id, token: 1,
      booking_status: text.booked, booking_date: day(11)
    }
    const withDate = await verify({ clinic_id: 240, code: booked.code ?? '', date: day(11) })
    t.equal(withDate.status, 200)
    t.same(shapeOf(withDate.body), verifyShape)
    t.same(withDate.body, expected)
    const anyDay = await verify({ clinic_id: 240, code: Number(booked.code) })
    t.same(anyDay.body, expected, 'a numeric code and no date scan every day')
    const mirrored = await api.post('/backend/api/verify_golden_code', { clinic_id: 240, code: booked.code ?? '' })
    t.same(mirrored.json(), expected)
  })

  t.test('answers 200 with status "error" and null fields for a wrong code or date', async (t) => {
    await createGolden(241, { [day(10)]: { capacity_total: 3 }, [day(11)]: { capacity_total: 3 } })
    const booked = await goldenBooks(241, day(10), 'P-1')
    const wrongCode = booked.code === '1000' ? '1001' : '1000'
    const bodies: Array<Record<string, Json>> = [{ clinic_id: 241, code: wrongCode }, { clinic_id: 241, code: booked.code ?? '', date: day(11) }, { clinic_id: 241, code: 'abcd' }]
    for (const body of bodies) {
      const res = await verify(body)
      t.equal(res.status, 200, JSON.stringify(body))
      t.same(shapeOf(res.body), verifyErrorShape)
      t.equal(res.body.status, 'error')
      t.equal(res.body.message, text.codeNotFound)
    }
  })

  t.test('answers "no golden table" for a clinic without golden days', async (t) => {
    const res = await verify({ clinic_id: 242, code: '1234' })
    t.equal(res.status, 200)
    t.same(shapeOf(res.body), verifyErrorShape)
    t.equal(res.body.status, 'error')
    t.equal(res.body.message, text.noGoldenTable, 'the legacy "no golden table for this clinic" message')
  })

  t.test('the code of a cancelled booking no longer verifies', async (t) => {
    await createGolden(243, { [day(10)]: { capacity_total: 3 } })
    const booked = await goldenBooks(243, day(10), 'P-1')
    await api.post('/api/edit_patient_gold_booking', { clinic_id: 243, booking_id: booked.booking_id, status: 'cancelled' })
    const res = await verify({ clinic_id: 243, code: booked.code ?? '' })
    t.equal(res.status, 200)
    t.equal(res.body.status, 'error', 'legacy deleted a cancelled entry, so its code was "not found"')
  })

  t.test('a missing code or clinic_id is a 422, not a 200', async (t) => {
    t.equal((await api.post('/api/verify_golden_code', { clinic_id: 240 })).status, 422)
    t.equal((await api.post('/api/verify_golden_code', { code: '1234' })).status, 422)
    t.equal((await api.post('/api/verify_golden_code', { clinic_id: 240, code: '1234', date: '2025-02-30' })).status, 422)
  })

  t.test('a code carrying a NUL character is a 4xx or an error answer, not a 500', async (t) => {
    const res = await api.post('/api/verify_golden_code', { clinic_id: 240, code: '12\u000034' })
    t.ok(res.status < 500, `answered ${res.status}`)
  })
})

t.test('save_table_gold, close_table_gold and golden_booking_archives', async (t) => {
  t.test('save_table_gold archives the day and removes it from the golden list', async (t) => {
    await createGolden(250, { [day(10)]: { capacity_total: 3 }, [day(11)]: { capacity_total: 3 } })
    const a = await goldenBooks(250, day(10), 'P-1')
    await goldenBooks(250, day(10), 'P-2')
    await api.post('/api/edit_patient_gold_booking', { clinic_id: 250, booking_id: a.booking_id, status: 'served' })

    const res = await api.post('/api/save_table_gold', { clinic_id: 250, closed_date: day(10) })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.savedAndRemoved })
    t.same(Object.keys((await goldenDaysOf(250)).days), [day(11)], 'the day left the golden list')

    const { clinic_id: clinicId, items } = await goldenArchivesOf(250)
    t.equal(clinicId, 250)
    t.equal(items.length, 1)
    t.same(shapeOf(items[0]), sortedShape({ table_date: 'string', capacity_total: 'number', capacity_served: 'number', capacity_cancelled: 'number', patients: 'array' }))
    t.has(items[0], { table_date: day(10), capacity_total: 3, capacity_served: 1, capacity_cancelled: 0 })
    t.same(items[0]?.patients.map((p) => [p.patient_id, p.status]), [['P-1', text.served], ['P-2', text.booked]])
    for (const p of items[0]?.patients ?? []) t.same(shapeOf(p), goldenEntryShape)
    t.same((await api.get('/api/booking_archives/250')).json(), { clinic_id: 250, items: [] }, 'the regular archive is separate')

    const last = await api.post('/api/save_table_gold', { clinic_id: 250, closed_date: day(11), capacity_total: 3, patients: [] })
    t.equal(last.status, 200)
    t.equal((await api.get('/api/booking_golden_days?clinic_id=250')).status, 404, 'no golden day left')
  })

  t.test('save_table_gold reads the date from closed_date only, and a missing day is a 404', async (t) => {
    await createGolden(251, { [day(10)]: { capacity_total: 3 } })
    const wrongKey = await api.post('/api/save_table_gold', { clinic_id: 251, table_date: day(10) })
    t.equal(wrongKey.status, 422)
    t.same(wrongKey.json<ValidationBody>().detail[0]?.loc, ['body', 'closed_date'])
    const missing = await api.post('/api/save_table_gold', { clinic_id: 251, closed_date: day(12) })
    t.equal(missing.status, 404)
    t.equal(missing.json<DetailBody>().detail, text.dateNotFound)
    const noTable = await api.post('/api/save_table_gold', { clinic_id: 252, closed_date: day(12) })
    t.equal(noTable.status, 404)
    t.equal(noTable.json<DetailBody>().detail, text.noGoldenTable)
    t.same(Object.keys((await goldenDaysOf(251)).days), [day(10)])
  })

  t.test('close_table_gold cancels the unserved bookings, archives the day and answers removed_all', async (t) => {
    await createGolden(253, { [day(10)]: { capacity_total: 3 }, [day(11)]: { capacity_total: 3 } })
    const a = await goldenBooks(253, day(10), 'P-1')
    await goldenBooks(253, day(10), 'P-2')
    await api.post('/api/edit_patient_gold_booking', { clinic_id: 253, booking_id: a.booking_id, status: 'served' })

    const first = await api.post('/api/close_table_gold', { clinic_id: 253, date: day(10) })
    t.equal(first.status, 200)
    t.same(first.json(), { status: text.dayArchived, removed_all: false })
    const [item] = (await goldenArchivesOf(253)).items
    t.has(item, { table_date: day(10), capacity_total: 3, capacity_served: 1, capacity_cancelled: 1 })
    t.same(item?.patients.map((p) => [p.patient_id, p.status]), [['P-1', text.served], ['P-2', text.cancelled]])
    t.equal((await verify({ clinic_id: 253, code: a.code ?? '' })).body.status, 'error', 'a closed day\'s codes no longer verify')

    const last = await api.post('/api/close_table_gold', { clinic_id: 253, date: day(11) })
    t.same(last.json(), { status: text.dayArchivedAllRemoved, removed_all: true })
    t.equal((await api.get('/api/booking_golden_days?clinic_id=253')).status, 404)
    t.same((await api.get('/api/all_days_golden?clinic_id=253')).json(), { clinic_id: 253, days: {} })

    const again = await api.post('/api/close_table_gold', { clinic_id: 253, date: day(11) })
    t.equal(again.status, 404)
    t.equal(again.json<DetailBody>().detail, text.noGoldenTable)
  })

  t.test('golden_booking_archives lists newest first, honours from_date/to_date/limit, refuses bad dates', async (t) => {
    for (const date of ['2025-04-02', '2025-04-01', '2025-04-04', '2025-04-03']) {
      await createGolden(254, { [date]: { capacity_total: 2 } })
      const res = await api.post('/api/close_table_gold', { clinic_id: 254, date })
      t.equal(res.status, 200, `close ${date}`)
    }
    const dates = async (query: string): Promise<string[]> => (await goldenArchivesOf(254, query)).items.map((i) => i.table_date)
    t.same(await dates(''), ['2025-04-04', '2025-04-03', '2025-04-02', '2025-04-01'])
    t.same(await dates('?from_date=2025-04-02&to_date=2025-04-03'), ['2025-04-03', '2025-04-02'])
    t.same(await dates('?limit=1'), ['2025-04-04'])
    t.same(await dates('?to_date=2025-04-01&limit=5'), ['2025-04-01'])
    const mirrored = await api.get('/backend/api/golden_booking_archives/254?from_date=2025-04-04')
    t.equal(mirrored.status, 200)
    t.same(mirrored.json<ArchivesBody>().items.map((i) => i.table_date), ['2025-04-04'])
    for (const query of ['?from_date=2025-04-31', '?to_date=2025/04/01', '?limit=-1']) {
      const res = await api.get(`/api/golden_booking_archives/254${query}`)
      t.ok(res.status === 400 || res.status === 422, `${query} → ${res.status}`)
    }
  })
})

t.test('the app secret guards every golden route', async (t) => {
  const routes: Array<[string, string]> = [
    ['GET', '/api/booking_golden_days?clinic_id=4'], ['GET', '/api/booking_golden_days_old?clinic_id=4'], ['GET', '/api/all_days_golden?clinic_id=4'],
    ['GET', '/api/golden_booking_archives/4'], ['POST', '/api/create_golden_table'], ['POST', '/api/patient_golden_booking'],
    ['POST', '/api/edit_patient_gold_booking'], ['POST', '/api/verify_golden_code'], ['POST', '/api/save_table_gold'], ['POST', '/api/close_table_gold'],
    ['POST', '/backend/api/patient_golden_booking']
  ]
  const body = JSON.stringify({ clinic_id: 4, date: day(30), patient_id: 'P-9', name: 'x', phone: PHONE })
  for (const [method, path] of routes) {
    const variants: Array<Record<string, string>> = [{ 'Content-Type': 'application/json' }, { 'Content-Type': 'application/json', 'Doctor-Secret': 'dev-secreT' }]
    for (const headers of variants) {
      const res = await api.request(`${path}`, { method, headers, body: method === 'GET' ? undefined : body })
      t.equal(res.status, 403, `${method} ${path}`)
      t.equal(res.json<DetailBody>().detail, 'forbidden')
    }
  }
  t.notOk(day(30) in (await goldenDaysOf(4)).days)
})

t.test('Idempotency-Key on patient_golden_booking', async (t) => {
  const body: Json = { clinic_id: 260, date: day(10), patient_id: 'P-71', name: 'عمر', phone: PHONE }
  const first = await api.post('/api/patient_golden_booking', body, { headers: { 'Idempotency-Key': 'golden-260' } })
  t.equal(first.status, 200)
  t.equal(first.headers['idempotent-replayed'], undefined)
  const again = await api.post('/api/patient_golden_booking', body, { headers: { 'Idempotency-Key': 'golden-260' } })
  t.equal(again.status, 200, 'a retry is not a 409 "already booked"')
  t.equal(again.text, first.text, 'the same answer, the same code')
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal((await goldenDaysOf(260)).days[day(10)]?.patients.length, 1, 'one booking stored')
  const other = await api.post('/api/patient_golden_booking', { ...body, patient_id: 'P-72' }, { headers: { 'Idempotency-Key': 'golden-260' } })
  t.equal(other.status, 422)
  t.equal((await goldenDaysOf(260)).days[day(10)]?.patients.length, 1)
  const regular = await api.post('/api/patient_booking', { clinic_id: 260, name: 'x', phone: PHONE, source: 'secretary_app', date: day(10) }, { headers: { 'Idempotency-Key': 'golden-260' } })
  t.equal(regular.status, 200, 'keys are scoped per route')
})

t.test('a burst of malformed requests on every golden POST route gets 4xx and changes nothing', async (t) => {
  const clinicId = 299
  await createGolden(clinicId, { [day(10)]: { capacity_total: 3 }, [day(11)]: { capacity_total: 3 } })
  const booked = await goldenBooks(clinicId, day(10), 'P-1')
  const before = await goldenDaysOf(clinicId)
  const archivesBefore = await goldenArchivesOf(clinicId)

  const routes: BurstRoute[] = [
    {
      path: '/api/create_golden_table',
      base: { clinic_id: clinicId, days: { [day(12)]: { capacity_total: 3 } } },
      fields: {
        clinic_id: bad.id,
        days: [[], 'x', 5, null, {}, { '2025-02-30': {} }, { [day(12)]: [] }, { [day(12)]: null }, { [day(12)]: { capacity_total: -1 } },
          { [day(12)]: { capacity_total: 'كثير' } }, { [day(12)]: { capacity_total: 2 ** 40 } }, { [day(12)]: { status: [] } }]
      },
      required: ['clinic_id', 'days']
    },
    {
      path: '/api/patient_golden_booking',
      base: { clinic_id: clinicId, date: day(11), patient_id: 'P-2', name: 'x', phone: PHONE, auto_assign: false },
      fields: {
        clinic_id: bad.id, date: [...bad.date, null], patient_id: ['', '   ', null, {}, [], true, 'x'.repeat(65)],
        name: [...bad.text, '', null, 'x'.repeat(201)], phone: [...bad.text, '', null, '9'.repeat(41)], auto_assign: [...bad.bool, null]
      },
      required: ['date', 'patient_id', 'name', 'phone', 'clinic_id']
    },
    {
      path: '/api/edit_patient_gold_booking',
      base: { clinic_id: clinicId, booking_id: booked.booking_id, status: 'served', token: 1 },
      fields: {
        clinic_id: bad.id, status: [...bad.status, null], token: [0, -1, 2, 'abc', 1.5, [], {}],
        booking_id: ['', 5, null, [], 'x'.repeat(65), 'G-299', `G-${clinicId}-20250229-0001`, `G-${clinicId}-${compact(day(10))}-0009`, `G-${clinicId}-${compact(day(12))}-0001`]
      },
      required: ['clinic_id', 'booking_id', 'status']
    },
    {
      path: '/api/verify_golden_code',
      base: { clinic_id: clinicId, code: booked.code ?? '', date: day(10) },
      fields: { clinic_id: bad.id, code: ['', '   ', null, {}, [], true, '123456789'], date: bad.date },
      required: ['clinic_id', 'code']
    },
    {
      path: '/api/save_table_gold',
      base: { clinic_id: clinicId, closed_date: day(10) },
      fields: {
        clinic_id: bad.id, closed_date: bad.date, capacity_total: bad.count, capacity_served: bad.count, capacity_cancelled: bad.count,
        patients: ['x', 5, {}, [1], [[]], [{ a: [] }]]
      },
      required: ['clinic_id', 'closed_date']
    },
    {
      // An open day: the unbroken body answers 200 and changes nothing.
      path: '/api/reopen_table_gold',
      base: { clinic_id: clinicId, date: day(11) },
      fields: { clinic_id: bad.id, date: bad.date },
      required: ['clinic_id', 'date']
    },
    {
      path: '/api/close_table_gold',
      base: { clinic_id: clinicId, date: day(11) },
      fields: { clinic_id: bad.id, date: bad.date },
      required: ['clinic_id', 'date']
    }
  ]

  const answers = await sendMalformed(api, routes, [
    { label: 'golden booking with a bad Idempotency-Key', send: async () => await api.post('/api/patient_golden_booking', routes[1]?.base ?? {}, { headers: { 'Idempotency-Key': 'with space' } }) }
  ])
  t.ok(answers.length >= 300, `${answers.length} malformed requests sent`)
  // verify_golden_code answers a well-formed but unknown code with 200 {"status":"error"}; every request here is malformed.
  const wrong = answers.filter((a) => a.status < 400 || a.status >= 500).map((a) => `${a.label} → ${a.status} ${a.text.slice(0, 120)}`)
  t.same(wrong, [], 'every malformed request got a 4xx')
  const unparsable = answers.filter((a) => { try { JSON.parse(a.text); return false } catch { return true } }).map((a) => a.label)
  t.same(unparsable, [], 'every answer is JSON')

  t.same(await goldenDaysOf(clinicId), before, 'booking_golden_days is unchanged')
  t.same(await goldenArchivesOf(clinicId), archivesBefore, 'no archive was written')

  // Control: each unbroken body is accepted, so the refusals above were for the broken field.
  for (const route of routes) {
    const res = await api.post(route.path, route.base)
    t.equal(res.status, 200, `the unbroken ${route.path} body is accepted`)
  }
})
