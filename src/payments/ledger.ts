import type { Sql } from '../db/pool.ts'
import { iraqToday, parseDayMonthYear } from '../domain/calendar.ts'
import type { PatientPaymentRow, PaymentRow, PaymentStatus } from './report.ts'

// The golden payments log (legacy-api.md §1.4 golden_payments, §3.11): one row per confirmed golden visit, unique
// by booking id. Reports are computed from these rows by ./report.ts.

/** The fee legacy charged every clinic; it still applies to a clinic that has no row in `clinics`. */
export const LEGACY_GOLDEN_FEE = 1500

/**
 * The `YYYY-MM` a visit is billed to: the month of its `DD/MM/YYYY` exam date. The secretary app posts this right
 * after the visit, so when the date does not parse the current month is the best guess; legacy took the server's
 * local month, we take Iraq's, where the clinics are (a server in UTC would bill the first three hours of a month
 * to the previous one).
 */
export function paymentMonthOf (examDate: string, now: Date = new Date()): string {
  return parseDayMonthYear(examDate) ?? iraqToday(now).slice(0, 7)
}

export interface NewPayment {
  clinicId: number
  examDate: string
  bookStatus: string
  patientName: string
  bookingId: string
  code: string | null
}

export interface SavedPayment {
  amount: number
  paymentMonth: string
}

/**
 * Records a visit at the clinic's golden fee. Null when the booking id is already in the log: ON CONFLICT turns
 * the losing one of two simultaneous posts into "no row" instead of a unique-violation error (legacy answered
 * that race with a 500), and the fee is read in the same statement, so there is no window between them.
 */
export async function savePayment (sql: Sql, payment: NewPayment, now: Date = new Date()): Promise<SavedPayment | null> {
  const paymentMonth = paymentMonthOf(payment.examDate, now)
  const [row] = await sql<Array<{ amount: number }>>`
    INSERT INTO golden_payments (clinic_id, booking_id, patient_name, code, exam_date, book_status, amount, payment_month)
    VALUES (
      ${payment.clinicId}, ${payment.bookingId}, ${payment.patientName}, ${payment.code}, ${payment.examDate},
      ${payment.bookStatus}, COALESCE((SELECT golden_fee FROM clinics WHERE id = ${payment.clinicId}), ${LEGACY_GOLDEN_FEE}),
      ${paymentMonth}
    )
    ON CONFLICT (booking_id) DO NOTHING
    RETURNING amount`
  return row === undefined ? null : { amount: row.amount, paymentMonth }
}

/** A clinic's visits in the order they were saved. */
export async function clinicPayments (sql: Sql, clinicId: number): Promise<PatientPaymentRow[]> {
  return await sql<PatientPaymentRow[]>`
    SELECT clinic_id, payment_month, amount, payment_status = 'paid' AS paid,
           exam_date, book_status, patient_name, booking_id, code
    FROM golden_payments
    WHERE clinic_id = ${clinicId}
    ORDER BY id`
}

/** Marks every visit of a clinic's month; the count is of the rows matched, as legacy reported it. */
export async function setMonthStatus (sql: Sql, clinicId: number, paymentMonth: string, status: PaymentStatus): Promise<number> {
  const result = await sql`
    UPDATE golden_payments SET payment_status = ${status}
    WHERE clinic_id = ${clinicId} AND payment_month = ${paymentMonth}`
  return result.count
}

/** The doctor's name of every clinic that has payments; blank names are left out so the report's fallback applies. */
export async function payingClinicNames (sql: Sql): Promise<Array<[number, string]>> {
  const rows = await sql<Array<{ id: number, name: string }>>`
    SELECT id, name FROM clinics
    WHERE id IN (SELECT clinic_id FROM golden_payments) AND btrim(name) <> ''`
  return rows.map((row) => [row.id, row.name])
}

// The whole log for the all-clinics report, as PostgreSQL's COPY text: tab-separated `clinic_id, payment_month,
// amount, paid (t/f)`, one line per row. COPY streams bytes that the worker's event loop only collects, where a
// SELECT would build one object per row on it, and a byte buffer moves to a piscina thread without being copied.
// No value needs COPY's escaping: ids and amounts are integers and the schema's CHECK keeps payment_month to
// `[0-9]{4}-[0-9]{2}`.

/** Streams the whole log; the bytes are a fresh buffer of their own, so it can be transferred to a thread. */
export async function ledgerBytes (sql: Sql): Promise<Uint8Array<ArrayBuffer>> {
  const stream = await sql`
    COPY (SELECT clinic_id, payment_month, amount, payment_status = 'paid' FROM golden_payments) TO STDOUT`.readable()
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    size += chunk.length
  }
  // Not Buffer.concat: a small result would be a slice of Node's shared allocation pool, and transferring that
  // ArrayBuffer would detach the pool under every other Buffer using it.
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return bytes
}

/** The rows of `ledgerBytes`. Throws on a line it cannot read: that would be a bug between the two, not bad input. */
export function parseLedger (bytes: Uint8Array): PaymentRow[] {
  const rows: PaymentRow[] = []
  for (const line of new TextDecoder().decode(bytes).split('\n')) {
    if (line === '') continue
    const [clinicId, paymentMonth, amount, paid, extra] = line.split('\t')
    const row: PaymentRow = { clinic_id: Number(clinicId), payment_month: paymentMonth ?? '', amount: Number(amount), paid: paid === 't' }
    if (extra !== undefined || !Number.isInteger(row.clinic_id) || !Number.isInteger(row.amount) ||
        !/^\d{4}-\d{2}$/.test(row.payment_month) || (paid !== 't' && paid !== 'f')) {
      throw new Error(`unreadable payments ledger line: ${JSON.stringify(line)}`)
    }
    rows.push(row)
  }
  return rows
}
