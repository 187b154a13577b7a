import t from 'tap'
import { iraqToday } from '../src/domain/calendar.ts'
import type { Response } from './helpers/client.ts'
import { startStack } from './helpers/stack.ts'

// Golden payments as the apps call them (legacy-api.md §2.15, §3.11; contract §2.7): the legacy shapes the apps read, the fee
// from the clinic, the duplicate rule under a race, and the all-clinics report against sums computed here.

const { api, sql } = await startStack(t, { mode: 'in-process', env: { DB_POOL_BUDGET: '24' } })

const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> => api.post(path, body, { headers, timeoutMs: 30_000 })
const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => api.get(path, { headers, timeoutMs: 30_000 })

const DUPLICATE = { detail: { error: { code: 'duplicate', message: 'this booking was already saved in the payments log' } } }

interface Visit { clinic_id: number, exam_date: string, book_status: string, patient_name: string, booking_id: string, code: string }
const visit = (clinicId: number, bookingId: string, examDate: string): Visit => ({
  clinic_id: clinicId, exam_date: examDate, book_status: 'تمت المعاينة', patient_name: `مريض ${bookingId}`, booking_id: bookingId, code: '6270'
})
const patientOf = (v: Visit): Omit<Visit, 'clinic_id'> =>
  ({ exam_date: v.exam_date, book_status: v.book_status, patient_name: v.patient_name, booking_id: v.booking_id, code: v.code })

// Every stored row, so a test can prove that nothing changed.
async function ledgerSnapshot (): Promise<string> {
  const [row] = await sql<Array<{ digest: string | null }>>`
    SELECT md5(string_agg(concat_ws('|', id, clinic_id, booking_id, patient_name, code, exam_date, book_status, amount, payment_month, payment_status), ',' ORDER BY id)) AS digest
    FROM golden_payments`
  return row?.digest ?? 'empty'
}

async function inBatches<T, R> (items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += size) out.push(...await Promise.all(items.slice(i, i + size).map(work)))
  return out
}

t.test('with no payments yet the all-clinics report is all zeros', async (t) => {
  const res = await get('/api/all_clinics_golden_payments')
  t.equal(res.status, 200)
  t.strictSame(res.json(), { total_clinics: 0, total_payments: 0, total_amount: 0, total_paid: 0, total_remain: 0, clinics: [] })
})

t.test('saving a visit answers the legacy shape, at the clinic\'s golden fee, stored not_paid', async (t) => {
  await sql`INSERT INTO clinics (id, name, golden_fee) VALUES (201, 'د. رسوم', 2500)`
  const body = visit(201, 'G-201-20251029-P-71', '29/10/2025')
  const res = await post('/api/golden_patient_payment', body)
  t.equal(res.status, 200, res.text)
  t.strictSame(res.json(), {
    message: 'تم حفظ الدفعة بنجاح',
    booking_id: body.booking_id,
    patient_name: body.patient_name,
    amount: 2500,
    payment_month: '2025-10',
    payment_status: null
  })
  const [row] = await sql`SELECT clinic_id, exam_date, book_status, code, amount, payment_month, payment_status FROM golden_payments WHERE booking_id = ${body.booking_id}`
  t.strictSame(row, { clinic_id: 201, exam_date: '29/10/2025', book_status: 'تمت المعاينة', code: '6270', amount: 2500, payment_month: '2025-10', payment_status: 'not_paid' })

  const unknownClinic = await post('/api/golden_patient_payment', { ...visit(202, 'G-202-1', '01/02/2026'), clinic_id: '202' })
  t.equal(unknownClinic.json().amount, 1500, 'a clinic without a row pays the legacy 1500')

  const bare = await post('/api/golden_patient_payment', { clinic_id: 202, exam_date: '02/02/2026', patient_name: 'بدون رمز', booking_id: 'G-202-2' })
  t.equal(bare.status, 200, 'book_status and code are optional')
  const [stored] = await sql`SELECT book_status, code FROM golden_payments WHERE booking_id = 'G-202-2'`
  t.strictSame(stored, { book_status: 'تمت المعاينة', code: null })
})

t.test('an exam date that does not parse bills the current month in Iraq', async (t) => {
  const before = iraqToday().slice(0, 7)
  const res = await post('/api/golden_patient_payment', visit(203, 'G-203-1', 'yesterday'))
  const after = iraqToday().slice(0, 7)
  t.equal(res.status, 200)
  t.ok([before, after].includes(res.json<{ payment_month: string }>().payment_month), 'the current Iraq month')
  const [row] = await sql`SELECT exam_date FROM golden_payments WHERE booking_id = 'G-203-1'`
  t.equal(row?.exam_date, 'yesterday', 'the date is stored as sent')
})

t.test('a booking saved twice answers the legacy 400 duplicate', async (t) => {
  const body = visit(204, 'G-204-1', '10/10/2025')
  t.equal((await post('/api/golden_patient_payment', body)).status, 200)
  const again = await post('/api/golden_patient_payment', { ...body, patient_name: 'someone else', clinic_id: 999 })
  t.equal(again.status, 400)
  t.strictSame(again.json(), DUPLICATE)
  const rows = await sql`SELECT patient_name, clinic_id FROM golden_payments WHERE booking_id = 'G-204-1'`
  t.strictSame([...rows], [{ patient_name: body.patient_name, clinic_id: 204 }], 'the first one stays')
})

t.test('20 simultaneous saves of one booking: one 200, nineteen legacy 400s, one row, never a 500', async (t) => {
  const body = visit(205, 'G-205-20251101-P-9', '01/11/2025')
  const answers = await Promise.all(Array.from({ length: 20 }, () => post('/api/golden_patient_payment', body)))
  t.equal(answers.filter((a) => a.status === 200).length, 1, `statuses: ${answers.map((a) => a.status).join(',')}`)
  const refused = answers.filter((a) => a.status === 400)
  t.equal(refused.length, 19)
  t.ok(refused.every((a) => JSON.stringify(a.json()) === JSON.stringify(DUPLICATE)), 'each with the legacy body')
  const [row] = await sql`SELECT count(*)::int AS n FROM golden_payments WHERE booking_id = ${body.booking_id}`
  t.equal(row?.n, 1, 'one row stored')
})

t.test('monthly report: years → months, patinets_count, patients in saving order, a month paid if any row is', async (t) => {
  const visits = [
    visit(206, 'G-206-1', '05/12/2024'),
    visit(206, 'G-206-2', '03/01/2025'),
    visit(206, 'G-206-3', '04/01/2025'),
    visit(206, 'G-206-4', '28/01/2025')
  ]
  for (const v of visits) t.equal((await post('/api/golden_patient_payment', v)).status, 200)
  // One row of January paid on its own, as legacy data can have it: the whole month reports paid.
  await sql`UPDATE golden_payments SET payment_status = 'paid' WHERE booking_id = 'G-206-3'`
  const res = await get('/api/doctor_monthly_golden_payment_status?clinic_id=206')
  t.equal(res.status, 200)
  t.strictSame(res.json(), {
    clinic_id: 206,
    2024: { '2024-12': { payment_status: 'not_paid', patinets_count: 1, amount: 1500, patients: [patientOf(visits[0] as Visit)] } },
    2025: {
      '2025-01': {
        payment_status: 'paid',
        patinets_count: 3,
        amount: 4500,
        patients: visits.slice(1).map(patientOf)
      }
    }
  })
  const empty = await get('/api/doctor_monthly_golden_payment_status?clinic_id=299')
  t.strictSame(empty.json(), { clinic_id: 299 }, 'a clinic without payments')
})

t.test('annual report: totals and months side by side; update_payment_status marks a month and counts it', async (t) => {
  await sql`INSERT INTO clinics (id, name, golden_fee) VALUES (207, 'د. سنوي', 2000)`
  for (const [id, date] of [['G-207-1', '01/03/2025'], ['G-207-2', '09/03/2025'], ['G-207-3', '15/04/2025']] as const) {
    t.equal((await post('/api/golden_patient_payment', visit(207, id, date))).status, 200)
  }
  const annual = async (): Promise<Record<string, unknown>> => (await get('/api/doctor_annual_payment_status?clinic_id=207')).json()
  t.strictSame(await annual(), {
    clinic_id: 207,
    total_paid: 0,
    remain_amount: 6000,
    '2025-03': { amount: 4000, payment_status: 'not_paid' },
    '2025-04': { amount: 2000, payment_status: 'not_paid' }
  })

  const marked = await post('/api/update_payment_status', { clinic_id: 207, payment_month: '2025-03' })
  t.equal(marked.status, 200)
  t.strictSame(marked.json(), {
    message: 'payment status updated for 2 patients', clinic_id: 207, payment_month: '2025-03', payment_status: 'paid', updated_count: 2
  }, 'payment_status defaults to paid')
  t.strictSame(await annual(), {
    clinic_id: 207,
    total_paid: 4000,
    remain_amount: 2000,
    '2025-03': { amount: 4000, payment_status: 'paid' },
    '2025-04': { amount: 2000, payment_status: 'not_paid' }
  })

  const undo = await post('/api/update_payment_status', { clinic_id: '207', payment_month: '2025-03', payment_status: 'not_paid' })
  t.equal(undo.json().updated_count, 2, 'and back')
  t.equal((await annual()).total_paid, 0)
  const none = await post('/api/update_payment_status', { clinic_id: 207, payment_month: '2025-07' })
  t.strictSame(none.json(), {
    message: 'payment status updated for 0 patients', clinic_id: 207, payment_month: '2025-07', payment_status: 'paid', updated_count: 0
  }, 'a month without visits updates none')
})

t.test('update_payment_status: a missing clinic_id or month is the legacy 400; a malformed one 422; nothing changes', async (t) => {
  const before = await ledgerSnapshot()
  for (const body of [{ payment_month: '2025-03' }, { clinic_id: 207 }, { clinic_id: 207, payment_month: '' }, { clinic_id: 0, payment_month: '2025-03' }, {}]) {
    const res = await post('/api/update_payment_status', body)
    t.equal(res.status, 400, JSON.stringify(body))
    t.match(res.json(), { detail: 'clinic_id and payment_month are required' })
  }
  for (const body of [
    { clinic_id: 207, payment_month: '2025-3' },
    { clinic_id: 207, payment_month: '2025-13' },
    { clinic_id: 207, payment_month: '03/2025' },
    { clinic_id: 207, payment_month: '2025-03', payment_status: 'done' },
    { clinic_id: 'abc', payment_month: '2025-03' }
  ]) {
    const res = await post('/api/update_payment_status', body)
    t.equal(res.status, 422, JSON.stringify(body))
    t.type(res.json<{ detail: Array<{ msg: string }> }>().detail[0]?.msg, 'string', 'with a message')
  }
  t.equal(await ledgerSnapshot(), before)
})

t.test('all clinics: ~50 clinics, a few hundred visits, totals equal the sums computed here', async (t) => {
  // Clinics 301..350: every third has no clinics row ("clinic #<id>", fee 1500), the others their own fee.
  const fees = new Map<number, number>()
  for (let id = 301; id <= 350; id++) {
    if (id % 3 === 0) continue
    fees.set(id, 1000 + (id % 7) * 250)
    await sql`INSERT INTO clinics (id, name, golden_fee) VALUES (${id}, ${`د. عيادة ${id}`}, ${fees.get(id) ?? 0})`
  }
  const visits = Array.from({ length: 400 }, (_, i) => {
    const clinicId = 301 + (i * 13) % 50
    const month = 1 + i % 6
    return visit(clinicId, `G-${clinicId}-bulk-${i}`, `${String(1 + i % 28).padStart(2, '0')}/${String(month).padStart(2, '0')}/2025`)
  })
  const saved = await inBatches(visits, 25, (v) => post('/api/golden_patient_payment', v))
  t.ok(saved.every((r) => r.status === 200), 'all 400 saved')
  // Mark a few clinic-months paid through the API.
  const paidMonths = new Set<string>()
  for (let id = 301; id <= 350; id += 4) {
    const month = `2025-0${1 + id % 6}`
    const res = await post('/api/update_payment_status', { clinic_id: id, payment_month: month })
    t.equal(res.status, 200)
    paidMonths.add(`${id}/${month}`)
  }

  // The expectation, computed from what this test sent.
  interface Expected { total_patients: number, total_amount: number, total_paid: number, months: Record<string, { patient_count: number, amount: number, payment_status: string }> }
  const expected = new Map<number, Expected>()
  for (const v of visits) {
    const month = `2025-${v.exam_date.slice(3, 5)}`
    const amount = fees.get(v.clinic_id) ?? 1500
    const paid = paidMonths.has(`${v.clinic_id}/${month}`)
    const clinic = expected.get(v.clinic_id) ?? { total_patients: 0, total_amount: 0, total_paid: 0, months: {} }
    expected.set(v.clinic_id, clinic)
    clinic.total_patients++
    clinic.total_amount += amount
    if (paid) clinic.total_paid += amount
    const m = clinic.months[month] ?? { patient_count: 0, amount: 0, payment_status: 'not_paid' }
    clinic.months[month] = m
    m.patient_count++
    m.amount += amount
    if (paid) m.payment_status = 'paid'
  }

  interface ClinicEntry { clinic_id: number, clinic_name: string, total_patients: number, total_amount: number, total_paid: number, remain_amount: number, months: Record<string, unknown> }
  interface Report { total_clinics: number, total_payments: number, total_amount: number, total_paid: number, total_remain: number, clinics: ClinicEntry[] }
  const res = await get('/api/all_clinics_golden_payments')
  t.equal(res.status, 200, res.text.slice(0, 200))
  const report = res.json<Report>()
  t.same(report.clinics.map((c) => c.clinic_id), [...report.clinics.map((c) => c.clinic_id)].sort((a, b) => a - b), 'clinics by id')

  for (let id = 301; id <= 350; id++) {
    const want = expected.get(id) as Expected
    const entry = report.clinics.find((c) => c.clinic_id === id)
    const sortedMonths = Object.fromEntries(Object.entries(want.months).sort(([a], [b]) => a.localeCompare(b)))
    t.strictSame(entry, {
      clinic_id: id,
      clinic_name: fees.has(id) ? `د. عيادة ${id}` : `clinic #${id}`,
      total_patients: want.total_patients,
      total_amount: want.total_amount,
      total_paid: want.total_paid,
      remain_amount: want.total_amount - want.total_paid,
      months: sortedMonths
    }, `clinic ${id}`)
  }

  // The grand totals cover every clinic of this file: they must match the sum of the entries and the table itself.
  const sum = (pick: (c: ClinicEntry) => number): number => report.clinics.reduce((s, c) => s + pick(c), 0)
  const [table] = await sql<Array<{ clinics: number, n: number, amount: number, paid: number }>>`
    SELECT count(DISTINCT clinic_id)::int AS clinics, count(*)::int AS n, sum(amount)::int AS amount,
           (coalesce(sum(amount) FILTER (WHERE payment_status = 'paid'), 0))::int AS paid
    FROM golden_payments`
  t.strictSame({
    total_clinics: report.total_clinics,
    total_payments: report.total_payments,
    total_amount: report.total_amount,
    total_paid: report.total_paid,
    total_remain: report.total_remain
  }, {
    total_clinics: table?.clinics,
    total_payments: table?.n,
    total_amount: table?.amount,
    total_paid: table?.paid,
    total_remain: (table?.amount ?? 0) - (table?.paid ?? 0)
  }, 'grand totals = the table')
  t.equal(report.total_payments, sum((c) => c.total_patients), 'grand count = sum of clinics')
  t.equal(report.total_amount, sum((c) => c.total_amount))
  t.equal(report.total_paid, sum((c) => c.total_paid))
  t.ok(report.total_clinics >= 50)
})

t.test('a burst of malformed requests: every answer 4xx with a message, no row changed', async (t) => {
  const before = await ledgerSnapshot()
  const good = visit(208, 'G-208-1', '01/10/2025')
  const bad: Array<() => Promise<Response>> = [
    () => post('/api/golden_patient_payment', '{not json'),
    () => post('/api/golden_patient_payment', '[1,2,3]'),
    () => post('/api/golden_patient_payment', 'null'),
    () => post('/api/golden_patient_payment', {}),
    () => post('/api/golden_patient_payment', { ...good, clinic_id: 'abc' }),
    () => post('/api/golden_patient_payment', { ...good, clinic_id: -4 }),
    () => post('/api/golden_patient_payment', { ...good, clinic_id: 1e12 }),
    () => post('/api/golden_patient_payment', { ...good, booking_id: '' }),
    () => post('/api/golden_patient_payment', { ...good, booking_id: 'G'.repeat(65) }),
    () => post('/api/golden_patient_payment', { ...good, booking_id: { $ne: null } }),
    () => post('/api/golden_patient_payment', { ...good, patient_name: '   ' }),
    () => post('/api/golden_patient_payment', { ...good, patient_name: 'x'.repeat(201) }),
    () => post('/api/golden_patient_payment', { ...good, patient_name: 'a\u0000b' }),
    () => post('/api/golden_patient_payment', { ...good, exam_date: 29102025 }),
    () => post('/api/golden_patient_payment', { ...good, exam_date: '1'.repeat(33) }),
    () => post('/api/golden_patient_payment', { ...good, code: '123456789' }),
    () => post('/api/golden_patient_payment', { ...good, book_status: ['served'] }),
    () => post('/api/golden_patient_payment', good, { 'Doctor-Secret': 'wrong' }),
    () => post('/api/update_payment_status', { clinic_id: 207, payment_month: '2025-03', payment_status: 'paid!' }),
    () => post('/api/update_payment_status', { clinic_id: 207, payment_month: 202503 }),
    () => post('/api/update_payment_status', { clinic_id: 207, payment_month: '2025-00' }),
    () => post('/api/update_payment_status', { clinic_id: 207 }),
    () => post('/api/update_payment_status', '{"clinic_id": 207,'),
    () => post('/api/update_payment_status', { clinic_id: 207, payment_month: '2025-03' }, { 'Doctor-Secret': '' }),
    () => get('/api/doctor_monthly_golden_payment_status'),
    () => get('/api/doctor_monthly_golden_payment_status?clinic_id=abc'),
    () => get('/api/doctor_monthly_golden_payment_status?clinic_id=-1'),
    () => get('/api/doctor_annual_payment_status?clinic_id='),
    () => get('/api/doctor_annual_payment_status?clinic_id=99999999999'),
    () => get('/api/all_clinics_golden_payments', { 'Doctor-Secret': 'nope' }),
    () => get('/backend/api/doctor_annual_payment_status?clinic_id=207') // legacy never mirrored payments
  ]
  const answers = await Promise.all([...bad, ...bad, ...bad].map((send) => send()))
  const statuses = answers.map((a) => a.status)
  t.ok(statuses.every((s) => s >= 400 && s < 500), `all 4xx: ${statuses.join(',')}`)
  t.ok(answers.every((a) => a.text.length > 0 && typeof a.json() === 'object'), 'each with a JSON body')
  t.equal(await ledgerSnapshot(), before, 'no row changed')
  const [row] = await sql`SELECT count(*)::int AS n FROM golden_payments WHERE clinic_id = 208`
  t.equal(row?.n, 0)
})
