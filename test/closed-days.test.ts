import t from 'tap'
import { archivePastDays } from '../src/booking/archive.ts'
import { ok, type Response } from './helpers/client.ts'
import { SECRET } from './helpers/legacy-client.ts'
import { startStack } from './helpers/stack.ts'
import { bookingApi, day, today, type ArchivesBody, type BookingAnswer, type DaysBody, type DetailBody, type Json } from './helpers/booking-api.ts'
import { login, withAdmin } from './helpers/admin.ts'
import { startFirebase } from './helpers/firebase.ts'

// A closed day stays closed (issue: a secretary's walk-in after close_table reopened the day, and what was booked
// after the close reached no archive). Walk-ins are still taken on a closed day: the patient is at the desk, legacy's
// secretary app books any date (legacy-api.md §3.3) and SECRETARY_OVERBOOK says walk-ins are real (contract §2.2).
// They are archived with the date, whatever the order of closes, walk-ins and the nightly run; reopen_table is the
// one way back for the patient app.

// Strict mode gives a patient a token only for a phone a Firebase ID token proves (test/helpers/firebase.ts).
const firebase = await startFirebase()
t.teardown(firebase.close)
// Two apps on one database: the same days in legacy and in strict mode.
const { app: server, sql, launch } = await startStack(t, { mode: 'in-process', env: withAdmin() })
const strict = await launch(t, { AUTH_MODE: 'strict', ...firebase.env })
const api = bookingApi(server)

const PHONE = '+9647701234567'
const CLOSED = 'هذا اليوم مغلق ولا يقبل حجوزات جديدة'
const SERVED = 'تمت المعاينة'
const CANCELLED = 'ملغى'
const BOOKED = 'تم الحجز'
const ADDED_CLOSED = 'تمت إضافة اليوم مغلقاً لأن هذا التاريخ أُغلق سابقاً؛ لفتحه استخدم إعادة فتح اليوم'

const createDays = (clinicId: number, days: Record<string, { capacity_total: number }>) =>
  ok(api.post('/api/create_table', { clinic_id: clinicId, days }), `create_table ${clinicId}`)
const walkIn = async (clinicId: number, date: string, name: string): Promise<BookingAnswer> =>
  await ok(api.post('/api/patient_booking', { clinic_id: clinicId, name, phone: PHONE, source: 'secretary_app', date }), `walk-in ${name}`) as unknown as BookingAnswer
const patientBooks = (clinicId: number, body: Record<string, string | number>) =>
  api.post('/api/patient_booking', { clinic_id: clinicId, name: 'مريض', phone: PHONE, ...body })
const close = (clinicId: number, date: string) => ok(api.post('/api/close_table', { clinic_id: clinicId, date }), `close ${date}`)
const serve = (clinicId: number, bookingId: string) =>
  ok(api.post('/api/edit_patient_booking', { clinic_id: clinicId, booking_id: bookingId, status: 'served' }), `serve ${bookingId}`)
const daysOf = async (clinicId: number): Promise<DaysBody['days']> => {
  const res = await api.get(`/api/booking_days?clinic_id=${clinicId}`)
  return res.status === 404 ? {} : res.json<DaysBody>().days
}
const archivesOf = async (clinicId: number): Promise<ArchivesBody['items']> =>
  (await api.get(`/api/booking_archives/${clinicId}`)).json<ArchivesBody>().items

t.test('a walk-in after close_table keeps the day closed to the patient app', async (t) => {
  // The doctor's profile says 20 a day; the day itself was opened with 3.
  await sql`INSERT INTO clinics (id, receiving_patients) VALUES (701, 20)`
  await createDays(701, { [today]: { capacity_total: 3 }, [day(1)]: { capacity_total: 3 } })
  const early = await ok(patientBooks(701, { date: today, patient_id: 'P-1' }), 'patient app before the close')
  await close(701, today)

  const late = await walkIn(701, today, 'جاء متأخراً')
  t.equal(late.token, 1, 'the walk-in is taken')
  const closedDay = (await daysOf(701))[today]
  t.equal(closedDay?.status, 'closed', 'the day it created is closed, as the day was')
  t.equal(closedDay?.capacity_total, 3, "with the closed day's capacity, not the profile's 20")

  const dated = await patientBooks(701, { date: today, patient_id: 'P-2' })
  t.equal(dated.status, 409, 'a dated patient-app booking is refused')
  t.same(dated.json(), { detail: CLOSED, code: 'day_closed', date: today })
  const searched = await ok(patientBooks(701, { patient_id: 'P-3' }), 'automatic search')
  t.equal(searched['date'], day(1), 'the automatic search passes the closed day over')
  t.equal((await walkIn(701, today, 'ثانٍ')).token, 2, 'more walk-ins are taken')
  t.not(early['booking_id'], late.booking_id)
})

t.test('the walk-ins after a close are archived with the day: close, walk-in, close again', async (t) => {
  await createDays(702, { [day(2)]: { capacity_total: 5 }, [day(3)]: { capacity_total: 5 } })
  const a = await walkIn(702, day(2), 'أ')
  const b = await walkIn(702, day(2), 'ب')
  await serve(702, a.booking_id)
  await close(702, day(2))
  const c = await walkIn(702, day(2), 'ج')
  const d = await walkIn(702, day(2), 'د')
  await serve(702, c.booking_id)
  const again = await close(702, day(2))
  t.same(again, { status: 'تم إغلاق وحفظ اليوم في الأرشيف بنجاح', removed_all: false })

  const [archive, ...more] = await archivesOf(702)
  t.equal(more.length, 0, 'one archive for the date')
  t.same(archive?.patients.map((p) => [p.booking_id, p.status]), [
    [a.booking_id, SERVED], [b.booking_id, CANCELLED], [c.booking_id, SERVED], [d.booking_id, CANCELLED]
  ], 'both sessions, in order')
  t.same([archive?.capacity_total, archive?.capacity_served, archive?.capacity_cancelled], [5, 2, 2], 'counts of the whole list')
  t.notOk(day(2) in await daysOf(702), 'the date left the live list again')
})

t.test('the nightly archive completes the archive of a closed day, whatever came first', async (t) => {
  // Yesterday: the nightly run's to take. Secretaries may book past dates (legacy), the patient app may not.
  const yesterday = day(-1)
  await createDays(703, { [yesterday]: { capacity_total: 4 } })
  const a = await walkIn(703, yesterday, 'أ')
  await serve(703, a.booking_id)
  await close(703, yesterday)
  const b = await walkIn(703, yesterday, 'ب') // after the close, still live, left booked

  // And a day archived by hand (save_table), then given one more booking.
  await createDays(704, { [yesterday]: { capacity_total: 4 } })
  const c = await walkIn(704, yesterday, 'ج')
  t.equal((await api.post('/api/save_table', { clinic_id: 704, closed_date: yesterday })).status, 200)
  await serve(704, c.booking_id)
  const d = await walkIn(704, yesterday, 'د')

  const result = await archivePastDays(sql)
  t.ok(result.days >= 2, `the nightly run archived the live past days (${result.days})`)
  const [closed] = await archivesOf(703)
  t.same(closed?.patients.map((p) => [p.booking_id, p.status]), [[a.booking_id, SERVED], [b.booking_id, BOOKED]],
    'the walk-in after the close is in the archive, as it stood')
  t.same([closed?.capacity_served, closed?.capacity_cancelled], [1, 0])
  const [saved] = await archivesOf(704)
  t.same(saved?.patients.map((p) => [p.booking_id, p.status]), [[c.booking_id, SERVED], [d.booking_id, BOOKED]],
    'the saved entry is brought up to date and the later booking added')
  t.same(await daysOf(703), {}, 'nothing of yesterday is left live')
  t.equal((await archivePastDays(sql)).days, 0, 'a second run finds nothing to do')
})

t.test('create_table and add_day do not reopen a date close_table closed', async (t) => {
  await createDays(705, { [day(2)]: { capacity_total: 5 }, [day(3)]: { capacity_total: 5 } })
  await close(705, day(2))
  // The first posted date must be new, or legacy's create_table answers "exists" and writes nothing.
  await createDays(705, { [day(2)]: { capacity_total: 7 } })
  t.equal((await daysOf(705))[day(2)]?.status, 'closed', 'create_table re-created it closed')
  await createDays(705, { [day(4)]: { capacity_total: 5 }, [day(2)]: { capacity_total: 7 } })
  t.equal((await daysOf(705))[day(2)]?.status, 'closed', 'posting it again keeps it closed')
  t.equal((await patientBooks(705, { date: day(2) })).status, 409)

  await createDays(706, { [day(2)]: { capacity_total: 5 }, [day(3)]: { capacity_total: 5 } })
  await close(706, day(2))
  t.equal((await api.post('/api/add_day', { clinic_id: 706, date_added: day(2), capacity_total: 5 })).status, 200)
  t.equal((await daysOf(706))[day(2)]?.status, 'closed', 'add_day too')

  // A day closed by its status (legacy's other kind of closed day) is still opened again by create_table.
  await createDays(707, { [day(2)]: { capacity_total: 5 } })
  await ok(api.post('/api/create_table', { clinic_id: 707, days: { [day(3)]: { capacity_total: 5 }, [day(2)]: { capacity_total: 5, status: 'closed' } } }), 'close by status')
  t.equal((await daysOf(707))[day(2)]?.status, 'closed')
  await createDays(707, { [day(4)]: { capacity_total: 5 }, [day(2)]: { capacity_total: 5 } })
  t.equal((await daysOf(707))[day(2)]?.status, 'open')
})

t.test('add_day onto a closed date adds nothing open: by date, with status "open", or as the next day', async (t) => {
  await createDays(720, { [day(2)]: { capacity_total: 2 }, [day(3)]: { capacity_total: 5 } })
  await close(720, day(3))
  const asked = await api.post('/api/add_day', { clinic_id: 720, date_added: day(3), capacity_total: 5, status: 'open' })
  t.equal(asked.status, 200)
  t.same(asked.json(), { status: 'تم الانشاء بنجاح', message: `${ADDED_CLOSED}: ${day(3)}`, date_added: day(3) }, 'the answer says it was added closed')
  t.equal((await daysOf(720))[day(3)]?.status, 'closed', 'status "open" does not reopen a date close_table closed')
  t.equal((await patientBooks(720, { date: day(3), patient_id: 'P-81' })).status, 409, 'the patient app is still refused')
  const again = await api.post('/api/add_day', { clinic_id: 720, date_added: day(3), capacity_total: 9 })
  t.match(again.json(), { status: 'موجود' }, 'a second add_day finds the closed day and leaves it')
  t.equal((await daysOf(720))[day(3)]?.status, 'closed')
  const fresh = await api.post('/api/add_day', { clinic_id: 720, date_added: day(5), capacity_total: 5 })
  t.match(fresh.json(), { message: `تمت إضافة اليوم الجديد: ${day(5)}` }, 'a date never closed is added open, as before')
  t.equal((await daysOf(720))[day(5)]?.status, 'open')

  // The next day after a full last day is a date close_table closed: added closed.
  await createDays(721, { [day(2)]: { capacity_total: 1 }, [day(3)]: { capacity_total: 1 } })
  await close(721, day(3))
  await ok(patientBooks(721, { date: day(2), patient_id: 'P-82' }), 'fill the last live day')
  const next = await api.post('/api/add_day', { clinic_id: 721 })
  t.equal(next.status, 200)
  t.match(next.json(), { date_added: day(3), message: `${ADDED_CLOSED}: ${day(3)}` })
  t.equal((await daysOf(721))[day(3)]?.status, 'closed', 'added closed')
  t.equal((await patientBooks(721, { date: day(3), patient_id: 'P-83' })).status, 409)

  // A day closed by a walk-in after the close (live, closed): add_day leaves it as it is.
  await createDays(722, { [day(2)]: { capacity_total: 3 } })
  await close(722, day(2))
  await walkIn(722, day(2), 'على الباب')
  await api.post('/api/add_day', { clinic_id: 722, date_added: day(2), capacity_total: 3, status: 'open' })
  t.equal((await daysOf(722))[day(2)]?.status, 'closed')
  t.equal((await patientBooks(722, { date: day(2), patient_id: 'P-84' })).status, 409)
})

t.test('reopen_table opens a closed day to the patient app again, with its own message', async (t) => {
  await createDays(708, { [day(2)]: { capacity_total: 2 }, [day(3)]: { capacity_total: 2 } })
  const first = await walkIn(708, day(2), 'أ')
  await close(708, day(2))

  const reopened = await api.post('/api/reopen_table', { clinic_id: 708, date: day(2) })
  t.equal(reopened.status, 200)
  t.same(reopened.json(), { status: 'تم إعادة فتح اليوم بنجاح', reopened: true, date: day(2), capacity_total: 2 })
  t.same((await daysOf(708))[day(2)], { source: 'patient_app', status: 'open', capacity_total: 2, capacity_used: 0, patients: [] },
    'an open day again, empty: what close_table cancelled stays in the archive')
  const booked = await ok(patientBooks(708, { date: day(2), patient_id: 'P-8' }), 'patient app after the reopen')
  t.not(booked['booking_id'], first.booking_id)
  t.match(booked['booking_id'], /-0002$/, 'the booking ids go on from the closed day')

  const twice = await api.post('/api/reopen_table', { clinic_id: 708, date: day(2) })
  t.same(twice.json(), { status: 'اليوم مفتوح مسبقاً', reopened: false, date: day(2), capacity_total: 2 }, 'an open day: nothing to do')

  // A walk-in's closed day is opened in place, its bookings kept.
  await close(708, day(3))
  const late = await walkIn(708, day(3), 'ب')
  t.equal((await api.post('/api/reopen_table', { clinic_id: 708, date: day(3) })).status, 200)
  const open = (await daysOf(708))[day(3)]
  t.equal(open?.status, 'open')
  t.same(open?.patients.map((p) => p.booking_id), [late.booking_id])
  t.equal((await patientBooks(708, { date: day(3) })).status, 200)

  // …and closing it again archives both sessions under the one date.
  await close(708, day(3))
  const item = (await archivesOf(708)).find((i) => i.table_date === day(3))
  t.equal(item?.patients.length, 2)

  const golden = await ok(api.post('/api/create_golden_table', { clinic_id: 708, days: { [day(2)]: { capacity_total: 1 }, [day(3)]: { capacity_total: 1 } } }), 'golden days')
  t.ok(golden)
  await ok(api.post('/api/close_table_gold', { clinic_id: 708, date: day(2) }), 'golden close')
  const goldenRefused = await api.post('/api/patient_golden_booking', { clinic_id: 708, date: day(2), patient_id: 'P-9', name: 'x', phone: PHONE, auto_assign: false })
  t.equal(goldenRefused.status, 409)
  t.equal((await api.post('/api/reopen_table_gold', { clinic_id: 708, date: day(2) })).status, 200)
  t.equal((await api.post('/api/patient_golden_booking', { clinic_id: 708, date: day(2), patient_id: 'P-9', name: 'x', phone: PHONE, auto_assign: false })).status, 200)
})

t.test('save_table of a reopened date adds the day to its archive; a list the client sends still replaces it', async (t) => {
  await createDays(712, { [day(2)]: { capacity_total: 3 } })
  const a = await walkIn(712, day(2), 'أ')
  await serve(712, a.booking_id)
  await close(712, day(2))
  await ok(api.post('/api/reopen_table', { clinic_id: 712, date: day(2) }), 'reopen')
  const b = await walkIn(712, day(2), 'ب')
  t.same(await ok(api.post('/api/save_table', { clinic_id: 712, closed_date: day(2) }), 'save'), { status: 'تم تحديث الأرشيف بنجاح' })
  const [saved] = await archivesOf(712)
  t.same(saved?.patients.map((p) => [p.booking_id, p.status]), [[a.booking_id, SERVED], [b.booking_id, BOOKED]], 'the closed session is kept')

  const own = [{ booking_id: 'by-hand', token: 1, status: SERVED }]
  await ok(api.post('/api/save_table', { clinic_id: 712, closed_date: day(2), capacity_total: 3, patients: own }), 'save a list')
  t.same((await archivesOf(712))[0]?.patients, own, 'the client\'s own list replaces, as legacy')

  await ok(api.post('/api/create_golden_table', { clinic_id: 712, days: { [day(2)]: { capacity_total: 3 } } }), 'golden day')
  const g1 = await ok(api.post('/api/patient_golden_booking', { clinic_id: 712, date: day(2), patient_id: 'P-1', name: 'x', phone: PHONE, auto_assign: false }), 'golden 1')
  await ok(api.post('/api/close_table_gold', { clinic_id: 712, date: day(2) }), 'golden close')
  await ok(api.post('/api/reopen_table_gold', { clinic_id: 712, date: day(2) }), 'golden reopen')
  const g2 = await ok(api.post('/api/patient_golden_booking', { clinic_id: 712, date: day(2), patient_id: 'P-2', name: 'y', phone: PHONE, auto_assign: false }), 'golden 2')
  await ok(api.post('/api/save_table_gold', { clinic_id: 712, closed_date: day(2) }), 'golden save')
  const golden = (await api.get('/api/golden_booking_archives/712')).json<ArchivesBody>().items[0]
  t.same(golden?.patients.map((p) => p.booking_id), [g1['booking_id'], g2['booking_id']], 'save_table_gold keeps both sessions too')
})

t.test('reopen_table refuses what it cannot do, with the legacy errors', async (t) => {
  await createDays(709, { [day(2)]: { capacity_total: 2 } })
  const unknown = await api.post('/api/reopen_table', { clinic_id: 709, date: day(4) })
  t.equal(unknown.status, 404)
  t.equal(unknown.json<DetailBody>().detail, 'التاريخ غير موجود')
  const noTable = await api.post('/api/reopen_table', { clinic_id: 799, date: day(4) })
  t.equal(noTable.status, 404)
  t.equal(noTable.json<DetailBody>().detail, 'لا يوجد جدول حجز لهذه العيادة')
  const past = await api.post('/api/reopen_table', { clinic_id: 709, date: day(-1) })
  t.equal(past.status, 400)
  t.equal(past.json<DetailBody>().code, 'past_date')
  const bodies: Json[] = [{ clinic_id: 709 }, { clinic_id: 709, date: '2025-02-30' }, { clinic_id: 'x', date: day(2) }, {}]
  for (const body of bodies) {
    t.equal((await api.post('/api/reopen_table', body)).status, 422, JSON.stringify(body))
  }
  t.equal((await server.request('/api/reopen_table', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ clinic_id: 709, date: day(2) }) })).status, 403,
    'the app secret is needed')
})

t.test('strict mode: only the clinic\'s own secretary, or an admin, reopens its days', async (t) => {
  const admin = await login(strict)
  const call = (path: string, body: unknown, token: string): Promise<Response> => strict.request(path, {
    method: 'POST',
    headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body)
  })
  const secretaryOf = async (clinicId: number): Promise<string> => {
    const made = await ok(call('/api/secretary_code_generator', { clinic_id: clinicId, doctor_name: 'د', secretary_name: 'س', created_date: 'اليوم' }, admin.accessToken), 'secretary')
    const logged = await ok(strict.request('/api/secretary_login_code', {
      method: 'POST', headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json' }, body: JSON.stringify({ secretary_code: made['secretary_id'] })
    }), 'login')
    return logged['access_token'] as string
  }
  await ok(call('/api/create_table', { clinic_id: 710, days: { [day(2)]: { capacity_total: 2 }, [day(3)]: { capacity_total: 2 } } }, admin.accessToken), 'days')
  await ok(call('/api/close_table', { clinic_id: 710, date: day(2) }, admin.accessToken), 'close')
  await ok(call('/api/close_table', { clinic_id: 710, date: day(3) }, admin.accessToken), 'close')
  const own = await secretaryOf(710)
  const other = await secretaryOf(711)
  const registered = await ok(strict.request('/api/patient/register', {
    method: 'POST',
    headers: { 'Doctor-Secret': SECRET, 'Content-Type': 'application/json', Authorization: `Bearer ${await firebase.idToken({ phone: '+9647705007100' })}` },
    body: JSON.stringify({ user_uid: 'u-710', user_role: 'patient', phone_number: '+9647705007100' })
  }), 'patient')
  const patient = registered['access_token'] as string

  for (const [who, token] of [['another clinic\'s secretary', other], ['a patient', patient]] as const) {
    const res = await call('/api/reopen_table', { clinic_id: 710, date: day(2) }, token)
    t.equal(res.status, 403, who)
    t.equal(res.json<DetailBody>().detail, 'ليست لديك صلاحية كافية')
    t.equal((await call('/api/reopen_table_gold', { clinic_id: 710, date: day(2) }, token)).status, 403, `${who}, golden`)
  }
  t.notOk(day(2) in ((await (await strict.request('/api/booking_days?clinic_id=710', { headers: { 'Doctor-Secret': SECRET, Authorization: `Bearer ${own}` } })).json<DaysBody>()).days ?? {}),
    'nothing was reopened')
  t.equal((await call('/api/reopen_table', { clinic_id: 710, date: day(2) }, own)).status, 200, 'its own secretary')
  t.equal((await call('/api/reopen_table', { clinic_id: 710, date: day(3) }, admin.accessToken)).status, 200, 'an admin')
})
