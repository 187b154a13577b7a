import { detail } from './entry.ts'

// Secretaries and their login codes (legacy-api.md §2.7 secretary_code_generator, §2.8), FastAPI-style.

export const secretaryErrors = {
  codeNotFound: detail(404, 'secretary_code_not_found', 'Secretary code not found'),
  disabled: detail(403, 'secretary_disabled', 'Secretary account is disabled by doctor'),
  notFound: detail(404, 'secretary_not_found', 'Secretary not found'),
  badId: detail(400, 'invalid_secretary_id', 'Invalid secretary_id format'),
  idRequired: detail(400, 'secretary_id_required', 'secretary_id is required'),
  idType: detail(400, 'secretary_id_type', 'secretary_id must be int or string'),
  statusNotBool: detail(400, 'secretary_status_invalid', 'secretary_status must be true or false'),
  // Legacy answered 500 here; a full code space is a temporary condition for the caller, not a server fault.
  codesExhausted: detail(503, 'secretary_codes_exhausted', 'Unable to generate unique secretary ID. Please try again.')
}
