import { customError, detail } from './entry.ts'

// Doctors and clinics (legacy-api.md §2.7, §2.1's /doctor/profile, §2.10's account status). The doctors router
// answered in the custom {"error": {code, message}} shape and gave one code, `bad_request`, to every bad body, and
// `not_found` to every missing doctor: each meaning has its own entry here, and the wire keeps the legacy code.

export const doctorErrors = {
  notFound: customError(404, 'doctor_not_found', 'Doctor not found', { wire: 'not_found' }),
  notLinked: customError(404, 'doctor_not_linked', 'No doctor mapped to this user', { wire: 'not_found' }),
  clinicNotFound: customError(404, 'clinic_id_not_found', 'clinic_id not found. Please verify the value.'),
  // defineRoute reads an empty or `null` body as {}; the dashboard's writes refused both.
  bodyNotObject: customError(400, 'doctor_body_not_object', 'Invalid JSON body', { wire: 'bad_request' }),
  // A body the schema refused, in this router's shape rather than FastAPI's list (COMPATIBILITY.md).
  bodyInvalid: customError(400, 'doctor_body_invalid', (message: string) => message,
    { wire: 'bad_request', example: ['active must be boolean'] }),
  // A query or path value of the wrong type: the 422 FastAPI gave it, in this router's shape.
  paramInvalid: customError(422, 'doctor_param_invalid', (message: string) => message,
    { wire: 'validation_error', example: ['doctor_id must be a positive integer'] }),
  unstorableText: customError(400, 'unstorable_text', 'text must not contain NUL characters or unpaired surrogates', { wire: 'bad_request' }),
  profilePhone: customError(400, 'profile_phone_invalid', 'phone must be E.164 like +46765588441 or provide valid user_server_id', { wire: 'bad_request' }),
  profileClinicId: customError(400, 'profile_clinic_id_missing', 'clinic_id is required in general_info', { wire: 'bad_request' }),
  // The row id is the clinic id every booking refers to; a profile naming another clinic would split the two.
  clinicIdFixed: customError(400, 'clinic_id_fixed', (id: number) => `general_info.clinic_id must stay ${id}: it is this doctor's id`,
    { wire: 'bad_request', example: [7] }),
  idExhausted: customError(409, 'id_exhausted', 'no doctor id is left above the highest one in use'),
  // POST /api/doctors naming general_info.clinic_id: the clinic id is the doctor's row id.
  clinicIdTaken: customError(409, 'clinic_id_taken', (id: number) => `general_info.clinic_id ${id} is already another doctor's clinic id`,
    { example: [7] }),
  clinicIdInvalid: customError(400, 'clinic_id_invalid', 'general_info.clinic_id must be a positive integer', { wire: 'bad_request' }),
  directoryUnavailable: customError(500, 'directory_unavailable', 'directory unavailable', { wire: 'internal_error' }),
  // account_status (§2.10) answered FastAPI-style.
  statusNotFound: detail(404, 'doctor_status_not_found', 'doctor not found', { wire: 'not_found' })
}
