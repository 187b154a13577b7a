import { detail } from './entry.ts'

// The live queue, waiting-room screens and push devices (issue 15): routes legacy never had, in FastAPI's
// {"detail", "code"} shape the apps already parse, with the Arabic they can show.

export const queueErrors = {
  bookingNotFound: detail(404, 'queue_booking_not_found', 'no booking has this booking_id', { shown: 'الحجز غير موجود' }),
  displayKeyRequired: detail(403, 'display_key_required', 'this screen needs its display key (?key=…)', { shown: 'مفتاح الشاشة مطلوب' }),
  displayKeyInvalid: detail(403, 'display_key_invalid', 'the display key is unknown, revoked, or not this clinic\'s', { shown: 'مفتاح الشاشة غير صالح أو ملغى' }),
  displayKeyNotFound: detail(404, 'display_key_not_found', 'the clinic has no display key with this id', { shown: 'مفتاح الشاشة غير موجود' }),
  displayKeyLimit: detail(409, 'display_key_limit', 'the clinic already has 20 live display keys: revoke one first', { shown: 'للعيادة 20 مفتاح شاشة فعّال: ألغِ أحدها أولاً' }),
  devicePatientRequired: detail(400, 'device_patient_required', 'patient_id is required (a patient token gives it in AUTH_MODE=strict)', { shown: 'رقم المريض مطلوب' })
}
