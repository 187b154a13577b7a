import t from 'tap'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import type { Response } from './helpers/client.ts'
import { waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'

// Real parallel HTTP requests over fresh connections, spread by the kernel over two workers, against one
// PostgreSQL. What the legacy server lost (legacy-api.md §4.6) must hold here exactly.

const { app: server, sql, api } = await startStack(t, { mode: 'cluster', env: { DB_POOL_BUDGET: '24' } })

const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> => api.post(path, body, { headers, timeoutMs: 30_000 })
const future = (days: number): string => addDays(iraqToday(), days)

interface Booked { booking_id: string, token: number, date: string, code?: string }
interface DayJson { capacity_used: number, capacity_total: number, patients: Array<{ booking_id: string, token: number }> }

async function days (clinicId: number, lane = 'booking_days'): Promise<Record<string, DayJson>> {
  const res = await api.get(`/api/${lane}?clinic_id=${clinicId}`)
  return res.json<{ days: Record<string, DayJson> }>().days
}

// Workers push their counters every second: wait for both pushes rather than read a stale figure.
async function workersThatServed (): Promise<number> {
  return await waitFor('both workers to report traffic', async () => {
    const stats = (await server.request('/stats')).json<{ workers: Array<{ requests: number }> }>()
    const busy = stats.workers.filter((w) => w.requests > 5).length
    return busy === 2 ? busy : null
  }, 15_000, 100).catch(() => 1)
}

t.test('300 racers for 20 seats: exactly 20 booked, tokens 1..20, every 200 stored, ids unique', async (t) => {
  const date = future(3)
  await post('/api/create_table', { clinic_id: 101, days: { [date]: { capacity_total: 20 } } })
  const answers = await Promise.all(Array.from({ length: 300 }, (_, i) =>
    post('/api/patient_booking', { clinic_id: 101, name: `مريض ${i}`, phone: '+9647700000000', patient_id: `P-${1000 + i}`, date })))
  const ok = answers.filter((a) => a.status === 200).map((a) => a.json<Booked>())
  const full = answers.filter((a) => a.status === 409)
  t.equal(ok.length, 20, 'exactly 20 answered 200')
  t.equal(full.length, 280, 'the rest were told the day is full')
  t.ok(answers.every((a) => a.status === 200 || a.status === 409), 'no other answer, no 5xx')
  t.same(ok.map((b) => b.token).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1), 'tokens 1..20, each once')
  t.equal(new Set(ok.map((b) => b.booking_id)).size, 20, 'booking ids unique')
  const day = (await days(101))[date] as DayJson
  t.equal(day.capacity_used, 20)
  t.same(day.patients.map((p) => p.booking_id).sort(), ok.map((b) => b.booking_id).sort(), 'every booking answered 200 is stored')
  t.equal(await workersThatServed(), 2, 'both workers took part')
})

t.test('the automatic search under a race fills each day exactly to capacity, in date order', async (t) => {
  await sql`INSERT INTO clinics (id, name, receiving_patients) VALUES (102, 'د. سباق', 5)`
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    post('/api/patient_booking', { clinic_id: 102, name: `auto ${i}`, phone: '+9647700000001', patient_id: `P-${2000 + i}` })))
  t.ok(answers.every((a) => a.status === 200), `all 40 booked (${answers.map((a) => a.status).join(',')})`)
  const byDay = new Map<string, number[]>()
  for (const b of answers.map((a) => a.json<Booked>())) byDay.set(b.date, [...(byDay.get(b.date) ?? []), b.token])
  const dates = [...byDay.keys()].sort()
  t.equal(dates.length, 8, '40 patients over 8 days of 5')
  t.equal(dates[0], iraqToday(), 'starting today in Iraq')
  for (const date of dates) t.same((byDay.get(date) ?? []).sort((a, b) => a - b), [1, 2, 3, 4, 5], `${date}: tokens 1..5`)
})

t.test('one patient racing himself gets one booking and 409s naming it', async (t) => {
  const date = future(4)
  const answers = await Promise.all(Array.from({ length: 20 }, () =>
    post('/api/patient_booking', { clinic_id: 103, name: 'نفس المريض', phone: '+9647700000002', patient_id: 'P-77', date })))
  t.equal(answers.filter((a) => a.status === 200).length, 1)
  t.equal(answers.filter((a) => a.status === 409).length, 19)
  const [row] = await sql`SELECT count(*)::int AS n FROM bookings b JOIN booking_days d ON d.id = b.day_id WHERE d.clinic_id = 103`
  t.equal(row?.n, 1, 'one row stored')
})

t.test('cancellations racing new bookings leave the queue contiguous and never reuse an id', async (t) => {
  const date = future(5)
  await post('/api/create_table', { clinic_id: 104, days: { [date]: { capacity_total: 60 } } })
  const first: Booked[] = []
  for (let i = 0; i < 30; i++) {
    first.push((await post('/api/patient_booking', { clinic_id: 104, name: `a${i}`, phone: '1', patient_id: `P-${3000 + i}`, date })).json<Booked>())
  }
  const victims = first.filter((_, i) => i % 3 === 0) // 10 of them, spread through the queue
  const answers = await Promise.all([
    ...victims.map((b) => post('/api/edit_patient_booking', { clinic_id: 104, booking_id: b.booking_id, status: 'cancelled' })),
    ...Array.from({ length: 20 }, (_, i) => post('/api/patient_booking', { clinic_id: 104, name: `b${i}`, phone: '1', patient_id: `P-${4000 + i}`, date }))
  ])
  t.ok(answers.every((a) => a.status === 200), `every cancel and booking succeeded (${answers.map((a) => a.status).join(',')})`)
  const day = (await days(104))[date] as DayJson
  t.equal(day.patients.length, 40, '30 - 10 + 20 active')
  t.equal(day.capacity_used, 40, 'capacity_used is the number of active bookings')
  t.same(day.patients.map((p) => p.token), Array.from({ length: 40 }, (_, i) => i + 1), 'tokens 1..40 in order, no gap, no repeat')
  const [ids] = await sql`SELECT count(*)::int AS n, count(DISTINCT display_id)::int AS distinct_ids FROM bookings b JOIN booking_days d ON d.id = b.day_id WHERE d.clinic_id = 104`
  t.equal(ids?.n, 50, 'cancelled bookings stay as rows')
  t.equal(ids?.distinct_ids, 50, 'no booking id was handed out twice')
})

t.test('golden codes are unique per clinic and day under a race', async (t) => {
  const date = future(6)
  await post('/api/create_golden_table', { clinic_id: 105, days: { [date]: { capacity_total: 80 } } })
  const answers = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    post('/api/patient_golden_booking', { clinic_id: 105, date, patient_id: `P-${5000 + i}`, name: `g${i}`, phone: '1', auto_assign: false })))
  t.ok(answers.every((a) => a.status === 200))
  const booked = answers.map((a) => a.json<Booked>())
  t.equal(new Set(booked.map((b) => b.code)).size, 60, '60 distinct codes')
  t.ok(booked.every((b) => /^[1-9]\d{3}$/.test(b.code ?? '')), 'each a 4-digit code')
  t.same(booked.map((b) => b.token).sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1))
})

t.test('a retried request with one Idempotency-Key books once, even when the retries race', async (t) => {
  const date = future(7)
  const body = { clinic_id: 106, name: 'مكرر', phone: '+9647700000003', patient_id: 'P-606', date }
  const answers = await Promise.all(Array.from({ length: 10 }, () => post('/api/patient_booking', body, { 'Idempotency-Key': 'phone-retry-1' })))
  t.ok(answers.every((a) => a.status === 200), 'every retry answered 200')
  t.equal(new Set(answers.map((a) => a.text)).size, 1, 'all with the first answer')
  t.equal(answers.filter((a) => a.headers['idempotent-replayed'] === 'true').length, 9, 'nine of them replayed')
  const [row] = await sql`SELECT count(*)::int AS n FROM bookings b JOIN booking_days d ON d.id = b.day_id WHERE d.clinic_id = 106`
  t.equal(row?.n, 1, 'one booking stored')
})

t.test('walk-ins and patient bookings racing close_table: every booking answered 200 is in the one archive, once', async (t) => {
  const date = future(8)
  await post('/api/create_table', { clinic_id: 107, days: { [date]: { capacity_total: 200 }, [future(9)]: { capacity_total: 5 } } })
  const walkIn = (i: number) => post('/api/patient_booking', { clinic_id: 107, name: `w${i}`, phone: '1', source: 'secretary_app', date })
  const patient = (i: number) => post('/api/patient_booking', { clinic_id: 107, name: `p${i}`, phone: '1', patient_id: `P-${7000 + i}`, date })
  const close = () => post('/api/close_table', { clinic_id: 107, date })
  const [walkIns, patients, closes] = await Promise.all([
    Promise.all(Array.from({ length: 50 }, (_, i) => walkIn(i))),
    Promise.all(Array.from({ length: 50 }, (_, i) => patient(i))),
    Promise.all(Array.from({ length: 3 }, async (_, i) => { await new Promise((resolve) => setTimeout(resolve, 20 * i)); return await close() }))
  ])
  t.ok(walkIns.every((a) => a.status === 200), 'every walk-in was taken, before or after a close', { diag: walkIns.filter((a) => a.status !== 200).map((a) => a.text) })
  t.ok(patients.every((a) => a.status === 200 || a.json<{ code?: string }>().code === 'day_closed'), 'the patient app booked before the close, or was told it is closed', { diag: patients.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`) })
  t.ok(closes.some((a) => a.status === 200), 'the day was closed')
  t.ok(closes.every((a) => a.status === 200 || a.status === 404), 'a close that found no live day is the legacy 404')

  // Whatever the walk-ins left live after the last close is closed now, into the same archive.
  const tail = await close()
  t.ok(tail.status === 200 || tail.status === 404)
  const booked = [...walkIns, ...patients].filter((a) => a.status === 200).map((a) => a.json<Booked>().booking_id)
  const [archive] = await sql<Array<{ patients: Array<{ booking_id: string }> }>>`
    SELECT patients FROM day_archives WHERE clinic_id = 107 AND lane = 'regular' AND day = ${date}`
  const archived = archive?.patients.map((p) => p.booking_id) ?? []
  t.equal(new Set(archived).size, archived.length, 'no entry twice')
  t.same([...archived].sort(), [...booked].sort(), `all ${booked.length} bookings answered 200, and nothing else`)
  t.notOk(date in await days(107), 'the date is closed')
})
