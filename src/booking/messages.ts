import { ApiError, detail } from '../errors.ts'

// The booking routes' wire strings. Where the legacy server had an Arabic string (legacy-api.md's glossary and
// examples) it is kept verbatim: the apps show these messages to patients and secretaries as they come.
export const text = {
  created: 'تم الانشاء بنجاح',
  exists: 'موجود',
  rejected: 'مرفوض',
  dayAdded: 'تمت إضافة اليوم الجديد',
  bookedAs: (name: string) => `تم الحجز بنجاح بأسم: ${name}`,
  statusUpdated: 'تم تحديث الحالة بنجاح',
  goldenStatusUpdated: 'تم تحديث حالة الحجز الذهبي بنجاح',
  dayArchived: 'تم إغلاق وحفظ اليوم في الأرشيف بنجاح',
  dayArchivedAllRemoved: 'تم إغلاق وحفظ اليوم في الأرشيف، وحذف القائمة بالكامل',
  archiveSaved: 'تم إنشاء/تحديث الأرشيف بنجاح',
  codeNotFound: 'الكود غير صحيح أو غير موجود',
  paymentSaved: 'تم حفظ الدفعة بنجاح'
}

export const bookingErrors = {
  clinicIdMissing: () => detail(400, 'clinic_id_missing', 'clinic_id must be sent'),
  noTable: () => detail(404, 'no_booking_table', 'لا يوجد جدول حجز لهذه العيادة'),
  noGoldenTable: () => detail(404, 'no_golden_table', 'لا يوجد جدول Golden لهذه العيادة'),
  dateRequired: () => detail(400, 'date_required', 'يجب تحديد التاريخ'),
  noDaysAvailable: () => detail(400, 'no_days_available', 'لا يوجد أيام متاحة خلال الـ 30 يوم القادمة'),
  alreadyBooked: (existing: { booking_id: string, date: string, token: number }) => new ApiError(409, 'already_booked',
    'هذا المريض محجوز مسبقاً في هذا التاريخ',
    { detail: 'هذا المريض محجوز مسبقاً في هذا التاريخ', code: 'already_booked', ...existing }),
  dayFull: (date: string, used: number, total: number) => new ApiError(409, 'day_full', `day ${date} is full (${used}/${total})`,
    { detail: `هذا اليوم ممتلئ (${used}/${total})، يرجى اختيار يوم آخر`, code: 'day_full', date, capacity_used: used, capacity_total: total }),
  dayClosed: (date: string) => new ApiError(409, 'day_closed', `day ${date} is closed for booking`,
    { detail: 'هذا اليوم مغلق ولا يقبل حجوزات جديدة', code: 'day_closed', date }),
  dayArchived: (date: string) => new ApiError(409, 'day_archived', `day ${date} is already archived`,
    { detail: 'هذا اليوم مؤرشف ولا يمكن تعديله', code: 'day_archived', date }),
  clinicClosed: () => detail(409, 'clinic_closed', 'العيادة مغلقة حالياً ولا تستقبل حجوزات'),
  doctorInactive: () => detail(409, 'doctor_inactive', 'الطبيب غير متاح حالياً للحجز'),
  pastDate: (date: string) => new ApiError(400, 'past_date', `date ${date} is in the past`,
    { detail: 'لا يمكن الحجز في تاريخ سابق', code: 'past_date', date }),
  invalidBookingId: () => detail(400, 'invalid_booking_id', 'invalid booking_id'),
  bookingIdDate: () => detail(400, 'invalid_booking_id_date', 'date part inside booking_id invalid'),
  dayNotFound: () => detail(404, 'day_not_found', 'day extracted from booking_id not found'),
  bookingNotFound: () => detail(404, 'booking_not_found', 'الحجز غير موجود داخل هذا التاريخ'),
  dateNotFound: () => detail(404, 'date_not_found', 'التاريخ غير موجود'),
  unknownStatus: (status: string) => detail(422, 'unknown_status', `unknown status "${status}": use booked, in_progress, served, no_show, cancelled or their Arabic labels`),
  cancelledAtBooking: () => detail(422, 'cancelled_at_booking', 'a new booking cannot start as cancelled')
}
