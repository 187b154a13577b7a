import { customError, detail, rateLimited } from './entry.ts'

// Admin authentication and the actor tokens (legacy-api.md §2.2, §4; contract.md §3). The guard's 401s keep the
// legacy Arabic `detail`, which the dashboard shows as it comes; `WWW-Authenticate` tells any HTTP client which
// scheme is expected.

const bearer = { 'WWW-Authenticate': 'Bearer' }

export const authErrors = {
  tokenInvalid: detail(401, 'token_invalid', 'missing, invalid, expired or revoked access token', { shown: 'رمز الوصول غير صالح', headers: bearer }),
  tokenType: detail(401, 'token_type', 'wrong token type', { shown: 'نوع الرمز غير صحيح', headers: bearer }),
  adminUnavailable: detail(401, 'admin_unavailable', 'the admin account is inactive or gone', { shown: 'المستخدم غير متاح', headers: bearer }),
  // A staff token whose member was deactivated, put on leave or deleted since login.
  staffUnavailable: detail(401, 'staff_unavailable', 'the staff account is inactive or gone', { shown: 'المستخدم غير متاح', headers: bearer }),
  // A token whose secretary, patient or doctor was deactivated (or deleted) since it was issued: signing in again
  // says why.
  actorUnavailable: detail(401, 'actor_unavailable', 'the account is deactivated or gone', { shown: 'المستخدم غير متاح', headers: bearer }),
  // AUTH_MODE=strict takes patient and doctor tokens only when they were issued for a verified phone.
  phoneUnverified: detail(401, 'token_phone_unverified', 'this token was not issued for a verified phone: sign in with the phone again', { shown: 'رمز الوصول غير صالح', headers: bearer }),
  // One answer for an unknown e-mail, a wrong password and an inactive account: the legacy server's three
  // messages told anyone which e-mails had accounts.
  invalidCredentials: detail(401, 'invalid_credentials', 'invalid email or password', { headers: bearer }),
  // AUTH_LOCKOUT_FAILURES wrong guesses on one target (an e-mail, a clinic's golden codes, an address guessing
  // secretary codes): every attempt on it is refused, a correct one included, until the lockout ends.
  lockedOut: rateLimited('sign_in_locked', 'too many failed attempts: this sign-in is locked for a while', 'محاولات فاشلة كثيرة. يرجى المحاولة لاحقاً.'),
  credentialsMissing: detail(400, 'credentials_missing', 'email and password must be sent'),
  refreshMissing: detail(400, 'refresh_token_missing', 'refreshToken must be sent'),
  refreshInvalid: detail(401, 'refresh_token_invalid', 'invalid, expired or revoked refresh token', { shown: 'رمز التحديث غير صالح', headers: bearer }),
  wrongPassword: detail(400, 'wrong_password', 'current password is incorrect'),
  fieldsMissing: detail(400, 'fields_missing', 'name, email and password must be sent'),
  invalidEmail: detail(400, 'invalid_email', 'invalid email'),
  passwordTooShort: detail(400, 'password_too_short', 'password must be at least 8 characters'),
  emailTaken: detail(400, 'email_exists', 'email already exists'),
  adminNotFound: detail(404, 'admin_not_found', 'admin not found', { shown: 'المستخدم غير موجود' }), // the admins router's text
  deleteSelf: detail(400, 'cannot_delete_self', 'an admin cannot delete their own account'),
  insufficient: detail(403, 'insufficient_permission', 'insufficient permission', { shown: 'ليست لديك صلاحية كافية' }),
  // main.py style, as the legacy /auth/phones answered
  phonesRole: customError(400, 'phones_role_invalid', 'role must be patient|secretary|doctor', { wire: 'bad_request' }),

  // Phone sign-in with a Firebase ID token (POST /auth/after-phone-login, and registration in AUTH_MODE=strict), in
  // main.py's shape as the legacy route answered.
  phoneTokenMissing: customError(401, 'phone_token_missing', 'Missing Bearer token', { wire: 'unauthorized', headers: bearer }),
  phoneTokenInvalid: customError(401, 'phone_token_invalid', (reason: string) => `Token invalid: ${reason}`,
    { wire: 'unauthorized', headers: bearer, example: ['expired'] }),
  phoneClaimMissing: customError(400, 'phone_claim_missing', 'No phone_number in token', { wire: 'bad_request' }),
  phoneClaimFormat: customError(400, 'phone_claim_format', 'phone_number not E.164', { wire: 'bad_request' }),
  phoneDoctorNotFound: customError(404, 'phone_doctor_not_found', 'Doctor not found for this phone', { wire: 'not_found' }),
  // The verified phone is not the one the request registers.
  phoneMismatch: customError(403, 'phone_mismatch', 'phone_number is not the phone of the verified ID token'),
  // The operator has not set FIREBASE_PROJECT_ID: no phone can be verified here, however long the app waits.
  phoneLoginUnconfigured: customError(503, 'phone_login_unconfigured', 'phone verification is not configured on this server'),
  phoneKeysUnavailable: customError(503, 'phone_keys_unavailable', "Google's token signing keys could not be fetched; try again shortly",
    { headers: { 'Retry-After': '5' } })
}
