import t from 'tap'
import { addDays, weekdayOf } from '../src/domain/calendar.ts'
import { waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'
import {
  arabicWeekday, bad, compact, day, framesOf, shapeOf, sortedShape, today,
  type ArchivesBody, type BookingAnswer, type DaysBody, type DetailBody, type Json, type ValidationBody, sendMalformed, type BurstRoute
} from './helpers/booking-api.ts'

// The regular queue's wire contract (legacy-api.md §2.13, §3.1-§3.8; contract.md §2): what the patient and
// secretary apps send and what they read back, field by field, Arabic string by Arabic string.

// Clinic rows (working days, capacity, closed flag) have no route in version 1; tests write them directly.
const { sql, api } = await startStack(t, { mode: 'in-process' })

const text = {
  created: 'تم الانشاء بنجاح',
  exists: 'موجود',
  rejected: 'مرفوض',
  listCreated: (date: string) => `تم انشاء القائمة بهذا التاريخ: ${date}`,
  dayAdded: (date: string) => `تمت إضافة اليوم الجديد: ${date}`,
  dayAddedClosed: 'تمت إضافة اليوم مغلقاً لأن هذا التاريخ أُغلق سابقاً؛ لفتحه استخدم إعادة فتح اليوم',
  bookedAs: (name: string) => `تم الحجز بنجاح بأسم: ${name}`,
  booked: 'تم الحجز',
  served: 'تمت المعاينة',
  inProgress: 'جاري المعاينة',
  noShow: 'لم يحضر',
  cancelled: 'ملغى',
  statusUpdated: 'تم تحديث الحالة بنجاح',
  noTable: 'لا يوجد جدول حجز لهذه العيادة',
  alreadyBooked: 'هذا المريض محجوز مسبقاً في هذا التاريخ',
  dateRequired: 'يجب تحديد التاريخ',
  bookingNotFound: 'الحجز غير موجود داخل هذا التاريخ',
  dateNotFound: 'التاريخ غير موجود',
  dayArchived: 'تم إغلاق وحفظ اليوم في الأرشيف بنجاح',
  dayArchivedAllRemoved: 'تم إغلاق وحفظ اليوم في الأرشيف، وحذف القائمة بالكامل',
  archiveCreated: 'تم إنشاء الأرشيف بنجاح',
  archiveUpdated: 'تم تحديث الأرشيف بنجاح',
  pastDate: 'لا يمكن الحجز في تاريخ سابق',
  dayClosed: 'هذا اليوم مغلق ولا يقبل حجوزات جديدة',
  clinicClosed: 'العيادة مغلقة حالياً ولا تستقبل حجوزات'
}

const bookingShape = sortedShape({
  message: 'string', booking_id: 'string', token: 'number', capacity_used: 'number', capacity_total: 'number',
  status: 'string', clinic_id: 'number', date: 'string', patient_id: 'string'
})

const patientEntryShape = sortedShape({
  booking_id: 'string', token: 'number', patient_id: 'string', name: 'string', phone: 'string', source: 'string',
  status: 'string', created_at: 'string'
})

const PHONE = '+9647701234567'

async function createDays (clinicId: number, days: Record<string, Record<string, Json>>): Promise<void> {
  const res = await api.post('/api/create_table', { clinic_id: clinicId, days })
  if (res.status !== 200) throw new Error(`create_table ${clinicId}: ${res.status} ${res.text}`)
}

async function secretaryBooks (clinicId: number, date: string, name = 'مراجع'): Promise<BookingAnswer> {
  const res = await api.post('/api/patient_booking', { clinic_id: clinicId, name, phone: PHONE, source: 'secretary_app', date })
  if (res.status !== 200) throw new Error(`secretary booking ${clinicId} ${date}: ${res.status} ${res.text}`)
  return res.json<BookingAnswer>()
}

async function daysOf (clinicId: number): Promise<DaysBody> {
  const res = await api.get(`/api/booking_days?clinic_id=${clinicId}`)
  if (res.status !== 200) throw new Error(`booking_days ${clinicId}: ${res.status} ${res.text}`)
  return res.json<DaysBody>()
}

async function archivesOf (clinicId: number, query = ''): Promise<ArchivesBody> {
  const res = await api.get(`/api/booking_archives/${clinicId}${query}`)
  if (res.status !== 200) throw new Error(`booking_archives ${clinicId}: ${res.status} ${res.text}`)
  return res.json<ArchivesBody>()
}

async function addClinic (id: number, fields: { profile?: Json, receivingPatients?: number, isClosed?: boolean, status?: string }): Promise<void> {
  await sql`
    INSERT INTO clinics (id, profile, receiving_patients, is_closed, status)
    VALUES (${id}, ${sql.json(fields.profile ?? {})}, ${fields.receivingPatients ?? null}, ${fields.isClosed ?? false}, ${fields.status ?? 'active'})`
}

t.test('create_table', async (t) => {
  t.test('answers "created" with the first posted date and its capacity, and keeps client day keys', async (t) => {
    const [first, second] = [day(12), day(10)]
    const res = await api.post('/api/create_table', {
      clinic_id: 101,
      days: { [first]: { capacity_total: 3, inline_next: 4, capacity_served: 0, note: 'عيادة مسائية' }, [second]: { capacity_total: 4 } }
    })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.created, message: text.listCreated(first), capacity_total: 3 })

    const { clinic_id: clinicId, days } = await daysOf(101)
    t.equal(clinicId, 101)
    t.same(Object.keys(days), [second, first], 'booking_days lists the days sorted by date')
    const created = days[first]
    t.same(shapeOf(created), sortedShape({
      capacity_served: 'number', capacity_total: 'number', capacity_used: 'number', note: 'string', patients: 'array', source: 'string', status: 'string'
    }), 'inline_next is dropped, other client keys are kept verbatim')
    t.same(created, { source: 'patient_app', status: 'open', capacity_total: 3, capacity_used: 0, patients: [], capacity_served: 0, note: 'عيادة مسائية' })
    t.has(days[second], { capacity_total: 4, capacity_used: 0, status: 'open' })
  })

  t.test('answers "موجود" with the existing capacity when the first date exists, and writes nothing', async (t) => {
    await createDays(102, { [day(12)]: { capacity_total: 3 } })
    const before = await daysOf(102)
    const res = await api.post('/api/create_table', { clinic_id: 102, days: { [day(12)]: { capacity_total: 9 }, [day(13)]: { capacity_total: 9 } } })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.exists, message: `date already exists: ${day(12)}`, capacity_total: 3 })
    t.same(await daysOf(102), before, 'neither the existing day nor the other posted one changed')
  })

  t.test('accepts capacities written with Arabic digits', async (t) => {
    const res = await api.post('/api/create_table', { clinic_id: 103, days: { [day(12)]: { capacity_total: '١٢' } } })
    t.equal(res.status, 200)
    t.equal(res.json<{ capacity_total: number }>().capacity_total, 12)
  })

  t.test('derives the capacity from the doctor profile when none is sent', async (t) => {
    await addClinic(104, { receivingPatients: 7 })
    const res = await api.post('/api/create_table', { clinic_id: 104, days: { [day(12)]: {} } })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.created, message: text.listCreated(day(12)), capacity_total: 7 })
    t.equal((await daysOf(104)).days[day(12)]?.capacity_total, 7)
  })

  t.test('refuses with 400 when no capacity is sent and none can be derived', async (t) => {
    const res = await api.post('/api/create_table', { clinic_id: 105, days: { [day(12)]: {} } })
    t.equal(res.status, 400)
    t.equal(res.json<DetailBody>().detail, 'capacity_total not sent and cannot be derived from the doctor profile (receiving_patients)')
  })

  t.test('refuses an empty days object with 400', async (t) => {
    const res = await api.post('/api/create_table', { clinic_id: 105, days: {} })
    t.equal(res.status, 400)
    t.equal(res.json<DetailBody>().detail, 'days must contain at least one date key')
  })

  t.test('refuses an impossible date key with a FastAPI-style 422', async (t) => {
    const res = await api.post('/api/create_table', { clinic_id: 105, days: { '2025-02-30': { capacity_total: 3 } } })
    t.equal(res.status, 422)
    const body = res.json<ValidationBody>()
    t.ok(Array.isArray(body.detail) && body.detail.length > 0)
    t.same(shapeOf(body.detail[0]), sortedShape({ loc: 'array', msg: 'string', type: 'string' }))
    t.equal(body.detail[0]?.loc[0], 'body')
    t.equal((await api.get('/api/booking_days?clinic_id=105')).status, 404, 'nothing was created')
  })
})

t.test('booking_days and all_days', async (t) => {
  t.test('booking_days answers 404 with the Arabic detail for a clinic without days', async (t) => {
    const res = await api.get('/api/booking_days?clinic_id=110')
    t.equal(res.status, 404)
    t.equal(res.json<DetailBody>().detail, text.noTable)
  })

  t.test('all_days answers {} for a clinic without days, not 404', async (t) => {
    const res = await api.get('/api/all_days?clinic_id=110')
    t.equal(res.status, 200)
    t.same(res.json(), { clinic_id: 110, days: {} })
  })

  t.test('all_days lists the live days like booking_days', async (t) => {
    await createDays(111, { [day(15)]: { capacity_total: 2 }, [day(11)]: { capacity_total: 2 } })
    await secretaryBooks(111, day(11))
    const all = await api.get('/api/all_days?clinic_id=111')
    t.equal(all.status, 200)
    const body = all.json<DaysBody>()
    t.same(Object.keys(body.days).sort(), [day(11), day(15)])
    t.equal(body.days[day(11)]?.capacity_used, 1)
  })

  t.test('a missing or non-numeric clinic_id is a 422', async (t) => {
    t.equal((await api.get('/api/booking_days')).status, 422)
    t.equal((await api.get('/api/booking_days?clinic_id=abc')).status, 422)
    t.equal((await api.get('/api/all_days?clinic_id=-3')).status, 422)
  })

  t.test('an unchanged day list answers 304 to If-None-Match, a changed one a new ETag', async (t) => {
    await createDays(112, { [day(12)]: { capacity_total: 5 } })
    const first = await api.get('/api/booking_days?clinic_id=112')
    const etag = first.headers.etag
    t.type(etag, 'string', 'booking_days sends an ETag')
    if (typeof etag !== 'string') return
    const again = await api.get('/api/booking_days?clinic_id=112', { headers: { 'If-None-Match': etag } })
    t.equal(again.status, 304)
    t.equal(again.text, '', '304 has no body')
    await secretaryBooks(112, day(12))
    const changed = await api.get('/api/booking_days?clinic_id=112', { headers: { 'If-None-Match': etag } })
    t.equal(changed.status, 200, 'a booking invalidates the ETag')
    t.not(changed.headers.etag, etag)
    t.equal(changed.json<DaysBody>().days[day(12)]?.capacity_used, 1)
  })

  t.test('stream=true answers Server-Sent Events: a snapshot, then an update when a booking lands', async (t) => {
    await createDays(113, { [day(12)]: { capacity_total: 5 } })
    const stream = await api.openStream('/api/booking_days?clinic_id=113&stream=true&heartbeat=15&timeout=60', { 'Doctor-Secret': 'dev-secret' })
    t.teardown(stream.close)
    t.equal(stream.status, 200)
    t.match(String(stream.headers['content-type']), /^text\/event-stream/)
    t.equal(stream.headers['cache-control'], 'no-cache')
    const snapshot = await waitFor('the snapshot frame', async () => framesOf(stream.text()).find((f) => f.event === 'snapshot'))
    const payload = JSON.parse(snapshot.data) as { clinic_id: number, days: Record<string, unknown>, hash: string }
    t.same(Object.keys(payload), ['clinic_id', 'days', 'hash'], 'the legacy payload {clinic_id, days, hash}')
    t.equal(payload.clinic_id, 113)
    t.same(payload.days, (await daysOf(113)).days, 'the same days booking_days answers')
    t.match(payload.hash, /^[0-9a-f]{40}$/)

    const booked = await secretaryBooks(113, day(12))
    const update = await waitFor('an update frame', async () => framesOf(stream.text()).find((f) => f.event === 'update'))
    const updated = JSON.parse(update.data) as { clinic_id: number, days: Record<string, { capacity_used: number, patients: Array<{ booking_id: string }> }>, hash: string }
    t.equal(updated.clinic_id, 113)
    t.equal(updated.days[day(12)]?.capacity_used, 1)
    t.equal(updated.days[day(12)]?.patients[0]?.booking_id, booked.booking_id)
    t.not(updated.hash, payload.hash, 'the hash changes with the days')
  })

  t.test('Accept: text/event-stream streams too, and /backend mirrors it', async (t) => {
    await createDays(114, { [day(12)]: { capacity_total: 5 } })
    for (const path of ['/api/booking_days?clinic_id=114', '/backend/api/booking_days?clinic_id=114']) {
      const stream = await api.openStream(`${path}`, { 'Doctor-Secret': 'dev-secret', Accept: 'text/event-stream' })
      const snapshot = await waitFor(`the snapshot frame of ${path}`, async () => framesOf(stream.text()).find((f) => f.event === 'snapshot'))
      stream.close()
      t.equal((JSON.parse(snapshot.data) as { clinic_id: number }).clinic_id, 114, path)
    }
  })

  t.test('a stream for a clinic without days sends an error frame with the 404 detail and ends', async (t) => {
    const stream = await api.openStream('/api/booking_days?clinic_id=115&stream=true', { 'Doctor-Secret': 'dev-secret' })
    t.teardown(stream.close)
    const error = await waitFor('the error frame', async () => framesOf(stream.text()).find((f) => f.event === 'error'))
    t.equal((JSON.parse(error.data) as { error: string }).error, `404: ${text.noTable}`)
    await waitFor('the stream to end', async () => stream.ended())
    t.pass('the server closed the stream')
  })

  t.test('a stream without the app secret is refused with 403', async (t) => {
    const stream = await api.openStream('/api/booking_days?clinic_id=113&stream=true', {})
    stream.close()
    t.equal(stream.status, 403)
  })
})

t.test('patient_booking', async (t) => {
  t.test('a patient-app booking on a date answers the legacy fields with B-<clinic>-<YYYYMMDD>-0001', async (t) => {
    await createDays(7, { [day(14)]: { capacity_total: 20 } })
    const res = await api.post('/api/patient_booking', {
      clinic_id: 7, name: 'عمر احمد', phone: PHONE, source: 'patient_app', patient_id: 'P-71', date: day(14),
      status: 'booked', created_at: '2025-11-13T18:02:11.123456+00:00', secretary_id: 'S-7', booking_id: 'ignored', token: 99
    })
    t.equal(res.status, 200)
    const body = res.json<BookingAnswer>()
    t.same(shapeOf(body), bookingShape)
    t.same(body, {
      message: text.bookedAs('عمر احمد'), booking_id: `B-7-${compact(day(14))}-0001`, token: 1, capacity_used: 1, capacity_total: 20,
      status: text.booked, clinic_id: 7, date: day(14), patient_id: 'P-71'
    })

    const entry = (await daysOf(7)).days[day(14)]?.patients[0]
    t.same(shapeOf(entry), patientEntryShape, 'a patient-app entry carries no secretary_id')
    t.same(entry, {
      booking_id: `B-7-${compact(day(14))}-0001`, token: 1, patient_id: 'P-71', name: 'عمر احمد', phone: PHONE, source: 'patient_app',
      status: text.booked, created_at: '2025-11-13T18:02:11.123456+00:00'
    }, 'created_at is stored as the client sent it')
  })

  t.test('a secretary booking answers S-<clinic>-<YYYYMMDD>-NNN and patient_id "NNN"', async (t) => {
    await createDays(120, { [day(14)]: { capacity_total: 20 } })
    const first = await secretaryBooks(120, day(14))
    t.same(shapeOf(first), bookingShape)
    t.equal(first.booking_id, `S-120-${compact(day(14))}-001`)
    t.equal(first.patient_id, '001')
    const res = await api.post('/api/patient_booking', {
      clinic_id: 120, name: 'زينب', phone: PHONE, source: 'secretary_app', date: day(14), secretary_id: 'S-120', status: 'served'
    })
    t.equal(res.status, 200)
    const second = res.json<BookingAnswer>()
    t.has(second, { booking_id: `S-120-${compact(day(14))}-002`, patient_id: '002', token: 2, capacity_used: 2, status: text.served })

    const entry = (await daysOf(120)).days[day(14)]?.patients[1]
    t.same(shapeOf(entry), sortedShape({ ...patientEntryShape, secretary_id: 'string' }))
    t.has(entry, { source: 'secretary_app', secretary_id: 'S-120', status: text.served, patient_id: '002' })
    t.match(entry?.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'without a client created_at the server stamps UTC ISO with Z')
  })

  t.test('English statuses are answered and stored as their Arabic labels', async (t) => {
    const labels: Array<[string, string]> = [['booked', text.booked], ['in_progress', text.inProgress], ['served', text.served], ['no_show', text.noShow], ['تمت المعاينة', text.served]]
    for (const [sent, label] of labels) {
      const res = await api.post('/api/patient_booking', { clinic_id: 121, name: sent, phone: PHONE, source: 'secretary_app', date: day(14), status: sent })
      t.equal(res.status, 200, sent)
      t.equal(res.json<BookingAnswer>().status, label, `${sent} → ${label}`)
    }
    const stored = (await daysOf(121)).days[day(14)]?.patients.map((p) => p.status)
    t.same(stored, labels.map(([, label]) => label))
  })

  t.test('a new booking cannot start as cancelled, and an unknown status is a 422', async (t) => {
    const cancelled = await api.post('/api/patient_booking', { clinic_id: 122, name: 'x', phone: PHONE, source: 'secretary_app', date: day(14), status: 'cancelled' })
    t.equal(cancelled.status, 422)
    const unknown = await api.post('/api/patient_booking', { clinic_id: 122, name: 'x', phone: PHONE, source: 'secretary_app', date: day(14), status: 'waiting' })
    t.equal(unknown.status, 422)
    t.equal(unknown.json<ValidationBody>().detail[0]?.loc.join('.'), 'body.status')
    t.equal((await api.get('/api/booking_days?clinic_id=122')).status, 404, 'nothing was stored')
  })

  t.test('a patient-app booking without patient_id still gets a patient_id of its own', async (t) => {
    const a = await api.post('/api/patient_booking', { clinic_id: 123, name: 'a', phone: PHONE, source: 'patient_app', date: day(14) })
    const b = await api.post('/api/patient_booking', { clinic_id: 123, name: 'b', phone: PHONE, date: day(14) })
    t.equal(a.status, 200)
    t.equal(b.status, 200, 'source defaults to patient_app')
    const [pa, pb] = [a.json<BookingAnswer>(), b.json<BookingAnswer>()]
    t.equal(pb.booking_id, `B-123-${compact(day(14))}-0002`)
    t.type(pa.patient_id, 'string')
    t.ok(pa.patient_id.length > 0)
    t.not(pa.patient_id, pb.patient_id, 'two anonymous patients do not share a patient_id')
  })

  t.test('a secretary booking without a date is refused with "يجب تحديد التاريخ"', async (t) => {
    const res = await api.post('/api/patient_booking', { clinic_id: 124, name: 'x', phone: PHONE, source: 'secretary_app' })
    t.equal(res.status, 400)
    t.equal(res.json<DetailBody>().detail, text.dateRequired)
  })

  t.test('a missing or zero clinic_id is refused with "clinic_id must be sent"', async (t) => {
    for (const clinicId of [undefined, 0, '0']) {
      const body: Record<string, Json> = { name: 'x', phone: PHONE, source: 'secretary_app', date: day(14) }
      if (clinicId !== undefined) body.clinic_id = clinicId
      const res = await api.post('/api/patient_booking', body)
      t.equal(res.status, 400, `clinic_id ${String(clinicId)}`)
      t.equal(res.json<DetailBody>().detail, 'clinic_id must be sent')
    }
  })

  t.test('a source other than patient_app / secretary_app is a 422', async (t) => {
    const res = await api.post('/api/patient_booking', { clinic_id: 124, name: 'x', phone: PHONE, source: 'doctor_app', date: day(14) })
    t.equal(res.status, 422)
    t.equal(res.json<ValidationBody>().detail[0]?.loc.join('.'), 'body.source')
  })

  t.test('a dated patient-app booking of a full day answers 409 with an Arabic detail', async (t) => {
    await createDays(125, { [day(14)]: { capacity_total: 1 } })
    await secretaryBooks(125, day(14))
    const res = await api.post('/api/patient_booking', { clinic_id: 125, name: 'x', phone: PHONE, source: 'patient_app', date: day(14) })
    t.equal(res.status, 409)
    t.same(res.json(), {
      detail: 'هذا اليوم ممتلئ (1/1)، يرجى اختيار يوم آخر', code: 'day_full', date: day(14), capacity_used: 1, capacity_total: 1
    })
    t.equal((await daysOf(125)).days[day(14)]?.patients.length, 1, 'nothing was added')
  })

  t.test('patient-app bookings sent at once never exceed the capacity nor share a token', async (t) => {
    await createDays(133, { [day(14)]: { capacity_total: 3 } })
    const answers = await Promise.all(Array.from({ length: 12 }, async (_, i) =>
      await api.post('/api/patient_booking', { clinic_id: 133, name: `p${i}`, phone: PHONE, patient_id: `P-${1000 + i}`, date: day(14) })))
    const ok = answers.filter((a) => a.status === 200).map((a) => a.json<BookingAnswer>())
    t.equal(ok.length, 3, 'three seats, three bookings')
    t.same(ok.map((a) => a.token).sort(), [1, 2, 3])
    t.equal(new Set(ok.map((a) => a.booking_id)).size, 3)
    t.same(answers.filter((a) => a.status !== 200).map((a) => [a.status, a.json<DetailBody>().code]), Array.from({ length: 9 }, () => [409, 'day_full']))
    const listed = (await daysOf(133)).days[day(14)]
    t.equal(listed?.capacity_used, 3)
    t.same(listed?.patients.map((p) => p.booking_id).sort(), ok.map((a) => a.booking_id).sort(), 'every booking answered 200 is stored')
  })

  t.test('a secretary may overbook a full day, and the extra seat shows in capacity_used', async (t) => {
    await createDays(126, { [day(14)]: { capacity_total: 1 } })
    await secretaryBooks(126, day(14))
    const res = await api.post('/api/patient_booking', { clinic_id: 126, name: 'walk-in', phone: PHONE, source: 'secretary_app', date: day(14) })
    t.equal(res.status, 200)
    t.has(res.json(), { token: 2, capacity_used: 2, capacity_total: 1, booking_id: `S-126-${compact(day(14))}-002` })
    const listed = (await daysOf(126)).days[day(14)]
    t.equal(listed?.capacity_used, 2)
    t.equal(listed?.capacity_total, 1)
    t.same(listed?.patients.map((p) => p.token), [1, 2])
  })

  t.test('a patient-app booking for a past date is refused with 400', async (t) => {
    const res = await api.post('/api/patient_booking', { clinic_id: 127, name: 'x', phone: PHONE, source: 'patient_app', date: day(-1) })
    t.equal(res.status, 400)
    t.same(res.json(), { detail: text.pastDate, code: 'past_date', date: day(-1) })
    t.equal((await api.get('/api/booking_days?clinic_id=127')).status, 404, 'no day was created')
  })

  t.test('a dated patient-app booking of a closed day is refused with 409', async (t) => {
    await createDays(128, { [day(14)]: { capacity_total: 5, status: 'closed' } })
    const res = await api.post('/api/patient_booking', { clinic_id: 128, name: 'x', phone: PHONE, source: 'patient_app', date: day(14) })
    t.equal(res.status, 409)
    t.equal(res.json<DetailBody>().detail, text.dayClosed)
  })

  t.test('the same patient twice on one day answers 409 naming the existing booking', async (t) => {
    const first = await api.post('/api/patient_booking', { clinic_id: 129, name: 'x', phone: PHONE, patient_id: 'P-71', date: day(14) })
    t.equal(first.status, 200)
    const again = await api.post('/api/patient_booking', { clinic_id: 129, name: 'x', phone: PHONE, patient_id: 'P-71', source: 'secretary_app', date: day(14) })
    t.equal(again.status, 409)
    t.same(again.json(), { detail: text.alreadyBooked, code: 'already_booked', booking_id: `B-129-${compact(day(14))}-0001`, date: day(14), token: 1 })
  })

  t.test('a day created by a booking takes the capacity of the latest day, else 20', async (t) => {
    const fresh = await secretaryBooks(130, day(14))
    t.equal(fresh.capacity_total, 20, 'a clinic without days gets 20')
    await createDays(131, { [day(14)]: { capacity_total: 6 } })
    const derived = await secretaryBooks(131, day(16))
    t.equal(derived.capacity_total, 6)
    t.equal((await daysOf(131)).days[day(16)]?.source, 'secretary_app', 'the new day records who created it')
  })

  t.test('the /backend mirror books and reads like /api', async (t) => {
    const res = await api.post('/backend/api/patient_booking', { clinic_id: 132, name: 'x', phone: PHONE, source: 'secretary_app', date: day(14) })
    t.equal(res.status, 200)
    t.equal(res.json<BookingAnswer>().booking_id, `S-132-${compact(day(14))}-001`)
    const read = await api.get('/backend/api/booking_days?clinic_id=132')
    t.equal(read.status, 200)
    t.same(read.json(), await daysOf(132))
    const all = await api.get('/backend/api/all_days?clinic_id=132')
    t.equal(all.status, 200)
  })
})

t.test('patient_booking without a date (the patient app\'s automatic search)', async (t) => {
  t.test('books today in Iraq when the clinic works every day', async (t) => {
    const res = await api.post('/api/patient_booking', { clinic_id: 140, name: 'x', phone: PHONE, source: 'patient_app', patient_id: 'P-1' })
    t.equal(res.status, 200)
    t.has(res.json(), { date: today, booking_id: `B-140-${compact(today)}-0001`, token: 1, capacity_total: 20 })
  })

  t.test('date null means the same search', async (t) => {
    const res = await api.post('/api/patient_booking', { clinic_id: 146, name: 'x', phone: PHONE, source: 'patient_app', date: null })
    t.equal(res.status, 200)
    t.equal(res.json<BookingAnswer>().date, today)
  })

  t.test('skips a closed day', async (t) => {
    await createDays(141, { [today]: { capacity_total: 5, status: 'closed' }, [day(1)]: { capacity_total: 5 } })
    const res = await api.post('/api/patient_booking', { clinic_id: 141, name: 'x', phone: PHONE, patient_id: 'P-1' })
    t.equal(res.status, 200)
    t.equal(res.json<BookingAnswer>().date, day(1))
  })

  t.test('skips a full day and creates the next one with the latest day\'s capacity', async (t) => {
    await createDays(142, { [today]: { capacity_total: 1 } })
    await secretaryBooks(142, today)
    const res = await api.post('/api/patient_booking', { clinic_id: 142, name: 'x', phone: PHONE, patient_id: 'P-2' })
    t.equal(res.status, 200)
    t.has(res.json(), { date: day(1), token: 1, capacity_total: 1, booking_id: `B-142-${compact(day(1))}-0001` })
    t.same(Object.keys((await daysOf(142)).days), [today, day(1)])
  })

  t.test('books the next working day of the doctor profile, with the doctor\'s capacity', async (t) => {
    const tomorrow = arabicWeekday[weekdayOf(day(1))] as string
    await addClinic(143, { profile: { clinic_days: { from: tomorrow, to: tomorrow } }, receivingPatients: 9 })
    const res = await api.post('/api/patient_booking', { clinic_id: 143, name: 'x', phone: PHONE, patient_id: 'P-3' })
    t.equal(res.status, 200)
    t.has(res.json(), { date: day(1), capacity_total: 9 })
    const next = await api.post('/api/patient_booking', { clinic_id: 143, name: 'y', phone: PHONE, patient_id: 'P-4' })
    t.has(next.json(), { date: day(1), token: 2 }, 'the same working day while it has room')
    t.notOk(today in (await daysOf(143)).days, 'no day was created on a day off')
  })

  t.test('answers 409 naming the existing booking when the patient is already booked on the day it reaches', async (t) => {
    const first = await api.post('/api/patient_booking', { clinic_id: 144, name: 'x', phone: PHONE, patient_id: 'P-71' })
    t.equal(first.status, 200)
    const again = await api.post('/api/patient_booking', { clinic_id: 144, name: 'x', phone: PHONE, patient_id: 'P-71' })
    t.equal(again.status, 409, 'not silently moved to tomorrow as legacy did')
    t.same(again.json(), { detail: text.alreadyBooked, code: 'already_booked', booking_id: `B-144-${compact(today)}-0001`, date: today, token: 1 })
    t.same(Object.keys((await daysOf(144)).days), [today], 'no booking on another day')
  })

  t.test('a closed clinic refuses patient-app bookings with a clear message', async (t) => {
    await addClinic(145, { isClosed: true })
    const res = await api.post('/api/patient_booking', { clinic_id: 145, name: 'x', phone: PHONE, patient_id: 'P-5' })
    t.equal(res.status, 409)
    t.equal(res.json<DetailBody>().detail, text.clinicClosed)
  })
})

t.test('add_day', async (t) => {
  t.test('adds a chosen date sent as date_added with the latest day\'s capacity', async (t) => {
    await createDays(150, { [day(10)]: { capacity_total: 4 } })
    const res = await api.post('/api/add_day', { clinic_id: 150, date_added: day(20), status: 'open' })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.created, message: text.dayAdded(day(20)), date_added: day(20) })
    t.same((await daysOf(150)).days[day(20)], { source: 'patient_app', status: 'open', capacity_total: 4, capacity_used: 0, patients: [] })
  })

  t.test('answers "موجود" for a chosen date that exists', async (t) => {
    await createDays(151, { [day(10)]: { capacity_total: 4 } })
    const res = await api.post('/api/add_day', { clinic_id: 151, date_added: day(10), capacity_total: 8 })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.exists, date_added: day(10) })
    t.equal((await daysOf(151)).days[day(10)]?.capacity_total, 4)
  })

  t.test('ignores a key named date and answers "مرفوض" while the last day is not full', async (t) => {
    await createDays(152, { [day(10)]: { capacity_total: 2 } })
    await secretaryBooks(152, day(10))
    const res = await api.post('/api/add_day', { clinic_id: 152, date: day(25), capacity_total: 3 })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.rejected, message: `last day ${day(10)} not full yet (1/2)`, date_added: null })
    t.same(Object.keys((await daysOf(152)).days), [day(10)], 'the date sent as `date` was not created')
  })

  t.test('force_add adds the day after the last one even when it is not full', async (t) => {
    await createDays(153, { [day(10)]: { capacity_total: 2 } })
    const res = await api.post('/api/add_day', { clinic_id: 153, force_add: true })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.created, message: text.dayAdded(day(11)), date_added: day(11) })
    t.equal((await daysOf(153)).days[day(11)]?.capacity_total, 2, 'capacity of the last day')
  })

  t.test('adds the day after a full last day, with the requested capacity', async (t) => {
    await createDays(154, { [day(10)]: { capacity_total: 1 } })
    await secretaryBooks(154, day(10))
    const res = await api.post('/api/add_day', { clinic_id: 154, capacity_total: '٥' })
    t.equal(res.status, 200)
    t.equal(res.json<{ date_added: string }>().date_added, day(11))
    t.equal((await daysOf(154)).days[day(11)]?.capacity_total, 5)
  })

  t.test('answers 404 for a clinic without a table', async (t) => {
    const dated = await api.post('/api/add_day', { clinic_id: 155, date_added: day(10), capacity_total: 3 })
    t.equal(dated.status, 404)
    t.equal(dated.json<DetailBody>().detail, text.noTable)
    const next = await api.post('/api/add_day', { clinic_id: 155 })
    t.equal(next.status, 404, 'without date_added too')
  })

  t.test('a date closed earlier can be added again, and then shows in booking_days', async (t) => {
    await createDays(158, { [day(10)]: { capacity_total: 2 }, [day(11)]: { capacity_total: 2 } })
    t.equal((await api.post('/api/close_table', { clinic_id: 158, date: day(10) })).status, 200)
    const res = await api.post('/api/add_day', { clinic_id: 158, date_added: day(10), capacity_total: 2 })
    t.equal(res.status, 200)
    // Legacy created it open and said "added"; it is added closed now (only reopen_table opens it), and says so.
    t.same(res.json(), { status: text.created, message: `${text.dayAddedClosed}: ${day(10)}`, date_added: day(10) }, 'created again, closed')
    t.ok(day(10) in (await daysOf(158)).days, 'an answer of "exists" would name a day the apps cannot see')
  })

  t.test('a date added again after close_table stays closed until reopen_table, and continues its booking ids', async (t) => {
    await createDays(159, { [day(10)]: { capacity_total: 5 } })
    const first = await secretaryBooks(159, day(10))
    const second = await secretaryBooks(159, day(10))
    t.equal((await api.post('/api/close_table', { clinic_id: 159, date: day(10) })).status, 200)
    t.equal((await api.post('/api/add_day', { clinic_id: 159, date_added: day(10), capacity_total: 5 })).status, 200)
    t.equal((await daysOf(159)).days[day(10)]?.status, 'closed', 'add_day does not reopen a closed date')
    const again = await secretaryBooks(159, day(10))
    const refused = await api.post('/api/patient_booking', { clinic_id: 159, name: 'x', phone: PHONE, date: day(10), patient_id: 'P-159' })
    t.equal(refused.status, 409, 'closed to the patient app')
    t.equal((await api.post('/api/reopen_table', { clinic_id: 159, date: day(10) })).status, 200)
    const patientApp = await api.post('/api/patient_booking', { clinic_id: 159, name: 'x', phone: PHONE, date: day(10), patient_id: 'P-159' })
    t.equal(patientApp.status, 200, 'the patient app books the reopened day')
    const ids = [first.booking_id, second.booking_id, again.booking_id, patientApp.json<{ booking_id: string }>().booking_id]
    t.equal(new Set(ids).size, 4, `four distinct ids (${ids.join(', ')})`)
    t.match(again.booking_id, /-003$/, 'the sequence went on from the archived day')
  })

  t.test('refuses an impossible date_added with 422', async (t) => {
    await createDays(156, { [day(10)]: { capacity_total: 1 } })
    const res = await api.post('/api/add_day', { clinic_id: 156, date_added: '2025-02-30' })
    t.equal(res.status, 422)
    t.equal(res.json<ValidationBody>().detail[0]?.loc.join('.'), 'body.date_added')
  })

  t.test('dates past 2999 are refused at the door; the day after the last allowed one is still computed', async (t) => {
    const refused = await api.post('/api/create_table', { clinic_id: 157, days: { '9999-12-31': { capacity_total: 1 } } })
    t.equal(refused.status, 422)
    await createDays(157, { '2999-12-31': { capacity_total: 1 } })
    const res = await api.post('/api/add_day', { clinic_id: 157, force_add: true })
    t.equal(res.status, 200, `answered ${res.status}`)
    t.equal(res.json<{ date_added: string }>().date_added, '3000-01-01')
  })
})

t.test('edit_patient_booking', async (t) => {
  t.test('answers the legacy fields and echoes new_status as sent, while the day shows the Arabic label', async (t) => {
    await createDays(160, { [day(10)]: { capacity_total: 5 } })
    const booked = await secretaryBooks(160, day(10))
    const res = await api.post('/api/edit_patient_booking', { clinic_id: 160, booking_id: booked.booking_id, status: 'served' })
    t.equal(res.status, 200)
    t.same(res.json(), {
      message: text.statusUpdated, clinic_id: 160, booking_id: booked.booking_id, old_status: text.booked, new_status: 'served', patient_id: '001'
    })
    t.equal((await daysOf(160)).days[day(10)]?.patients[0]?.status, text.served)

    const arabic = await api.post('/api/edit_patient_booking', { clinic_id: 160, booking_id: booked.booking_id, status: 'لم يحضر' })
    t.has(arabic.json(), { old_status: text.served, new_status: 'لم يحضر' })
  })

  t.test('ignores the token, as legacy did on the regular queue', async (t) => {
    await createDays(161, { [day(10)]: { capacity_total: 5 } })
    const booked = await secretaryBooks(161, day(10))
    const res = await api.post('/api/edit_patient_booking', { clinic_id: 161, booking_id: booked.booking_id, status: 'served', token: 3 })
    t.equal(res.status, 200, 'a stale token does not block the edit')
  })

  t.test('a cancellation moves everyone behind up one token and capacity_used counts the active bookings', async (t) => {
    await createDays(162, { [day(10)]: { capacity_total: 5 } })
    const seats: BookingAnswer[] = []
    for (const name of ['أ', 'ب', 'ج', 'د']) seats.push(await secretaryBooks(162, day(10), name))
    await api.post('/api/edit_patient_booking', { clinic_id: 162, booking_id: seats[0]?.booking_id ?? '', status: 'served' })
    const res = await api.post('/api/edit_patient_booking', { clinic_id: 162, booking_id: seats[1]?.booking_id ?? '', status: 'الغاء الحجز' })
    t.equal(res.status, 200)
    t.has(res.json(), { old_status: text.booked, new_status: 'الغاء الحجز', patient_id: '002' })

    const listed = (await daysOf(162)).days[day(10)]
    t.same(listed?.patients.map((p) => [p.name, p.token, p.booking_id]), [
      ['أ', 1, seats[0]?.booking_id], ['ج', 2, seats[2]?.booking_id], ['د', 3, seats[3]?.booking_id]
    ], 'the cancelled booking leaves the list; the ones behind it move up, booking ids unchanged')
    t.equal(listed?.capacity_used, 3)

    const next = await secretaryBooks(162, day(10), 'هـ')
    t.equal(next.token, 4, 'the next booking queues after the active ones')
    t.equal(next.capacity_used, 4)
    t.equal(next.booking_id, `S-162-${compact(day(10))}-005`, 'booking ids are never reused after a cancellation')
    t.equal(next.patient_id, '005')

    const cancelledAgain = await api.post('/api/edit_patient_booking', { clinic_id: 162, booking_id: seats[1]?.booking_id ?? '', status: 'cancelled' })
    t.equal(cancelledAgain.status, 404, 'a cancelled booking is gone from the day')
  })

  t.test('cancelling with "cancelled" or "ملغى" frees the seat for the patient app', async (t) => {
    await createDays(163, { [day(10)]: { capacity_total: 2 } })
    const a = await secretaryBooks(163, day(10))
    const b = await secretaryBooks(163, day(10))
    t.equal((await api.post('/api/edit_patient_booking', { clinic_id: 163, booking_id: a.booking_id, status: 'cancelled' })).status, 200)
    t.equal((await api.post('/api/edit_patient_booking', { clinic_id: 163, booking_id: b.booking_id, status: 'ملغى' })).status, 200)
    const listed = (await daysOf(163)).days[day(10)]
    t.equal(listed?.capacity_used, 0)
    t.same(listed?.patients, [])
    const res = await api.post('/api/patient_booking', { clinic_id: 163, name: 'x', phone: PHONE, date: day(10) })
    t.equal(res.status, 200)
    t.has(res.json(), { token: 1, capacity_used: 1, booking_id: `B-163-${compact(day(10))}-0003` })
  })

  t.test('answers the legacy errors for a bad booking_id, a missing table, day or booking', async (t) => {
    await createDays(164, { [day(10)]: { capacity_total: 2 } })
    const booked = await secretaryBooks(164, day(10))
    const edit = async (clinicId: number, bookingId: string): Promise<{ status: number, detail: string }> => {
      const res = await api.post('/api/edit_patient_booking', { clinic_id: clinicId, booking_id: bookingId, status: 'served' })
      return { status: res.status, detail: res.json<DetailBody>().detail }
    }
    t.same(await edit(164, 'S-164-001'), { status: 400, detail: 'invalid booking_id' })
    t.same(await edit(164, 'S-164-20250230-001'), { status: 400, detail: 'date part inside booking_id invalid' })
    t.same(await edit(164, 'S-164-2025113-001'), { status: 400, detail: 'date part inside booking_id invalid' })
    t.same(await edit(165, booked.booking_id.replace('S-164', 'S-165')), { status: 404, detail: text.noTable })
    t.same(await edit(164, `S-164-${compact(day(11))}-001`), { status: 404, detail: 'day extracted from booking_id not found' })
    t.same(await edit(164, `S-164-${compact(day(10))}-009`), { status: 404, detail: text.bookingNotFound })
  })

  t.test('an unknown status is a 422 and changes nothing', async (t) => {
    await createDays(166, { [day(10)]: { capacity_total: 2 } })
    const booked = await secretaryBooks(166, day(10))
    const res = await api.post('/api/edit_patient_booking', { clinic_id: 166, booking_id: booked.booking_id, status: 'finished' })
    t.equal(res.status, 422)
    t.equal(res.json<ValidationBody>().detail[0]?.loc.join('.'), 'body.status')
    t.equal((await daysOf(166)).days[day(10)]?.patients[0]?.status, text.booked)
  })
})

t.test('close_table and the archive', async (t) => {
  t.test('closing a day cancels the unserved bookings, archives the day and removes it from the list', async (t) => {
    await createDays(170, { [day(10)]: { capacity_total: 5 }, [day(11)]: { capacity_total: 5 } })
    const a = await secretaryBooks(170, day(10), 'أ')
    const b = await secretaryBooks(170, day(10), 'ب')
    const c = await secretaryBooks(170, day(10), 'ج')
    await api.post('/api/edit_patient_booking', { clinic_id: 170, booking_id: a.booking_id, status: 'served' })
    await api.post('/api/edit_patient_booking', { clinic_id: 170, booking_id: c.booking_id, status: 'cancelled' })

    const res = await api.post('/api/close_table', { clinic_id: 170, date: day(10) })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.dayArchived, removed_all: false })
    t.same(Object.keys((await daysOf(170)).days), [day(11)], 'the closed day left the live list')

    const archives = await archivesOf(170)
    t.equal(archives.clinic_id, 170)
    t.equal(archives.items.length, 1)
    const item = archives.items[0]
    t.same(shapeOf(item), sortedShape({ table_date: 'string', capacity_total: 'number', capacity_served: 'number', capacity_cancelled: 'number', patients: 'array' }))
    t.has(item, { table_date: day(10), capacity_total: 5, capacity_served: 1 })
    t.same(item?.patients.map((p) => [p.booking_id, p.status]), [[a.booking_id, text.served], [b.booking_id, text.cancelled]],
      'served stays served, every other booking is archived as ملغى')
    for (const p of item?.patients ?? []) t.same(shapeOf(p), patientEntryShape, `archived entry ${p.booking_id} has the live entry's keys`)
    const cancelledInList = item?.patients.filter((p) => p.status === text.cancelled).length
    t.equal(item?.capacity_cancelled, cancelledInList, 'capacity_cancelled counts the ملغى entries of the archived list')
  })

  t.test('closing the last day answers removed_all with the "whole list deleted" message', async (t) => {
    await createDays(171, { [day(10)]: { capacity_total: 5 } })
    await secretaryBooks(171, day(10))
    const res = await api.post('/api/close_table', { clinic_id: 171, date: day(10) })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.dayArchivedAllRemoved, removed_all: true })
    t.equal((await api.get('/api/booking_days?clinic_id=171')).status, 404)
    t.same((await api.get('/api/all_days?clinic_id=171')).json(), { clinic_id: 171, days: {} })
  })

  t.test('closing a date that is not there answers 404', async (t) => {
    await createDays(172, { [day(10)]: { capacity_total: 5 } })
    const missingDay = await api.post('/api/close_table', { clinic_id: 172, date: day(12) })
    t.equal(missingDay.status, 404)
    t.equal(missingDay.json<DetailBody>().detail, text.dateNotFound)
    const missingTable = await api.post('/api/close_table', { clinic_id: 173, date: day(12) })
    t.equal(missingTable.status, 404)
    t.equal(missingTable.json<DetailBody>().detail, text.noTable)
    t.equal((await api.post('/api/close_table', { clinic_id: 172, date: '2025-02-30' })).status, 422)
  })

  t.test('a patient-app booking of a closed (archived) date is refused, not 500', async (t) => {
    await createDays(174, { [day(10)]: { capacity_total: 5 }, [day(11)]: { capacity_total: 5 } })
    await api.post('/api/close_table', { clinic_id: 174, date: day(10) })
    const res = await api.post('/api/patient_booking', { clinic_id: 174, name: 'x', phone: PHONE, date: day(10) })
    t.equal(res.status, 409)
    t.type(res.json<DetailBody>().detail, 'string')
  })
})

t.test('save_table and booking_archives', async (t) => {
  t.test('save_table archives a live day from its bookings, keeps it live, and says created then updated', async (t) => {
    await createDays(180, { [day(10)]: { capacity_total: 6 } })
    const a = await secretaryBooks(180, day(10))
    await secretaryBooks(180, day(10))
    await api.post('/api/edit_patient_booking', { clinic_id: 180, booking_id: a.booking_id, status: 'served' })

    const first = await api.post('/api/save_table', { clinic_id: 180, closed_date: day(10) })
    t.equal(first.status, 200)
    t.same(first.json(), { status: text.archiveCreated })
    const second = await api.post('/api/save_table', { clinic_id: 180, closed_date: day(10), capacity_total: 8 })
    t.equal(second.status, 200)
    t.same(second.json(), { status: text.archiveUpdated })

    t.equal((await daysOf(180)).days[day(10)]?.patients.length, 2, 'the live day is left in the list')
    const [item] = (await archivesOf(180)).items
    t.has(item, { table_date: day(10), capacity_total: 8, capacity_served: 1, capacity_cancelled: 0 })
    t.same(item?.patients.map((p) => p.status), [text.served, text.booked])
  })

  t.test('save_table with capacity_total and patients needs no live day and leaves missing counts null', async (t) => {
    const patients: Json = [{ booking_id: 'S-181-20250101-001', token: 1, patient_id: '001', name: 'x', phone: PHONE, source: 'secretary_app', status: text.served, created_at: '2025-01-01T08:00:00' }]
    const res = await api.post('/api/save_table', { clinic_id: 181, closed_date: '2025-01-01', capacity_total: 10, patients })
    t.equal(res.status, 200)
    t.same(res.json(), { status: text.archiveCreated })
    t.same((await archivesOf(181)).items, [{ table_date: '2025-01-01', capacity_total: 10, capacity_served: null, capacity_cancelled: null, patients }])
  })

  t.test('save_table reads the date from closed_date only: table_date alone is a 422', async (t) => {
    await createDays(182, { [day(10)]: { capacity_total: 6 } })
    const res = await api.post('/api/save_table', { clinic_id: 182, table_date: day(10) })
    t.equal(res.status, 422)
    t.same(res.json<ValidationBody>().detail[0]?.loc, ['body', 'closed_date'])
    t.same((await archivesOf(182)).items, [])
  })

  t.test('save_table of a day that is not there answers 404', async (t) => {
    const res = await api.post('/api/save_table', { clinic_id: 183, closed_date: day(10) })
    t.equal(res.status, 404)
    t.equal(res.json<DetailBody>().detail, text.noTable)
  })

  t.test('booking_archives lists newest first and honours from_date, to_date and limit', async (t) => {
    for (const date of ['2025-03-01', '2025-03-03', '2025-03-02', '2025-03-05']) {
      const res = await api.post('/api/save_table', { clinic_id: 184, closed_date: date, capacity_total: 3, patients: [] })
      t.equal(res.status, 200)
    }
    const dates = async (query: string): Promise<string[]> => (await archivesOf(184, query)).items.map((i) => i.table_date)
    t.same(await dates(''), ['2025-03-05', '2025-03-03', '2025-03-02', '2025-03-01'])
    t.same(await dates('?from_date=2025-03-02&to_date=2025-03-03'), ['2025-03-03', '2025-03-02'], 'both bounds inclusive')
    t.same(await dates('?from_date=2025-03-03'), ['2025-03-05', '2025-03-03'])
    t.same(await dates('?to_date=2025-03-01'), ['2025-03-01'])
    t.same(await dates('?limit=2'), ['2025-03-05', '2025-03-03'])
    t.same((await archivesOf(185)).items, [], 'a clinic without archives has an empty list')
    const mirrored = await api.get('/backend/api/booking_archives/184?limit=1')
    t.equal(mirrored.status, 200)
    t.equal(mirrored.json<ArchivesBody>().items[0]?.table_date, '2025-03-05')
  })

  t.test('booking_archives refuses a bad date or limit with 400/422', async (t) => {
    for (const query of ['?from_date=2025-02-30', '?to_date=03/03/2025', '?from_date=yesterday', '?limit=0', '?limit=abc']) {
      const res = await api.get(`/api/booking_archives/184${query}`)
      t.ok(res.status === 400 || res.status === 422, `${query} → ${res.status}`)
      t.ok('detail' in res.json(), 'with a detail')
    }
  })
})

t.test('the app secret guards every booking route', async (t) => {
  const routes: Array<[string, string]> = [
    ['GET', '/api/booking_days?clinic_id=7'], ['GET', '/api/all_days?clinic_id=7'], ['GET', '/api/booking_archives/7'],
    ['POST', '/api/create_table'], ['POST', '/api/patient_booking'], ['POST', '/api/add_day'], ['POST', '/api/edit_patient_booking'],
    ['POST', '/api/save_table'], ['POST', '/api/close_table'], ['POST', '/backend/api/patient_booking'], ['GET', '/backend/api/booking_days?clinic_id=7']
  ]
  const body = JSON.stringify({ clinic_id: 7, name: 'x', phone: PHONE, source: 'secretary_app', date: day(30) })
  for (const [method, path] of routes) {
    const variants: Array<Record<string, string>> = [{ 'Content-Type': 'application/json' }, { 'Content-Type': 'application/json', 'Doctor-Secret': 'wrong' }]
    for (const headers of variants) {
      const res = await api.request(`${path}`, { method, headers, body: method === 'GET' ? undefined : body })
      t.equal(res.status, 403, `${method} ${path} ${'Doctor-Secret' in headers ? 'wrong secret' : 'no secret'}`)
      t.equal(res.json<DetailBody>().detail, 'forbidden')
    }
  }
  t.notOk(day(30) in (await daysOf(7)).days, 'no booking went through')
})

t.test('Idempotency-Key on patient_booking', async (t) => {
  await createDays(190, { [day(10)]: { capacity_total: 5 } })
  const body: Json = { clinic_id: 190, name: 'عمر', phone: PHONE, source: 'secretary_app', date: day(10) }
  const first = await api.post('/api/patient_booking', body, { headers: { 'Idempotency-Key': 'retry-190-a' } })
  t.equal(first.status, 200)
  t.equal(first.headers['idempotent-replayed'], undefined, 'the first answer is not a replay')
  const again = await api.post('/api/patient_booking', body, { headers: { 'Idempotency-Key': 'retry-190-a' } })
  t.equal(again.status, 200)
  t.equal(again.text, first.text, 'a retry gets the first answer, byte for byte')
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal((await daysOf(190)).days[day(10)]?.patients.length, 1, 'only one booking is stored')

  const other = await api.post('/api/patient_booking', { ...body, name: 'غيره' }, { headers: { 'Idempotency-Key': 'retry-190-a' } })
  t.equal(other.status, 422, 'the same key with another body is refused')
  t.type(other.json<DetailBody>().detail, 'string')
  t.equal((await daysOf(190)).days[day(10)]?.patients.length, 1)

  const fresh = await api.post('/api/patient_booking', body, { headers: { 'Idempotency-Key': 'retry-190-b' } })
  t.equal(fresh.status, 200, 'a new key books again')
  t.equal(fresh.json<BookingAnswer>().token, 2)

  const racing = await Promise.all([1, 2, 3].map(async () => await api.post('/api/patient_booking', body, { headers: { 'Idempotency-Key': 'retry-190-c' } })))
  t.same(racing.map((r) => r.status), [200, 200, 200], 'three copies sent at once all succeed')
  t.equal(new Set(racing.map((r) => r.text)).size, 1, 'with one answer')
  t.equal(racing.filter((r) => r.headers['idempotent-replayed'] === 'true').length, 2, 'two of them replayed')
  t.equal((await daysOf(190)).days[day(10)]?.patients.length, 3, 'and one booking stored')

  const invalid = await api.post('/api/patient_booking', body, { headers: { 'Idempotency-Key': 'has space' } })
  t.equal(invalid.status, 400, 'a key that is not visible ASCII is refused')
  t.equal((await daysOf(190)).days[day(10)]?.patients.length, 3)
})

t.test('text carrying a NUL character is refused with 4xx, not 500', async (t) => {
  await createDays(195, { [day(10)]: { capacity_total: 5 } })
  const name = await api.post('/api/patient_booking', { clinic_id: 195, name: 'a\u0000b', phone: PHONE, source: 'secretary_app', date: day(10) })
  t.ok(name.status >= 400 && name.status < 500, `patient_booking name → ${name.status}`)
  const extra = await api.post('/api/create_table', { clinic_id: 195, days: { [day(11)]: { capacity_total: 5, note: 'a\u0000b' } } })
  t.ok(extra.status >= 400 && extra.status < 500, `create_table day key → ${extra.status}`)
  t.same(Object.keys((await daysOf(195)).days), [day(10)])
  t.equal((await daysOf(195)).days[day(10)]?.patients.length, 0)
})

t.test('a burst of malformed requests on every regular POST route gets 4xx and changes nothing', async (t) => {
  const clinicId = 199
  await createDays(clinicId, { [day(10)]: { capacity_total: 3 }, [day(11)]: { capacity_total: 3 } })
  const booked = await secretaryBooks(clinicId, day(10))
  const before = await daysOf(clinicId)
  const archivesBefore = await archivesOf(clinicId)

  // A valid body per route: every request below breaks exactly one thing in it.
  const routes: BurstRoute[] = [
    {
      path: '/api/create_table',
      base: { clinic_id: clinicId, days: { [day(12)]: { capacity_total: 3 } } },
      fields: {
        clinic_id: bad.id,
        days: [[], 'x', 5, null, {}, { '2025-02-30': { capacity_total: 3 } }, { [day(12)]: [] }, { [day(12)]: null }, { [day(12)]: 'open' },
          { [day(12)]: { capacity_total: -1 } }, { [day(12)]: { capacity_total: 'many' } }, { [day(12)]: { capacity_total: 1e20 } },
          { [day(12)]: { capacity_total: 3, status: 5 } }, { [day(12)]: { capacity_total: 3, source: 'x'.repeat(33) } },
          Object.fromEntries(Array.from({ length: 367 }, (_, i) => [addDays('2030-01-01', i), { capacity_total: 1 }]))]
      },
      required: ['clinic_id', 'days']
    },
    {
      path: '/api/patient_booking',
      base: { clinic_id: clinicId, name: 'x', phone: PHONE, source: 'secretary_app', date: day(11) },
      fields: {
        clinic_id: bad.id, name: [...bad.text, '', '   ', null, 'x'.repeat(201)], phone: [...bad.text, '', null, '9'.repeat(41)],
        source: ['doctor_app', '', null, 5, []], date: bad.date, status: [...bad.status, 'cancelled', 'ملغى', null],
        patient_id: [null, {}, [], true, 'x'.repeat(65)], created_at: [5, {}, [], 'x'.repeat(65)], secretary_id: [null, {}, [], 'x'.repeat(65)]
      },
      required: ['name', 'phone', 'clinic_id']
    },
    {
      path: '/api/add_day',
      base: { clinic_id: clinicId, date_added: day(20), capacity_total: 3 },
      fields: { clinic_id: bad.id, capacity_total: bad.count, status: [5, [], {}, 'x'.repeat(33)], force_add: bad.bool, date_added: bad.date },
      required: ['clinic_id']
    },
    {
      path: '/api/edit_patient_booking',
      base: { clinic_id: clinicId, booking_id: booked.booking_id, status: 'served' },
      fields: {
        clinic_id: bad.id, status: [...bad.status, null], token: [0, -1, 'abc', 1.5, [], {}],
        booking_id: ['', ' ', 5, null, [], {}, 'x'.repeat(65), 'abc', 'S-199-001', `S-${clinicId}-20250230-001`, `S-${clinicId}-${compact(day(10))}-999`, `S-${clinicId}-99999999-001`]
      },
      required: ['clinic_id', 'booking_id', 'status']
    },
    {
      path: '/api/save_table',
      base: { clinic_id: clinicId, closed_date: day(10) },
      fields: {
        clinic_id: bad.id, closed_date: bad.date, capacity_total: bad.count, capacity_served: bad.count, capacity_cancelled: bad.count,
        patients: ['x', 5, {}, [1, 2], [[]], [{ a: { b: 1 } }], [null]]
      },
      required: ['clinic_id', 'closed_date']
    },
    {
      // An open day: the unbroken body answers 200 and changes nothing.
      path: '/api/reopen_table',
      base: { clinic_id: clinicId, date: day(10) },
      fields: { clinic_id: bad.id, date: bad.date },
      required: ['clinic_id', 'date']
    },
    {
      path: '/api/close_table',
      base: { clinic_id: clinicId, date: day(10) },
      fields: { clinic_id: bad.id, date: bad.date },
      required: ['clinic_id', 'date']
    }
  ]

  const answers = await sendMalformed(api, routes, [
    { label: 'patient_booking with a bad Idempotency-Key', send: async () => await api.post('/api/patient_booking', routes[1]?.base ?? {}, { headers: { 'Idempotency-Key': 'k'.repeat(256) } }) }
  ])
  t.ok(answers.length >= 300, `${answers.length} malformed requests sent`)
  const wrong = answers.filter((a) => a.status < 400 || a.status >= 500).map((a) => `${a.label} → ${a.status} ${a.text.slice(0, 120)}`)
  t.same(wrong, [], 'every malformed request got a 4xx')
  const unparsable = answers.filter((a) => { try { JSON.parse(a.text); return false } catch { return true } }).map((a) => a.label)
  t.same(unparsable, [], 'every answer is JSON')

  t.same(await daysOf(clinicId), before, 'booking_days is unchanged')
  t.same(await archivesOf(clinicId), archivesBefore, 'no archive was written')

  // Control: each unbroken body is accepted, so the refusals above were for the broken field.
  for (const route of routes) {
    const res = await api.post(route.path, route.base)
    t.equal(res.status, 200, `the unbroken ${route.path} body is accepted`)
  }
})
