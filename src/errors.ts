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
  databaseBusy: () => new ApiError(503, 'database_busy', 'the database is busy, retry shortly',
    { detail: 'الخادم مشغول حالياً، يرجى المحاولة بعد قليل', code: 'database_busy', message: 'the database is busy, retry shortly' },
    { 'Retry-After': '1' }),
  databaseUnavailable: () => new ApiError(503, 'database_unavailable', 'the database is unavailable, retry shortly',
    { detail: 'الخدمة غير متاحة مؤقتاً، يرجى المحاولة بعد قليل', code: 'database_unavailable', message: 'the database is unavailable, retry shortly' },
    { 'Retry-After': '5' }),
  shuttingDown: () => new ApiError(503, 'shutting_down', 'the server is restarting, retry shortly',
    { detail: 'the server is restarting, retry shortly', code: 'shutting_down' }, { 'Retry-After': '1', Connection: 'close' }),
  internal: () => detail(500, 'internal_error', 'Internal Server Error')
}

// Errors from the driver that mean "the database cannot be reached" rather than "this query is wrong".
const unreachableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  '57P01', '57P02', '57P03', '53300' // admin shutdown, crash shutdown, cannot connect now, too many connections
])

// A statement cancelled by statement_timeout: the database is overloaded or a lock is held; come back shortly.
export function isStatementTimeout (error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '57014'
}

export function isDatabaseUnreachable (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && unreachableCodes.has(code)
}
