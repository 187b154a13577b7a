import { z } from 'zod'
import { text } from '../../src/booking/messages.ts'
import { errors, paymentErrors } from '../../src/errors.ts'
import { normalizeDigits } from '../../src/domain/digits.ts'
import { statusLabel } from '../../src/domain/status.ts'
import { clinicPayments, ledgerBytes, payingClinicNames, savePayment, setMonthStatus } from '../../src/payments/ledger.ts'
import { annualReport, monthlyReport } from '../../src/payments/report.ts'
import { ADMINS_ONLY, SECRETARIES } from '../../src/auth/actors.ts'
import { json } from '../http.ts'
import type { WorkerContext } from '../context.ts'
import { defineRoute, field, type DocumentedRoute } from './define.ts'

// Golden payments (legacy-api.md §2.15, §3.11): the secretary app logs each examined golden visit, the doctor app
// reads what the clinic owes, an admin marks months paid. Legacy never served these under /backend, so no mirror.

// Ids and codes arrive as strings or as numbers, depending on the app.
const textOrNumber = (name: string, max: number) => z.union([z.string(), z.number()], { message: `${name} must be a string` })
  .transform(String).pipe(z.string().trim().max(max, `${name} must be at most ${max} characters`))

const paymentBody = z.object({
  clinic_id: field.id('clinic_id'),
  // Both stored as sent, as legacy did; a date that does not parse bills the current month (ledger.ts paymentMonthOf).
  exam_date: z.string({ message: 'exam_date must be a string DD/MM/YYYY' }).max(32, 'exam_date must be at most 32 characters'),
  book_status: z.string({ message: 'book_status must be a string' }).max(64, 'book_status must be at most 64 characters').default(statusLabel('served')),
  patient_name: z.string({ message: 'patient_name must be a string' }).trim().min(1, 'patient_name must not be empty').max(200),
  booking_id: textOrNumber('booking_id', 64).pipe(z.string().min(1, 'booking_id must not be empty')),
  code: textOrNumber('code', 8).nullable().optional() // the 4-digit golden code, with the slack verify_golden_code allows
})

const clinicQuery = z.object({ clinic_id: field.id('clinic_id') })

const paymentMonth = z.string({ message: 'payment_month must be a string YYYY-MM' })
  .transform((s) => normalizeDigits(s.trim()))
  .pipe(z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'payment_month must be a month in YYYY-MM form'))

// Legacy read a raw dict and answered its own 400 when clinic_id or payment_month was missing or empty (Python
// falsiness): those become undefined here and the handler answers that 400; a value present but malformed is a 422.
const absentAsUndefined = (v: unknown): unknown => v === null || v === '' || v === 0 ? undefined : v

const statusBody = z.object({
  clinic_id: z.preprocess(absentAsUndefined, field.id('clinic_id').optional()),
  payment_month: z.preprocess(absentAsUndefined, paymentMonth.optional()),
  // Legacy wrote any string here, which no report understands; only the two states the reports know are taken.
  payment_status: z.preprocess((v) => v ?? undefined,
    z.enum(['paid', 'not_paid'], { message: 'payment_status must be "paid" or "not_paid"' }).default('paid'))
})

// The documented answers (OpenAPI only). The report shapes are legacy's, misspelled key included.
const savedReply = z.object({
  message: z.literal(text.paymentSaved),
  booking_id: z.string(),
  patient_name: z.string(),
  amount: z.number().int().describe("the clinic's golden fee in Iraqi dinar (1500 unless set)"),
  payment_month: z.string().describe('YYYY-MM'),
  payment_status: z.null()
})
const visit = z.object({ exam_date: z.string(), book_status: z.string(), patient_name: z.string(), booking_id: z.string(), code: z.string().nullable() })
const monthlyReply = z.object({ clinic_id: z.number().int() }).catchall(z.record(z.string().describe('YYYY-MM'), z.object({
  payment_status: z.enum(['paid', 'not_paid']),
  patinets_count: z.number().int().describe('misspelled, as legacy sent it'),
  amount: z.number().int(),
  patients: z.array(visit)
}))).describe('{clinic_id, "<YYYY>": {"<YYYY-MM>": {…}}}')
const annualReply = z.object({ clinic_id: z.number().int(), total_paid: z.number().int(), remain_amount: z.number().int() })
  .catchall(z.object({ amount: z.number().int(), payment_status: z.enum(['paid', 'not_paid']) })).describe('the month keys ("YYYY-MM") sit beside the totals')
const updatedReply = z.object({
  message: z.string(), clinic_id: z.number().int(), payment_month: z.string(), payment_status: z.enum(['paid', 'not_paid']), updated_count: z.number().int()
})
const allClinicsReply = z.object({
  total_clinics: z.number().int(),
  total_payments: z.number().int(),
  total_amount: z.number().int(),
  total_paid: z.number().int(),
  total_remain: z.number().int(),
  clinics: z.array(z.object({
    clinic_id: z.number().int(),
    clinic_name: z.string(),
    total_patients: z.number().int(),
    total_amount: z.number().int(),
    total_paid: z.number().int(),
    remain_amount: z.number().int(),
    months: z.record(z.string(), z.object({ patient_count: z.number().int(), amount: z.number().int(), payment_status: z.enum(['paid', 'not_paid']) }))
  }))
})

export function paymentRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'post', pattern: '/api/golden_patient_payment', auth: 'secret', body: paymentBody,
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
      summary: "Log an examined golden visit at the clinic's golden fee; a booking id is logged once",
      example: { clinic_id: 7, exam_date: '14/11/2025', book_status: 'تمت المعاينة', patient_name: 'فاطمة حسين', booking_id: 'G-7-20251114-0003', code: '4821' },
      responses: { 200: savedReply },
      errors: [paymentErrors.duplicate],
      handler: async ({ body }) => {
        const saved = await ctx.db.run((sql) => savePayment(sql, {
          clinicId: body.clinic_id,
          examDate: body.exam_date,
          bookStatus: body.book_status,
          patientName: body.patient_name,
          bookingId: body.booking_id,
          code: body.code ?? null
        }))
        if (saved === null) throw paymentErrors.duplicate()
        return json(200, {
          message: text.paymentSaved,
          booking_id: body.booking_id,
          patient_name: body.patient_name,
          amount: saved.amount,
          payment_month: saved.paymentMonth,
          payment_status: null // legacy answered null although the row is stored as not_paid; the apps expect it
        })
      }
    }),
    defineRoute(ctx, {
      method: 'get', pattern: '/api/doctor_monthly_golden_payment_status', auth: 'secret', query: clinicQuery,
      scope: { actors: SECRETARIES, clinicId: ({ query }) => query.clinic_id },
      summary: "A clinic's golden visits by year and month, with each month's amount and payment status",
      responses: { 200: monthlyReply },
      errors: [],
      handler: async ({ query }) => {
        const rows = await ctx.db.run((sql) => clinicPayments(sql, query.clinic_id))
        return json(200, monthlyReport(query.clinic_id, rows))
      }
    }),
    defineRoute(ctx, {
      method: 'get', pattern: '/api/doctor_annual_payment_status', auth: 'secret', query: clinicQuery,
      scope: { actors: SECRETARIES, clinicId: ({ query }) => query.clinic_id },
      summary: "A clinic's golden payment totals and each month's amount and status",
      responses: { 200: annualReply },
      errors: [],
      handler: async ({ query }) => {
        const rows = await ctx.db.run((sql) => clinicPayments(sql, query.clinic_id))
        return json(200, annualReport(query.clinic_id, rows))
      }
    }),
    defineRoute(ctx, {
      method: 'post', pattern: '/api/update_payment_status', auth: 'secret', body: statusBody,
      // The platform marks what a clinic has paid it; a clinic's own secretary must not.
      scope: { actors: ADMINS_ONLY },
      summary: "Mark every golden visit of a clinic's month paid (or not paid)",
      example: { clinic_id: 7, payment_month: '2025-11', payment_status: 'paid' },
      responses: { 200: updatedReply },
      errors: [paymentErrors.monthRequired],
      handler: async ({ body }) => {
        if (body.clinic_id === undefined || body.payment_month === undefined) throw paymentErrors.monthRequired()
        const { clinic_id: clinicId, payment_month: month, payment_status: status } = body
        const updated = await ctx.db.run((sql) => setMonthStatus(sql, clinicId, month, status))
        return json(200, {
          message: `payment status updated for ${updated} patients`,
          clinic_id: clinicId,
          payment_month: month,
          payment_status: status,
          updated_count: updated
        })
      }
    }),
    defineRoute(ctx, {
      method: 'get', pattern: '/api/all_clinics_golden_payments', auth: 'secret',
      scope: { actors: ADMINS_ONLY },
      summary: 'Golden payment totals of every clinic, by month',
      responses: { 200: allClinicsReply },
      errors: [errors.cpuBusy],
      // Every row of every clinic: the worker only collects the bytes and the piscina thread reads and sums them
      // (architecture.md §8), so this report never stalls the other requests of this worker.
      handler: async () => {
        const { ledger, clinicNames } = await ctx.db.run(async (sql) => ({
          ledger: await ledgerBytes(sql),
          clinicNames: await payingClinicNames(sql)
        }))
        const { report } = await ctx.cpu.run({ kind: 'paymentsReport', ledger, clinicNames }, [ledger.buffer])
        return json(200, report)
      }
    })
  ]
}
