import { detail } from './entry.ts'

// The platform's own contact info and maintenance banner (legacy-api.md §2.11).

export const platformErrors = {
  // The platform's info lives in clinic 1's profile, as it did in doctor 1's.
  infoClinicMissing: detail(404, 'clinic_not_found', 'clinic 1, which holds the platform info, does not exist', { shown: 'العيادة غير موجودة' })
}
