import t from 'tap'
import { secretaryToken, patientToken } from '../src/auth/actors.ts'
import { startStack } from './helpers/stack.ts'
import { client, ok } from './helpers/client.ts'
import { today } from './helpers/booking-api.ts'

// Waiting-room screens' keys and what a key opens (issue 15.4): the page and its feed, tokens and the doctor's name
// only. The page in a real browser: queue-display-browser.test.ts.

const { api, sql, launch } = await startStack(t, { mode: 'in-process' })
const strict = await launch(t, { AUTH_MODE: 'strict' })
const strictApi = client(strict)

await sql`INSERT INTO clinics (id, name) VALUES (1701, 'سارة الكبيسي')`
await ok(api.post('/api/create_table', { clinic_id: 1701, days: { [today]: { capacity_total: 10 } } }), 'create_table')
const booked = await ok(api.post('/api/patient_booking', { clinic_id: 1701, name: 'زينب عباس', phone: '+9647701112233', source: 'secretary_app', date: today }), 'booking')
await ok(api.post('/api/patient_booking', { clinic_id: 1701, name: 'علي حسن', phone: '+9647701112244', source: 'secretary_app', date: today }), 'booking')

t.test('a key opens the page and its feed; the feed shows tokens and the doctor, no patient', async (t) => {
  const created = await ok(api.post('/api/display_keys', { clinic_id: 1701, label: 'الصالة' }), 'create key')
  t.match(created, { clinic_id: 1701, label: 'الصالة', revoked_at: null, key: /^[A-Za-z0-9_-]{32}$/ })
  t.equal(created['display_url'], `/display/1701?key=${created['key'] as string}`)

  const page = await api.get(created['display_url'] as string, { secret: null })
  t.equal(page.status, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.text, /<html lang="ar" dir="rtl">/)
  t.notMatch(page.text, /https?:\/\//, 'self-contained: nothing loaded from elsewhere')
  t.match(page.headers['content-security-policy'], /default-src 'none'/)
  t.equal(page.headers['referrer-policy'], 'no-referrer', 'the key in the URL goes nowhere else')

  await ok(api.post('/api/edit_patient_booking', { clinic_id: 1701, booking_id: booked['booking_id'], status: 'in_progress' }), 'call')
  const feed = await api.get(`/display/1701/feed?key=${created['key'] as string}`, { secret: null })
  t.same(feed.json(), { clinic_id: 1701, date: today, now_serving: 1, next: [2], waiting: 1, served: 0, doctor: 'سارة الكبيسي' })
  t.notMatch(feed.text, /زينب|علي|9647/, 'no patient name or phone')

  const listed = await ok(api.get('/api/display_keys?clinic_id=1701'), 'list')
  t.equal((listed['keys'] as unknown[]).length, 1)
  t.notMatch(JSON.stringify(listed), created['key'] as string, 'the list never shows a key')
})

t.test('without a key, with a wrong one, another clinic\'s, or a revoked one: refused', async (t) => {
  const mine = await ok(api.post('/api/display_keys', { clinic_id: 1701 }), 'create key')
  const theirs = await ok(api.post('/api/display_keys', { clinic_id: 1702 }), 'create key')
  const key = mine['key'] as string
  t.match((await api.get('/display/1701', { secret: null })).json(), { code: 'display_key_required' })
  t.equal((await api.get('/display/1701', { secret: null })).status, 403, 'like a missing app secret')
  t.equal((await api.get('/display/1701?key=nope', { secret: null })).status, 403)
  t.equal((await api.get(`/display/1701?key=${theirs['key'] as string}`, { secret: null })).status, 403, "another clinic's key")
  t.equal((await api.get(`/display/abc?key=${key}`, { secret: null })).status, 422)
  t.equal((await api.get(`/display/1701/feed?key=${key}&stream=maybe`, { secret: null })).status, 422)

  const stream = await api.openStream(`/display/1701/feed?key=${key}&stream=true`)
  t.teardown(stream.close)
  t.equal(stream.status, 200, 'the stream opens while the key is live')
  const revoked = await ok(api.post('/api/display_keys/revoke', { clinic_id: 1701, id: mine['id'] }), 'revoke')
  t.type(revoked['revoked_at'], 'string')
  t.equal((await api.get(`/display/1701?key=${key}`, { secret: null })).status, 403, 'revoked: the page')
  t.equal((await api.get(`/display/1701/feed?key=${key}&stream=true`, { secret: null })).status, 403, 'and its reconnect')
  t.equal((await api.post('/api/display_keys/revoke', { clinic_id: 1702, id: mine['id'] })).status, 404, "another clinic's key is not found")
  t.equal((await api.post('/api/display_keys/revoke', { clinic_id: 1701, id: 999999 })).status, 404)
})

t.test('twenty live keys a clinic; bad input gets a 4xx', async (t) => {
  for (let i = 0; i < 20; i++) await ok(api.post('/api/display_keys', { clinic_id: 1703 }), `key ${i}`)
  const over = await api.post('/api/display_keys', { clinic_id: 1703 })
  t.equal(over.status, 409)
  t.match(over.json(), { code: 'display_key_limit' })
  for (const body of [{}, { clinic_id: 'x' }, { clinic_id: 1701, label: 'x'.repeat(101) }, { clinic_id: 1701, label: 5 }]) {
    t.equal((await api.post('/api/display_keys', body)).status, 422, JSON.stringify(body))
  }
  t.equal((await api.post('/api/display_keys/revoke', { clinic_id: 1701 })).status, 422)
  t.equal((await api.get('/api/display_keys')).status, 422)
})

t.test('AUTH_MODE=strict: the clinic\'s secretary (or doctor) manages its keys; a patient cannot', async (t) => {
  await sql`INSERT INTO secretaries (code, clinic_id) VALUES (223344, 1704), (223355, 1705)`
  const own = secretaryToken(strict.config.jwtSecret, 223344, 1704)
  t.equal((await strictApi.post('/api/display_keys', { clinic_id: 1704 }, { token: own })).status, 200)
  t.equal((await strictApi.get('/api/display_keys?clinic_id=1704', { token: own })).status, 200)
  t.equal((await strictApi.post('/api/display_keys', { clinic_id: 1704 }, { token: secretaryToken(strict.config.jwtSecret, 223355, 1705) })).status, 403)
  t.equal((await strictApi.post('/api/display_keys', { clinic_id: 1704 }, { token: patientToken(strict.config.jwtSecret, 5, true) })).status, 403)
})

t.test('the OpenAPI document covers the new routes with their answers', async (t) => {
  const doc = (await api.get('/openapi.json')).json<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>()
  for (const [path, method, codes] of [
    ['/api/queue/now_serving', 'get', ['200']], ['/api/queue/position', 'get', ['200', '404']], ['/api/display_keys', 'post', ['200', '409']],
    ['/api/display_keys', 'get', ['200']], ['/api/display_keys/revoke', 'post', ['200', '404']], ['/display/{clinic_id}', 'get', ['200', '403']],
    ['/display/{clinic_id}/feed', 'get', ['200', '403']]
  ] as const) {
    const op = doc.paths[path]?.[method]
    t.ok(op !== undefined, `${method} ${path}`)
    for (const code of codes) t.ok(op?.responses[code] !== undefined, `${method} ${path} ${code}`)
  }
})
