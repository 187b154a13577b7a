// The golden payments reports (legacy-api.md §2.15, §3.11): plain functions over plain rows, so the same code
// builds a one-clinic report inline and the all-clinics report in a piscina thread, and is tested without a server.
//
// Roll-up rules, the same in every report:
// - a month is `paid` when any of its rows is paid (legacy), otherwise `not_paid`;
// - money is counted per row: `total_paid` is the sum of the paid rows and `remain = total − paid`. The legacy
//   description does not say whether a month marked paid also pays a visit saved into it later; counting rows
//   keeps such a visit in `remain_amount`, where the admin can see it, instead of writing it off.
// - months are listed oldest first, clinics by id.

export type PaymentStatus = 'paid' | 'not_paid'

/** One golden_payments row as the totals read it. */
export interface PaymentRow {
  clinic_id: number
  payment_month: string // YYYY-MM
  amount: number
  paid: boolean
}

/** One visit as the monthly report lists it, keys in the legacy order. */
export interface PatientPayment {
  exam_date: string
  book_status: string
  patient_name: string
  booking_id: string
  code: string | null
}

export type PatientPaymentRow = PaymentRow & PatientPayment

export interface MonthDetail {
  payment_status: PaymentStatus
  patinets_count: number // misspelled on purpose: the apps read this key (legacy-api.md §2.15)
  amount: number
  patients: PatientPayment[]
}

/** `{clinic_id, "<YYYY>": {"<YYYY-MM>": MonthDetail}}` */
export interface MonthlyReport {
  clinic_id: number
  [year: string]: number | Record<string, MonthDetail>
}

export interface MonthTotal {
  amount: number
  payment_status: PaymentStatus
}

/** `{clinic_id, total_paid, remain_amount, "<YYYY-MM>": MonthTotal}`: the months sit next to the totals. */
export interface AnnualReport {
  clinic_id: number
  total_paid: number
  remain_amount: number
  [month: string]: number | MonthTotal
}

export interface ClinicMonth {
  patient_count: number
  amount: number
  payment_status: PaymentStatus
}

export interface ClinicSummary {
  clinic_id: number
  clinic_name: string
  total_patients: number
  total_amount: number
  total_paid: number
  remain_amount: number
  months: Record<string, ClinicMonth>
}

export interface AllClinicsReport {
  total_clinics: number
  total_payments: number
  total_amount: number
  total_paid: number
  total_remain: number
  clinics: ClinicSummary[]
}

interface Tally {
  count: number
  amount: number
  paid: number
}

const emptyTally = (): Tally => ({ count: 0, amount: 0, paid: 0 })

function add (tally: Tally, row: PaymentRow): void {
  tally.count++
  tally.amount += row.amount
  if (row.paid) tally.paid += row.amount
}

function absorb (into: Tally, from: Tally): void {
  into.count += from.count
  into.amount += from.amount
  into.paid += from.paid
}

// "Any row paid" is the same as "some paid amount" only while amounts are positive; a clinic with golden_fee 0
// must still roll up, so the flag is kept on its own.
interface MonthTally extends Tally {
  anyPaid: boolean
}

function addToMonth (month: MonthTally, row: PaymentRow): void {
  add(month, row)
  if (row.paid) month.anyPaid = true
}

const statusOf = (month: MonthTally): PaymentStatus => month.anyPaid ? 'paid' : 'not_paid'

/** Rows grouped by `payment_month`, oldest month first. */
function byMonth<R extends PaymentRow> (rows: Iterable<R>): Array<[string, MonthTally, R[]]> {
  const months = new Map<string, [MonthTally, R[]]>()
  for (const row of rows) {
    let entry = months.get(row.payment_month)
    if (entry === undefined) {
      entry = [{ ...emptyTally(), anyPaid: false }, []]
      months.set(row.payment_month, entry)
    }
    addToMonth(entry[0], row)
    entry[1].push(row)
  }
  return [...months.entries()]
    .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([month, [tally, monthRows]]) => [month, tally, monthRows])
}

/** GET /api/doctor_monthly_golden_payment_status: one clinic's visits by year, then month, in the given row order. */
export function monthlyReport (clinicId: number, rows: Iterable<PatientPaymentRow>): MonthlyReport {
  const report: MonthlyReport = { clinic_id: clinicId }
  for (const [month, tally, monthRows] of byMonth(rows)) {
    const year = month.slice(0, 4)
    let yearEntry = report[year]
    if (typeof yearEntry !== 'object') {
      yearEntry = {}
      report[year] = yearEntry
    }
    yearEntry[month] = {
      payment_status: statusOf(tally),
      patinets_count: tally.count,
      amount: tally.amount,
      patients: monthRows.map((row) => ({
        exam_date: row.exam_date,
        book_status: row.book_status,
        patient_name: row.patient_name,
        booking_id: row.booking_id,
        code: row.code
      }))
    }
  }
  return report
}

/** GET /api/doctor_annual_payment_status: one clinic's totals and its months at the top level. */
export function annualReport (clinicId: number, rows: Iterable<PaymentRow>): AnnualReport {
  const total = emptyTally()
  const months: Array<[string, MonthTotal]> = []
  for (const [month, tally] of byMonth(rows)) {
    absorb(total, tally)
    months.push([month, { amount: tally.amount, payment_status: statusOf(tally) }])
  }
  const report: AnnualReport = { clinic_id: clinicId, total_paid: total.paid, remain_amount: total.amount - total.paid }
  for (const [month, entry] of months) report[month] = entry
  return report
}

/**
 * GET /api/all_clinics_golden_payments: every clinic that has payments, with its months. `clinicNames` maps a
 * clinic id to its doctor's name; a clinic without one is called "clinic #<id>", as legacy did.
 */
export function allClinicsReport (rows: Iterable<PaymentRow>, clinicNames: ReadonlyMap<number, string>): AllClinicsReport {
  const byClinic = new Map<number, PaymentRow[]>()
  for (const row of rows) {
    const list = byClinic.get(row.clinic_id)
    if (list === undefined) byClinic.set(row.clinic_id, [row])
    else list.push(row)
  }
  const grand = emptyTally()
  const clinics: ClinicSummary[] = []
  for (const clinicId of [...byClinic.keys()].sort((a, b) => a - b)) {
    const total = emptyTally()
    const months: Record<string, ClinicMonth> = {}
    for (const [month, tally] of byMonth(byClinic.get(clinicId) ?? [])) {
      absorb(total, tally)
      months[month] = { patient_count: tally.count, amount: tally.amount, payment_status: statusOf(tally) }
    }
    clinics.push({
      clinic_id: clinicId,
      clinic_name: clinicNames.get(clinicId) ?? `clinic #${clinicId}`,
      total_patients: total.count,
      total_amount: total.amount,
      total_paid: total.paid,
      remain_amount: total.amount - total.paid,
      months
    })
    absorb(grand, total)
  }
  return {
    total_clinics: clinics.length,
    total_payments: grand.count,
    total_amount: grand.amount,
    total_paid: grand.paid,
    total_remain: grand.amount - grand.paid,
    clinics
  }
}
