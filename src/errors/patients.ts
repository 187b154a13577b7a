import { customError, detail } from './entry.ts'

// Phone accounts and patient profiles (legacy-api.md §2.1, §2.9, §2.10). The /auth routes answered in main.py's
// {"error": {code, message}} shape and gave `bad_request` to several meanings; the /api patient routers answered
// FastAPI-style. Each meaning has its own entry, and the wire keeps the legacy code.

export const patientErrors = {
  registerRole: customError(400, 'register_role_invalid', 'user_role must be patient|secretary|doctor', { wire: 'bad_request' }),
  registerPhone: customError(400, 'register_phone_invalid', 'phone_number must be E.164', { wire: 'bad_request' }),
  phoneMissing: customError(400, 'check_phone_missing', 'phone parameter is required', { wire: 'bad_request' }),
  phoneFormat: customError(400, 'invalid_format', 'phone must be in E.164 format (e.g., +9647701234567 for Iraq or +201234567890 for Egypt)'),
  notPatientRole: detail(400, 'invalid_role', "user_role must be 'patient'"),
  patientPhone: detail(400, 'invalid_phone', 'phone_number must be E.164'),
  serverIdPrefix: detail(400, 'user_server_id_not_prefixed', 'user_server_id must be like P-<id>', { wire: 'invalid_user_server_id' }),
  serverIdFormat: detail(400, 'invalid_user_server_id', 'invalid user_server_id format'),
  serverIdEither: detail(400, 'user_server_id_path_invalid', 'invalid user_server_id format; expected P-<id> or <id>', { wire: 'invalid_user_server_id' }),
  patientIdFormat: detail(400, 'invalid_patient_id', 'invalid patient_id format; expected P-<id> or <id>'),
  accountNotFound: detail(404, 'account_not_found', 'user_account not found'),
  profileNotFound: detail(404, 'profile_not_found', 'patient_profile not found'),
  patientNotFound: detail(404, 'patient_not_found', 'patient not found'),
  // POST /patients, the legacy list: FastAPI's HTTPException.
  legacyEmailTaken: detail(400, 'patient_email_exists', 'Email already exists'),
  notAPatient: detail(400, 'not_a_patient', (role: string) => `user is not a patient, role is: ${role}`, { example: ['doctor'] })
}
