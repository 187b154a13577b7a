import { customError, detail } from './entry.ts'

// Admin authentication and the actor tokens (legacy-api.md §2.2, §4; contract.md §3). The guard's 401s keep the
// legacy Arabic `detail`, which the dashboard shows as it comes; `WWW-Authenticate` tells any HTTP client which
// scheme is expected.

const bearer = { 'WWW-Authenticate': 'Bearer' }

export const authErrors = {
  tokenInvalid: detail(401, 'token_invalid', 'missing, invalid, expired or revoked access token', { shown: 'رمز الوصول غير صالح', headers: bearer }),
  tokenType: detail(401, 'token_type', 'wrong token type', { shown: 'نوع الرمز غير صحيح', headers: bearer }),
  adminUnavailable: detail(401, 'admin_unavailable', 'the admin account is inactive or gone', { shown: 'المستخدم غير متاح', headers: bearer }),
  // A secretary token whose secretary was disabled (or deleted) since login: log in again, which says why.
  // A staff token whose member was deactivated, put on leave or deleted since login.
  staffUnavailable: detail(401, 'staff_unavailable', 'the staff account is inactive or gone', { shown: 'المستخدم غير متاح', headers: bearer }),
  actorUnavailable: detail(401, 'actor_unavailable', 'the secretary account is disabled or gone', { shown: 'المستخدم غير متاح', headers: bearer }),
  // One answer for an unknown e-mail, a wrong password and an inactive account: the legacy server's three
  // messages told anyone which e-mails had accounts.
  invalidCredentials: detail(401, 'invalid_credentials', 'invalid email or password', { headers: bearer }),
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
  phonesRole: customError(400, 'phones_role_invalid', 'role must be patient|secretary|doctor', { wire: 'bad_request' })
}
