import { detail, nestedCustomError } from './entry.ts'

// Golden payments (legacy-api.md §2.15).

export const paymentErrors = {
  // The legacy body nests the custom error shape inside FastAPI's detail; the apps match on it as it is.
  duplicate: nestedCustomError(400, 'duplicate', 'this booking was already saved in the payments log'),
  monthRequired: detail(400, 'payment_fields_required', 'clinic_id and payment_month are required')
}
