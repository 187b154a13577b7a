// The booking routes' wire strings; their errors are in the catalogue (src/errors/booking.ts). Where the legacy
// server had an Arabic string (legacy-api.md's glossary and examples) it is kept verbatim: the apps show these
// messages to patients and secretaries as they come.
export const text = {
  created: 'تم الانشاء بنجاح',
  exists: 'موجود',
  rejected: 'مرفوض',
  dayAdded: 'تمت إضافة اليوم الجديد',
  // add_day on a date close_table closed: the day is there for walk-ins, closed; reopen_table opens it.
  dayAddedClosed: 'تمت إضافة اليوم مغلقاً لأن هذا التاريخ أُغلق سابقاً؛ لفتحه استخدم إعادة فتح اليوم',
  bookedAs: (name: string) => `تم الحجز بنجاح بأسم: ${name}`,
  // auto_assign booked a later date: legacy's " (booked on <date> because <requested> was full)", saying why the
  // requested date was passed over when it was not full (a catalogue code of the refusal it would have had).
  movedFrom: (date: string, requested: string, why: string) => ` (تم الحجز في ${date} لأن ${requested} ${
    why === 'day_closed' ? 'مغلق' : why === 'not_working_day' ? 'ليس من أيام عمل العيادة' : 'ممتلئ'})`,
  dayReopened: 'تم إعادة فتح اليوم بنجاح',
  dayAlreadyOpen: 'اليوم مفتوح مسبقاً',
  statusUpdated: 'تم تحديث الحالة بنجاح',
  goldenStatusUpdated: 'تم تحديث حالة الحجز الذهبي بنجاح',
  dayArchived: 'تم إغلاق وحفظ اليوم في الأرشيف بنجاح',
  dayArchivedAllRemoved: 'تم إغلاق وحفظ اليوم في الأرشيف، وحذف القائمة بالكامل',
  archiveSaved: 'تم إنشاء/تحديث الأرشيف بنجاح',
  codeNotFound: 'الكود غير صحيح أو غير موجود',
  paymentSaved: 'تم حفظ الدفعة بنجاح'
}
