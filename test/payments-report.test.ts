import t from 'tap'
import { CpuPool } from '../workers/cpu/pool.ts'
import { LEGACY_GOLDEN_FEE, paymentMonthOf, parseLedger } from '../src/payments/ledger.ts'
import { allClinicsReport, annualReport, monthlyReport, type PatientPaymentRow, type PaymentRow } from '../src/payments/report.ts'

// The golden payments reports as plain functions over plain rows (legacy-api.md §2.15, §3.11), no server.

function visit (bookingId: string, month: string, paid: boolean, amount = LEGACY_GOLDEN_FEE, clinicId = 4): PatientPaymentRow {
  const [year, mm] = month.split('-')
  return {
    clinic_id: clinicId,
    payment_month: month,
    amount,
    paid,
    exam_date: `15/${mm ?? ''}/${year ?? ''}`,
    book_status: 'تمت المعاينة',
    patient_name: `مريض ${bookingId}`,
    booking_id: bookingId,
    code: '6270'
  }
}

const patientOf = (row: PatientPaymentRow): Record<string, unknown> => ({
  exam_date: row.exam_date, book_status: row.book_status, patient_name: row.patient_name, booking_id: row.booking_id, code: row.code
})

t.test('the payment month is the exam date\'s, else the current month in Iraq', async (t) => {
  t.equal(paymentMonthOf('29/10/2025'), '2025-10')
  t.equal(paymentMonthOf('٠١/١١/٢٠٢٥'), '2025-11', 'Arabic digits')
  const lateOnTheLastDay = new Date('2025-10-31T22:30:00Z') // already 1 November in Baghdad
  t.equal(paymentMonthOf('not a date', lateOnTheLastDay), '2025-11', 'Iraq time, not the server\'s')
  t.equal(paymentMonthOf('2025-10-29', lateOnTheLastDay), '2025-11', 'ISO is not the wire format: falls back')
  t.equal(paymentMonthOf('', new Date('2025-03-01T12:00:00Z')), '2025-03')
})

t.test('monthly report: years, then months oldest first, misspelled patinets_count, any paid row pays the month', async (t) => {
  const rows = [
    visit('G-1', '2025-10', false),
    visit('G-2', '2024-12', false),
    visit('G-3', '2025-10', true),
    visit('G-4', '2025-01', false, 2000),
    visit('G-5', '2025-10', false)
  ]
  const report = monthlyReport(4, rows)
  t.strictSame(report, {
    clinic_id: 4,
    2024: {
      '2024-12': { payment_status: 'not_paid', patinets_count: 1, amount: 1500, patients: [patientOf(rows[1] as PatientPaymentRow)] }
    },
    2025: {
      '2025-01': { payment_status: 'not_paid', patinets_count: 1, amount: 2000, patients: [patientOf(rows[3] as PatientPaymentRow)] },
      '2025-10': {
        payment_status: 'paid',
        patinets_count: 3,
        amount: 4500,
        patients: [rows[0], rows[2], rows[4]].map((row) => patientOf(row as PatientPaymentRow))
      }
    }
  })
  t.same(Object.keys(report['2025'] as object), ['2025-01', '2025-10'], 'months in calendar order')
  t.strictSame(monthlyReport(9, []), { clinic_id: 9 }, 'a clinic without payments')
})

t.test('annual report: totals count paid rows, months sit next to the totals', async (t) => {
  const rows = [
    visit('G-1', '2025-10', true),
    visit('G-2', '2025-10', false), // saved after the month was marked paid: still owed
    visit('G-3', '2025-09', true, 1000),
    visit('G-4', '2025-11', false, 2500)
  ]
  t.strictSame(annualReport(4, rows), {
    clinic_id: 4,
    total_paid: 2500,
    remain_amount: 4000,
    '2025-09': { amount: 1000, payment_status: 'paid' },
    '2025-10': { amount: 3000, payment_status: 'paid' },
    '2025-11': { amount: 2500, payment_status: 'not_paid' }
  })
  t.same(Object.keys(annualReport(4, rows)), ['clinic_id', 'total_paid', 'remain_amount', '2025-09', '2025-10', '2025-11'])
  t.strictSame(annualReport(4, []), { clinic_id: 4, total_paid: 0, remain_amount: 0 })
})

t.test('a free golden visit (fee 0) still rolls its month up to paid', async (t) => {
  const report = annualReport(4, [visit('G-1', '2025-10', true, 0)])
  t.strictSame(report['2025-10'], { amount: 0, payment_status: 'paid' })
})

t.test('all clinics: per clinic and grand totals, clinics by id, names with the legacy fallback', async (t) => {
  const rows: PaymentRow[] = [
    { clinic_id: 7, payment_month: '2025-10', amount: 1500, paid: true },
    { clinic_id: 3, payment_month: '2025-11', amount: 2000, paid: false },
    { clinic_id: 7, payment_month: '2025-09', amount: 1500, paid: false },
    { clinic_id: 3, payment_month: '2025-11', amount: 2000, paid: true },
    { clinic_id: 7, payment_month: '2025-10', amount: 1500, paid: false }
  ]
  t.strictSame(allClinicsReport(rows, new Map([[7, 'د. أحمد']])), {
    total_clinics: 2,
    total_payments: 5,
    total_amount: 8500,
    total_paid: 3500,
    total_remain: 5000,
    clinics: [
      {
        clinic_id: 3,
        clinic_name: 'clinic #3',
        total_patients: 2,
        total_amount: 4000,
        total_paid: 2000,
        remain_amount: 2000,
        months: { '2025-11': { patient_count: 2, amount: 4000, payment_status: 'paid' } }
      },
      {
        clinic_id: 7,
        clinic_name: 'د. أحمد',
        total_patients: 3,
        total_amount: 4500,
        total_paid: 1500,
        remain_amount: 3000,
        months: {
          '2025-09': { patient_count: 1, amount: 1500, payment_status: 'not_paid' },
          '2025-10': { patient_count: 2, amount: 3000, payment_status: 'paid' }
        }
      }
    ]
  })
  t.strictSame(allClinicsReport([], new Map()), { total_clinics: 0, total_payments: 0, total_amount: 0, total_paid: 0, total_remain: 0, clinics: [] })
})

// Generates a ledger and the same totals by a different route: straight sums over the generated rows.
function sampleLedger (count: number): { rows: PaymentRow[], copy: string } {
  const rows: PaymentRow[] = []
  for (let i = 0; i < count; i++) {
    rows.push({ clinic_id: 1 + (i * 7) % 53, payment_month: `202${4 + i % 2}-${String(1 + i % 12).padStart(2, '0')}`, amount: 1000 + (i % 5) * 250, paid: i % 3 === 0 })
  }
  const copy = rows.map((r) => `${r.clinic_id}\t${r.payment_month}\t${r.amount}\t${r.paid ? 't' : 'f'}\n`).join('')
  return { rows, copy }
}

t.test('the ledger\'s COPY text reads back into rows; anything else is refused', async (t) => {
  const { rows, copy } = sampleLedger(40)
  t.strictSame(parseLedger(new TextEncoder().encode(copy)), rows)
  t.strictSame(parseLedger(new Uint8Array(0)), [], 'an empty ledger')
  t.throws(() => parseLedger(new TextEncoder().encode('7\t2025-10\t1500\n')), /unreadable/, 'a missing column')
  t.throws(() => parseLedger(new TextEncoder().encode('7\t2025-10\t1500\tpaid\n')), /unreadable/, 'paid is t or f')
  t.throws(() => parseLedger(new TextEncoder().encode('x\t2025-10\t1500\tt\n')), /unreadable/, 'a clinic id is an integer')
  t.throws(() => parseLedger(new TextEncoder().encode('7\t2025-10\t1500\tt\textra\n')), /unreadable/, 'an extra column')
})

t.test('the paymentsReport task runs on a piscina thread and moves the ledger there', async (t) => {
  const pool = new CpuPool(1)
  t.teardown(() => pool.close())
  const { rows, copy } = sampleLedger(5000)
  const ledger = new TextEncoder().encode(copy)
  const names: Array<[number, string]> = [[1, 'د. واحد'], [8, 'د. ثمانية']]
  const { report } = await pool.run({ kind: 'paymentsReport', ledger, clinicNames: names }, [ledger.buffer])
  t.equal(ledger.byteLength, 0, 'the bytes were transferred, not copied')
  t.strictSame(report, allClinicsReport(rows, new Map(names)), 'the same report as inline')
  const amount = rows.reduce((sum, r) => sum + r.amount, 0)
  const paid = rows.reduce((sum, r) => sum + (r.paid ? r.amount : 0), 0)
  t.equal(report.total_payments, 5000)
  t.equal(report.total_clinics, 53)
  t.equal(report.total_amount, amount)
  t.equal(report.total_paid, paid)
  t.equal(report.total_remain, amount - paid)
  t.equal(report.clinics.find((c) => c.clinic_id === 8)?.clinic_name, 'د. ثمانية')
  t.equal(report.clinics.find((c) => c.clinic_id === 2)?.clinic_name, 'clinic #2')
})
