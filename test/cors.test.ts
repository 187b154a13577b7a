import t from 'tap'
import { loadConfig } from '../src/config.ts'
import { client, type Response } from './helpers/client.ts'
import { startStack } from './helpers/stack.ts'

// CORS (issue 12, item 2) as the server writes it: CORS_ORIGINS, the preflight of every known path, and the
// origin's headers on every answer, errors, 429s and streams included. test/cors-browser.test.ts has a real browser
// hold the server to it.

const production = {
  ENVIRONMENT: 'production',
  DATABASE_URL: 'postgres://u:p@db.example:5432/tabeby',
  DOCTOR_PROFILE_SECRET: 'a-secret-the-apps-send',
  JWT_SECRET: 'x'.repeat(40),
  SMTP_URL: 'smtps://mailer:pw@smtp.example:465',
  MAIL_FROM: 'Tabeby <no-reply@tabeby.example>',
  FRONTEND_BASE_URL: 'https://dashboard.tabeby.example/app/'
}

t.test('CORS_ORIGINS: a list of origins, * only outside production, the dashboard by default in production', async (t) => {
  t.equal(loadConfig({}).corsOrigins, '*', 'development: every origin, as legacy')
  t.same(loadConfig(production).corsOrigins, ['https://dashboard.tabeby.example'], 'production: the dashboard (FRONTEND_BASE_URL) only')
  t.same(loadConfig({ CORS_ORIGINS: ' https://a.example , http://localhost:3000/,https://a.example' }).corsOrigins,
    ['https://a.example', 'http://localhost:3000'], 'a comma list, trimmed, a trailing slash forgiven, duplicates once')
  t.same(loadConfig({ ...production, CORS_ORIGINS: 'https://admin.tabeby.example' }).corsOrigins, ['https://admin.tabeby.example'])
  t.throws(() => loadConfig({ ...production, CORS_ORIGINS: '*' }), /CORS_ORIGINS: "\*" is refused when ENVIRONMENT=production/)
  for (const bad of ['https://a.example/admin', 'ftp://a.example', 'a.example', '*,https://a.example', ',', 'https://u:p@a.example']) {
    t.throws(() => loadConfig({ CORS_ORIGINS: bad }), /^CORS_ORIGINS: /, `refused: ${bad}`)
  }
})

const { api, launch } = await startStack(t, { mode: 'in-process' })
const DASHBOARD = 'https://dash.example'
const listed = client(await launch(t, { CORS_ORIGINS: `${DASHBOARD},http://localhost:3000` }))

function corsOf (res: Response): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const name of ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods',
    'access-control-allow-headers', 'access-control-max-age']) {
    if (res.headers[name] !== undefined) out[name] = res.headers[name]
  }
  return out
}

t.test('an allowed origin is echoed with credentials, never *; others get nothing; every answer varies by Origin', async (t) => {
  const anyOrigin = await api.get('/api/maintenance/status', { headers: { Origin: 'https://any.example' } })
  t.same(corsOf(anyOrigin), { 'access-control-allow-origin': 'https://any.example', 'access-control-allow-credentials': 'true' },
    'CORS_ORIGINS=* echoes the origin (the Fetch standard refuses * with credentials)')
  t.match(anyOrigin.headers['access-control-expose-headers'], /X-RateLimit-Remaining.*Retry-After|Retry-After.*X-RateLimit-Remaining/,
    'the rate-limit headers can be read by the page')
  t.same(corsOf(await api.get('/api/maintenance/status', { headers: { Origin: 'null' } })), {}, 'an opaque origin ("null") is not echoed')
  const noOrigin = await api.get('/api/maintenance/status')
  t.same([corsOf(noOrigin), noOrigin.headers['vary']], [{}, 'Origin'], 'an app (no Origin) gets no CORS headers, and Vary: Origin')

  const allowed = await listed.get('/api/maintenance/status', { headers: { Origin: DASHBOARD } })
  t.equal(allowed.headers['access-control-allow-origin'], DASHBOARD, 'a listed origin')
  const other = await listed.get('/api/maintenance/status', { headers: { Origin: 'https://evil.example' } })
  t.same([other.status, corsOf(other), other.headers['vary']], [200, {}, 'Origin'], 'an unlisted origin: the answer, without CORS headers')
  const prefix = await listed.get('/api/maintenance/status', { headers: { Origin: `${DASHBOARD}.evil.example` } })
  t.same(corsOf(prefix), {}, 'compared whole, not as a prefix')

  const cached = await listed.get('/api/doctors', { headers: { Origin: DASHBOARD } })
  t.equal(cached.headers['vary'], 'Accept-Encoding, Origin', 'Vary keeps what the route said')
})

t.test('the preflight of every known path: its methods, the headers the apps send, Max-Age', async (t) => {
  const ask = (path: string, origin: string, headers = 'authorization, doctor-secret, idempotency-key, content-type') =>
    listed.request(path, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': headers } })
  const booking = await ask('/api/patient_booking', DASHBOARD, 'authorization, doctor-secret, idempotency-key, content-type, x-dashboard-build')
  t.equal(booking.status, 204)
  t.same(corsOf(booking), {
    'access-control-allow-origin': DASHBOARD,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'POST',
    'access-control-allow-headers': 'Authorization, Content-Type, Doctor-Secret, Idempotency-Key, Last-Event-ID, If-None-Match, x-dashboard-build',
    'access-control-max-age': '7200'
  })
  t.equal(booking.headers['allow'], 'POST, OPTIONS')
  const mirror = await ask('/backend/users/me', 'http://localhost:3000')
  t.same([mirror.status, mirror.headers['access-control-allow-methods']], [204, 'GET, HEAD, PATCH'], 'a /backend mirror, the second listed origin')

  const refused = await ask('/api/patient_booking', 'https://evil.example')
  t.same([refused.status, corsOf(refused)], [204, {}], 'an unlisted origin: no grant, so the browser stops there')
  const unknown = await ask('/api/nothing_here', DASHBOARD)
  t.same([unknown.status, unknown.headers['access-control-allow-origin']], [404, DASHBOARD], 'an unknown path: a readable 404')
})

t.test('errors, 405s, 429s and streams carry the origin\'s headers too', async (t) => {
  const headers = { Origin: DASHBOARD }
  const forbidden = await listed.get('/api/booking_days?clinic_id=1', { secret: null, headers })
  const invalid = await listed.get('/api/booking_days?clinic_id=abc', { headers })
  const wrongMethod = await listed.send('PUT', '/api/booking_days?clinic_id=1', undefined, { headers })
  for (const [what, res, status] of [['403', forbidden, 403], ['422', invalid, 422], ['405', wrongMethod, 405]] as const) {
    t.same([res.status, res.headers['access-control-allow-origin']], [status, DASHBOARD], what)
  }

  const stream = await listed.openStream('/api/booking_days?clinic_id=1&stream=true', { 'Doctor-Secret': 'dev-secret', Origin: DASHBOARD })
  t.same([stream.headers['content-type'], stream.headers['access-control-allow-origin']], ['text/event-stream', DASHBOARD], 'SSE')
  stream.close()

  const limited = client(await launch(t, { CORS_ORIGINS: DASHBOARD, RATE_LIMIT_DEFAULT: '2' }))
  let last: Response | null = null
  for (let i = 0; i < 3; i++) last = await limited.get('/api/maintenance/status', { headers })
  t.same([last?.status, last?.headers['access-control-allow-origin'], last?.headers['retry-after'] !== undefined], [429, DASHBOARD, true],
    'a 429 the page can read, Retry-After included')
})
