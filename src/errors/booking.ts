import { detail } from './entry.ts'

// The regular and golden queues (legacy-api.md §2.13, §2.14, §3). Where the legacy server had an Arabic string
// (legacy-api.md's glossary and examples) it is the `detail` the apps show to patients and secretaries as it comes.

const date = '2025-11-16'

export const bookingErrors = {
  clinicIdMissing: detail(400, 'clinic_id_missing', 'clinic_id must be sent'),
  noTable: detail(404, 'no_booking_table', 'the clinic has no booking days', { shown: 'لا يوجد جدول حجز لهذه العيادة' }),
  noGoldenTable: detail(404, 'no_golden_table', 'the clinic has no golden days', { shown: 'لا يوجد جدول Golden لهذه العيادة' }),
  dateRequired: detail(400, 'date_required', 'a date must be sent', { shown: 'يجب تحديد التاريخ' }),
  // The automatic search looked at `days` days (30 at most, as legacy's, and never past BOOKING_HORIZON_DAYS).
  noDaysAvailable: detail(400, 'no_days_available',
    (days: number, horizon: number) => `no day with room in the ${days} days searched (the booking horizon is ${horizon} days)`, {
      shown: (days, horizon) => `لا يوجد أيام متاحة خلال الـ ${days} يوم القادمة (الحجز متاح حتى ${horizon} يوماً مقدماً)`,
      fields: (days, horizon) => ({ days_searched: days, horizon_days: horizon }),
      example: [30, 60]
    }),
  // The booking the patient already holds on that date rides along, so the app can show it.
  alreadyBooked: detail(409, 'already_booked', 'the patient is already booked on this date', {
    shown: 'هذا المريض محجوز مسبقاً في هذا التاريخ',
    fields: (existing: { booking_id: string, date: string, token: number }) => ({ ...existing }),
    example: [{ booking_id: 'B-7-20251116-0003', date, token: 3 }]
  }),
  dayFull: detail(409, 'day_full', (day: string, used: number, total: number) => `day ${day} is full (${used}/${total})`, {
    shown: (_day, used, total) => `هذا اليوم ممتلئ (${used}/${total})، يرجى اختيار يوم آخر`,
    fields: (day, used, total) => ({ date: day, capacity_used: used, capacity_total: total }),
    example: [date, 20, 20]
  }),
  dayClosed: detail(409, 'day_closed', (day: string) => `day ${day} is closed for booking`,
    { shown: 'هذا اليوم مغلق ولا يقبل حجوزات جديدة', fields: (day) => ({ date: day }), example: [date] }),
  clinicClosed: detail(409, 'clinic_closed', 'the clinic is closed and takes no bookings', { shown: 'العيادة مغلقة حالياً ولا تستقبل حجوزات' }),
  doctorInactive: detail(409, 'doctor_inactive', 'the doctor is not taking bookings', { shown: 'الطبيب غير متاح حالياً للحجز' }),
  pastDate: detail(400, 'past_date', (day: string) => `date ${day} is in the past`,
    { shown: 'لا يمكن الحجز في تاريخ سابق', fields: (day) => ({ date: day }), example: [date] }),
  // BOOKING_HORIZON_DAYS: how far ahead the patient app may book.
  beyondHorizon: detail(400, 'beyond_booking_horizon', (day: string, days: number) => `date ${day} is more than ${days} days ahead`, {
    shown: (_day, days) => `لا يمكن الحجز لأكثر من ${days} يوماً مقدماً`,
    fields: (day, days) => ({ date: day, horizon_days: days }),
    example: [date, 60]
  }),
  // A date outside the doctor's working days (profile clinic_days) on which the clinic has opened no day.
  notWorkingDay: detail(409, 'not_working_day', (day: string) => `the clinic does not work on ${day}`,
    { shown: 'العيادة لا تعمل في هذا اليوم، يرجى اختيار يوم آخر', fields: (day) => ({ date: day }), example: [date] }),
  invalidBookingId: detail(400, 'invalid_booking_id', 'invalid booking_id'),
  bookingIdDate: detail(400, 'invalid_booking_id_date', 'date part inside booking_id invalid'),
  dayNotFound: detail(404, 'day_not_found', 'day extracted from booking_id not found'),
  bookingNotFound: detail(404, 'booking_not_found', 'no such booking on this date', { shown: 'الحجز غير موجود داخل هذا التاريخ' }),
  dateNotFound: detail(404, 'date_not_found', 'no such date', { shown: 'التاريخ غير موجود' }),
  // Also the message of the validation issue a status field gets.
  unknownStatus: detail(422, 'unknown_status',
    (status: string) => `unknown status "${status}": use booked, in_progress, served, no_show, cancelled or their Arabic labels`, { example: ['maybe'] }),
  cancelledAtBooking: detail(422, 'cancelled_at_booking', 'a new booking cannot start as cancelled'),

  // Booking days (create_table, add_day)
  daysEmpty: detail(400, 'days_empty', 'days must contain at least one date key'),
  capacityUnknown: detail(400, 'capacity_unknown', 'capacity_total not sent and cannot be derived from the doctor profile (receiving_patients)'),
  noDaysYet: detail(400, 'no_days_yet', 'no dates yet, use create_table first or send a custom date'),
  capacityInvalid: detail(400, 'capacity_invalid', 'capacity_total must be greater than 0'),

  // Idempotency-Key on the booking routes (contract.md §2.14)
  idempotencyKeyInvalid: detail(400, 'idempotency_key_invalid', 'Idempotency-Key must be 1 to 255 visible ASCII characters'),
  idempotencyInProgress: detail(409, 'idempotency_conflict', 'a request with this Idempotency-Key is being processed, retry shortly'),
  idempotencyKeyReused: detail(422, 'idempotency_key_reused', 'this Idempotency-Key was used with a different request body')
}
