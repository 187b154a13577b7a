import { detail, rateLimited, validationList } from './entry.ts'

// Errors any route can answer: the HTTP layer's limits, the app secret, validation, rate limits, and the server's
// own state (database, coordinator, worker threads, restart).

const retryAfter = (seconds: number): Record<string, string> => ({ 'Retry-After': String(seconds) })

export const errors = {
  notFound: detail(404, 'not_found', 'Not Found'),
  // A known path, a method it has no route for; the answer's Allow header lists those it has (workers/methods.ts).
  methodNotAllowed: detail(405, 'method_not_allowed', 'Method Not Allowed'),
  // The apps' shared Doctor-Secret is missing or wrong (legacy-api.md conventions).
  forbidden: detail(403, 'forbidden', 'forbidden'),
  // FastAPI's 422, which the apps already handle; the issues name what was wrong and where.
  validation: validationList('validation_error', [{ loc: ['body', 'clinic_id'], msg: 'clinic_id must be a positive integer', type: 'invalid_type' }]),
  // A JSON string escape that names half a UTF-16 pair (`"\ud800"`): valid JSON text, but no character to store.
  loneSurrogate: detail(400, 'unpaired_surrogate', 'text must not contain an unpaired UTF-16 surrogate (\\ud800-\\udfff)'),
  bodyTooLarge: detail(413, 'body_too_large', (limit: number) => `request body exceeds ${limit} bytes`, { example: [65536] }),
  urlTooLong: detail(414, 'url_too_long', (limit: number) => `request path and query exceed ${limit} bytes`, { example: [8192] }),
  headersTooLarge: detail(431, 'headers_too_large', (limit: number) => `request headers exceed ${limit} bytes`, { example: [16384] }),
  requestTimeout: detail(408, 'request_timeout', 'the request body did not arrive in time'),
  // The apps show `message`.
  tooManyRequests: rateLimited('rate_limited', 'too many requests', 'أنت تقوم بإرسال طلبات كثيرة جداً. يرجى الانتظار قليلاً.'),
  databaseBusy: detail(503, 'database_busy', 'the database is busy, retry shortly',
    { shown: 'الخادم مشغول حالياً، يرجى المحاولة بعد قليل', withMessage: true, headers: retryAfter(1) }),
  databaseUnavailable: detail(503, 'database_unavailable', 'the database is unavailable, retry shortly',
    { shown: 'الخدمة غير متاحة مؤقتاً، يرجى المحاولة بعد قليل', withMessage: true, headers: retryAfter(5) }),
  // REQUEST_DEADLINE_MS passed: the database did not answer in time (down, reconnecting, or too slow).
  databaseTimeout: detail(503, 'database_timeout', 'the database did not answer in time, retry shortly',
    { shown: 'الخدمة غير متاحة مؤقتاً، يرجى المحاولة بعد قليل', withMessage: true, headers: retryAfter(2) }),
  // The piscina queue is full: the worker's threads are busy with scrypt or reports.
  cpuBusy: detail(503, 'server_busy', 'the server is busy, retry shortly',
    { shown: 'الخادم مشغول حالياً، يرجى المحاولة بعد قليل', withMessage: true, headers: retryAfter(1) }),
  shuttingDown: detail(503, 'shutting_down', 'the server is restarting, retry shortly', { headers: { ...retryAfter(1), Connection: 'close' } }),
  coordinatorUnavailable: detail(503, 'coordinator_unavailable', 'the coordinator is restarting, retry shortly', { headers: retryAfter(1) }),
  cacheUnavailable: detail(503, 'cache_unavailable', 'coordinator unavailable: the shared cache is bypassed', { headers: retryAfter(1) }),
  // STATS_TOKEN is set and the request did not carry it (/stats, /metrics, /healthz, /cache/stats).
  statsToken: detail(401, 'stats_token_invalid', 'missing or wrong bearer token: these figures need Authorization: Bearer <STATS_TOKEN>',
    { headers: { 'WWW-Authenticate': 'Bearer' } }),
  // Never a stack trace or SQL on the wire: the log gets the detail.
  internal: detail(500, 'internal_error', 'Internal Server Error')
}
