import { z } from 'zod'
import { text } from '../../../src/booking/messages.ts'

// The documented answers of the queue routes (OpenAPI only; the handlers and src/booking/ build them).

const date = z.string().describe('YYYY-MM-DD')

// One place in a day's queue (src/booking/days.ts renderPatient): golden entries carry `code` and no `source`.
const patientEntry = z.object({
  booking_id: z.string(),
  token: z.number().int().describe('the place in the queue'),
  patient_id: z.string().nullable(),
  name: z.string(),
  phone: z.string(),
  source: z.string().nullable().optional().describe('regular: patient_app or secretary_app'),
  status: z.string().describe('Arabic, e.g. "تم الحجز"'),
  code: z.string().nullable().optional().describe('golden: the 4-digit code shown at the desk'),
  secretary_id: z.string().optional(),
  created_at: z.string()
})

const day = z.looseObject({
  source: z.string(),
  status: z.enum(['open', 'closed']),
  capacity_total: z.number().int(),
  capacity_used: z.number().int(),
  patients: z.array(patientEntry)
}).describe('the keys a client sent with the day are kept beside these')

export const daysReply = z.object({ clinic_id: z.number().int(), days: z.record(z.string().describe('YYYY-MM-DD'), day) })

export const bookingReply = z.object({
  message: z.string().describe(`"${text.bookedAs('عمر احمد')}"`),
  booking_id: z.string(),
  token: z.number().int(),
  capacity_used: z.number().int(),
  capacity_total: z.number().int(),
  status: z.string(),
  clinic_id: z.number().int(),
  date,
  patient_id: z.string().nullable()
})

export const goldenBookingReply = bookingReply.extend({ code: z.string().describe('4 digits') })

export const editReply = z.object({
  message: z.enum([text.statusUpdated, text.goldenStatusUpdated]),
  clinic_id: z.number().int(),
  booking_id: z.string(),
  old_status: z.string(),
  new_status: z.string().describe('regular: as sent; golden: its Arabic label'),
  patient_id: z.string().nullable()
})

const maybe = z.string().nullable()
export const verifyReply = z.object({
  status: z.enum(['success', 'error']),
  message: z.string().nullable().describe(`null on success; "${text.codeNotFound}" or "no golden table" otherwise`),
  patient_name: maybe,
  patient_phone: maybe,
  patient_id: maybe,
  booking_id: maybe,
  token: z.number().int().nullable(),
  booking_status: maybe,
  booking_date: maybe
})

export const createReply = z.object({
  status: z.enum([text.created, text.exists]),
  message: z.string(),
  capacity_total: z.number().int().nullable()
})

export const addDayReply = z.object({
  status: z.enum([text.created, text.exists, text.rejected]),
  message: z.string().optional(),
  date_added: date.nullable()
})

export const closeReply = z.object({
  status: z.enum([text.dayArchived, text.dayArchivedAllRemoved]),
  removed_all: z.boolean()
})

export const saveReply = z.object({
  status: z.enum(['تم إنشاء الأرشيف بنجاح', 'تم تحديث الأرشيف بنجاح', 'day saved to archive and removed from the table'])
})

export const archivesReply = z.object({
  clinic_id: z.number().int(),
  items: z.array(z.object({
    table_date: date,
    capacity_total: z.number().int().nullable(),
    capacity_served: z.number().int().nullable(),
    capacity_cancelled: z.number().int().nullable(),
    patients: z.array(z.record(z.string(), z.unknown())).nullable()
  }))
})
