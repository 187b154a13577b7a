// The booking routes' wire strings; their errors are in the catalogue (src/errors/booking.ts). Where the legacy
// server had an Arabic string (legacy-api.md's glossary and examples) it is kept verbatim: the apps show these
// messages to patients and secretaries as they come.
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
