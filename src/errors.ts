// The one error type of the server. Every failure a client can see is an ApiError with an HTTP status, a stable
// code and a message; `body` is the exact wire shape, because the legacy apps read three different shapes
// (legacy-api.md conventions): FastAPI's {"detail": …}, the custom {"error": {code, message}}, and route-specific ones.
export class ApiError extends Error {
  constructor (
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown = { detail: message, code },
    readonly headers: Record<string, string> = {}
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

// FastAPI-style {"detail": "..."}; most legacy routes answer errors this way.
export function detail (status: number, code: string, message: string): ApiError {
  return new ApiError(status, code, message)
}

// The doctors / main.py style {"error": {"code", "message"}}.
export function customError (status: number, code: string, message: string): ApiError {
  return new ApiError(status, code, message, { error: { code, message } })
}

export const errors = {
  notFound: () => detail(404, 'not_found', 'Not Found'),
  methodNotAllowed: () => detail(405, 'method_not_allowed', 'Method Not Allowed'),
  forbidden: () => detail(403, 'forbidden', 'forbidden'),
  invalidJson: () => detail(400, 'invalid_json', 'request body is not valid JSON'),
  bodyTooLarge: (limit: number) => detail(413, 'body_too_large', `request body exceeds ${limit} bytes`),
  urlTooLong: (limit: number) => detail(414, 'url_too_long', `request path and query exceed ${limit} bytes`),
  headersTooLarge: (limit: number) => detail(431, 'headers_too_large', `request headers exceed ${limit} bytes`),
  requestTimeout: () => detail(408, 'request_timeout', 'the request body did not arrive in time'),
  databaseBusy: () => new ApiError(503, 'database_busy', 'the database is busy, retry shortly',
    { detail: 'الخادم مشغول حالياً، يرجى المحاولة بعد قليل', code: 'database_busy', message: 'the database is busy, retry shortly' },
    { 'Retry-After': '1' }),
  databaseUnavailable: () => new ApiError(503, 'database_unavailable', 'the database is unavailable, retry shortly',
    { detail: 'الخدمة غير متاحة مؤقتاً، يرجى المحاولة بعد قليل', code: 'database_unavailable', message: 'the database is unavailable, retry shortly' },
    { 'Retry-After': '5' }),
  // REQUEST_DEADLINE_MS passed: the database did not answer in time (down, reconnecting, or too slow).
  databaseTimeout: () => new ApiError(503, 'database_timeout', 'the database did not answer in time, retry shortly',
    { detail: 'الخدمة غير متاحة مؤقتاً، يرجى المحاولة بعد قليل', code: 'database_timeout', message: 'the database did not answer in time, retry shortly' },
    { 'Retry-After': '2' }),
  shuttingDown: () => new ApiError(503, 'shutting_down', 'the server is restarting, retry shortly',
    { detail: 'the server is restarting, retry shortly', code: 'shutting_down' }, { 'Retry-After': '1', Connection: 'close' }),
  coordinatorUnavailable: () => new ApiError(503, 'coordinator_unavailable', 'the coordinator is restarting, retry shortly',
    { detail: 'the coordinator is restarting, retry shortly', code: 'coordinator_unavailable' }, { 'Retry-After': '1' }),
  internal: () => detail(500, 'internal_error', 'Internal Server Error'),
  cpuBusy: () => new ApiError(503, 'server_busy', 'the server is busy, retry shortly',
    { detail: 'الخادم مشغول حالياً، يرجى المحاولة بعد قليل', code: 'server_busy', message: 'the server is busy, retry shortly' },
    { 'Retry-After': '1' })
}

// Admin authentication (legacy-api.md §2.2, §4). The guard's 401s keep the legacy Arabic `detail`, which the
// dashboard shows as it comes; `WWW-Authenticate` tells any HTTP client which scheme is expected.
const unauthorized = (code: string, message: string, shown: string): ApiError =>
  new ApiError(401, code, message, { detail: shown, code }, { 'WWW-Authenticate': 'Bearer' })

export const authErrors = {
  tokenInvalid: () => unauthorized('token_invalid', 'missing, invalid, expired or revoked access token', 'رمز الوصول غير صالح'),
  tokenType: () => unauthorized('token_type', 'wrong token type', 'نوع الرمز غير صحيح'),
  adminUnavailable: () => unauthorized('admin_unavailable', 'the admin account is inactive or gone', 'المستخدم غير متاح'),
  // A secretary token whose secretary was disabled (or deleted) since login: log in again, which says why.
  actorUnavailable: () => unauthorized('actor_unavailable', 'the secretary account is disabled or gone', 'المستخدم غير متاح'),
  // One answer for an unknown e-mail, a wrong password and an inactive account: the legacy server's three
  // messages told anyone which e-mails had accounts.
  invalidCredentials: () => unauthorized('invalid_credentials', 'invalid email or password', 'invalid email or password'),
  credentialsMissing: () => detail(400, 'credentials_missing', 'email and password must be sent'),
  refreshMissing: () => detail(400, 'refresh_token_missing', 'refreshToken must be sent'),
  refreshInvalid: () => unauthorized('refresh_token_invalid', 'invalid, expired or revoked refresh token', 'رمز التحديث غير صالح'),
  wrongPassword: () => detail(400, 'wrong_password', 'current password is incorrect'),
  fieldsMissing: () => detail(400, 'fields_missing', 'name, email and password must be sent'),
  invalidEmail: () => detail(400, 'invalid_email', 'invalid email'),
  passwordTooShort: () => detail(400, 'password_too_short', 'password must be at least 8 characters'),
  emailTaken: () => detail(400, 'email_exists', 'email already exists'),
  adminNotFound: () => detail(404, 'admin_not_found', 'غير موجود'),
  deleteSelf: () => detail(400, 'cannot_delete_self', 'an admin cannot delete their own account'),
  insufficient: () => detail(403, 'insufficient_permission', 'ليست لديك صلاحية كافية'),
  // main.py style, as the legacy /auth/phones answered
  phonesRole: () => customError(400, 'bad_request', 'role must be patient|secretary|doctor')
}

// Errors from the driver that mean "the database cannot be reached" rather than "this query is wrong".
const unreachableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  '57P01', '57P02', '57P03', '53300' // admin shutdown, crash shutdown, cannot connect now, too many connections
])

// A statement cancelled by statement_timeout (57014), or a transaction aborted by a deadlock (40P01) or a
// serialization failure (40001): nothing was changed, and the same request can succeed shortly.
const retryableCodes = new Set(['57014', '40P01', '40001'])
export function isRetryableFailure (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && retryableCodes.has(code)
}

export function isDatabaseUnreachable (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && unreachableCodes.has(code)
}
