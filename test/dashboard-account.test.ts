import t from 'tap'
import { ADMIN_EMAIL, withAdmin } from './helpers/admin.ts'
import { digests } from './helpers/legacy-client.ts'
import { shapeOf } from './helpers/booking-api.ts'
import { waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'
import { dashboard, type Session } from './helpers/dashboard.ts'

// The admin's own account (legacy-api.md §2.3), its activity trail, and admin management (§2.4), through the routes
// and a real database: legacy shapes, sessions that really end, recovery codes stored hashed, an audit trail nobody
// edits, and a super-admin that never disappears.

const { sql, app } = await startStack(t, { mode: 'in-process', env: withAdmin(undefined, { RATE_LIMIT_AUTH: '30000', RATE_LIMIT_DEFAULT: '30000' }) })
const api = dashboard(app)
const root = await api.adminLogin()

type Json = Record<string, unknown>
const BROWSER = { 'User-Agent': 'Mozilla/5.0 (tabeby test browser)' }

let next = 0
async function newAdmin (): Promise<{ id: number, email: string, password: string }> {
  const email = `admin${++next}@tabeby.test`
  const res = await api.send('POST', '/auth/admin/create', { name: `Admin ${next}`, email, password: 'admin-password' }, { token: root.accessToken })
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${res.text}`)
  return { id: res.json<{ admin: { id: number } }>().admin.id, email, password: 'admin-password' }
}

async function feed (session: Session, query = ''): Promise<{ items: Json[], total: number }> {
  const res = await api.get(`/users/me/activity${query}`, { token: session.accessToken })
  if (res.status !== 200) throw new Error(`activity answered ${res.status}: ${res.text}`)
  return res.json()
}

const events = async (session: Session): Promise<string[]> => (await feed(session, '?page_size=100')).items.map((item) => item['event'] as string)

t.test('/users/me, /backend/me and /backend/users/profile answer the legacy shapes', async (t) => {
  const me = await api.get('/users/me', { token: root.accessToken })
  t.same(shapeOf(me.json()), {
    email: 'string', id: 'number', is_active: 'boolean', is_admin: 'boolean', is_staff: 'boolean', is_superuser: 'boolean',
    name: 'string', permissions: 'array', role: 'string', two_factor_enabled: 'boolean'
  })
  t.same([me.json<Json>()['role'], me.json<Json>()['is_admin'], me.json<Json>()['is_superuser']], ['super-admin', true, true])
  const light = { id: root.id, name: 'Admin', email: ADMIN_EMAIL, is_active: true, is_superuser: true, two_factor_enabled: false }
  t.same((await api.get('/backend/me', { token: root.accessToken })).json(), light)
  t.same((await api.get('/backend/users/profile', { token: root.accessToken })).json(), light)
  t.equal((await api.get('/backend/me')).status, 401)
})

t.test('PATCH /users/me changes name and e-mail, answers the whole AdminOut, and refuses a taken e-mail', async (t) => {
  const admin = await newAdmin()
  const session = await api.adminLogin(admin.email, admin.password)
  const res = await api.send('PATCH', '/users/me', { name: 'Renamed', email: `Renamed${next}@Tabeby.Test` }, { token: session.accessToken })
  t.equal(res.status, 200)
  t.same([res.json<Json>()['name'], res.json<Json>()['email'], res.json<Json>()['role']], ['Renamed', `renamed${next}@tabeby.test`, 'admin'],
    'role and permissions filled in (legacy sent null for them here)')
  const taken = await api.send('PATCH', '/users/me', { email: ADMIN_EMAIL.toUpperCase() }, { token: session.accessToken })
  t.same([taken.status, taken.json<Json>()['detail']], [400, 'البريد الإلكتروني مستخدم مسبقاً'])
  t.equal((await api.send('PATCH', '/users/me', { email: 'nope' }, { token: session.accessToken })).status, 422)
  t.ok((await events(session)).includes('profile_updated'), 'the change is in the trail')
})

t.test('/users/me/export is the legacy CSV; /users/me/security is {} and `revoke_all_sessions` ends every session', async (t) => {
  const admin = await newAdmin()
  const a = await api.adminLogin(admin.email, admin.password)
  const b = await api.adminLogin(admin.email, admin.password)
  const exported = await api.get('/users/me/export', { token: a.accessToken })
  t.same(exported.json(), { filename: 'me.csv', content: `id,name,email,is_active,is_superuser\r\n${admin.id},Admin ${next},${admin.email},True,False\r\n` })
  t.same((await api.get('/users/me/security', { token: a.accessToken })).json(), {})
  t.equal((await api.send('PATCH', '/users/me/security', { revoke_all_sessions: 'maybe' }, { token: a.accessToken })).status, 422)
  const keep = await api.send('PATCH', '/users/me/security', { email_security_alerts: true }, { token: a.accessToken })
  t.same([keep.status, keep.json()], [200, { message: 'done' }])
  t.equal((await api.get('/users/me', { token: b.accessToken })).status, 200, 'preferences alone end nothing')
  const revoke = await api.send('PATCH', '/backend/users/me/security', { revoke_all_sessions: true }, { token: a.accessToken })
  t.same([revoke.status, revoke.json()], [200, { message: 'done' }])
  for (const session of [a, b]) {
    t.equal((await api.get('/users/me', { token: session.accessToken })).status, 401, 'the access token stops now (legacy: after 15 minutes)')
    t.equal((await api.send('POST', '/auth/refresh', { refreshToken: session.refreshToken })).status, 401, 'and its refresh token')
  }
  const after = await api.adminLogin(admin.email, admin.password)
  t.same((await events(after)).filter((e) => e === 'sessions_revoked' || e === 'account_exported').sort(), ['account_exported', 'sessions_revoked'])
})

t.test('/users/me/sessions: one row per live session, the asking one marked current, ids stable across refreshes', async (t) => {
  const admin = await newAdmin()
  const a = await api.adminLogin(admin.email, admin.password)
  const b = await api.adminLogin(admin.email, admin.password)
  const list = async (token: string): Promise<Json[]> => (await api.get('/users/me/sessions', { token })).json<Json[]>()
  const seenByA = await list(a.accessToken)
  t.equal(seenByA.length, 2)
  t.same(shapeOf(seenByA[0]), { created_at: 'string', current: 'boolean', expires_at: 'string', id: 'number', last_used_at: 'string', user_agent: 'null' })
  t.same(seenByA.map((row) => row['current']).sort(), [false, true])
  const refreshed = (await api.send('POST', '/auth/refresh', { refreshToken: a.refreshToken })).json<{ data: { accessToken: string } }>().data
  const again = await list(refreshed.accessToken)
  t.same(again.map((row) => row['id']).sort(), seenByA.map((row) => row['id']).sort(), 'the same ids after a refresh')
  t.equal(again.find((row) => row['current'] === true)?.['id'], seenByA.find((row) => row['current'] === true)?.['id'])

  t.same((await api.get('/users/me/sessions', { token: 'not-a-token' })).json(), [], 'a token it cannot use: [] as legacy')
  t.equal((await api.get('/users/me/sessions')).status, 401, 'no header: 401 as legacy')

  const other = seenByA.find((row) => row['current'] === false)?.['id']
  const end = await api.send('DELETE', `/users/me/sessions/${String(other)}`, undefined, { token: refreshed.accessToken })
  t.same([end.status, end.json()], [200, { message: 'ok' }])
  t.equal((await api.get('/users/me', { token: b.accessToken })).status, 401, 'that session\'s access token stops')
  t.equal((await api.get('/users/me', { token: refreshed.accessToken })).status, 200, 'this one goes on')
  t.equal((await api.send('DELETE', `/users/me/sessions/${String(other)}`, undefined, { token: refreshed.accessToken })).status, 404)
  const [rootSession] = await sql<Array<{ id: number }>>`SELECT min(id)::int AS id FROM refresh_tokens WHERE admin_id = ${root.id}`
  t.equal((await api.send('DELETE', `/users/me/sessions/${String(rootSession?.id)}`, undefined, { token: refreshed.accessToken })).status, 404, "another account's session is nobody's here")
})

t.test('recovery codes: ten, shown once, stored as hashes; a login takes one, once', async (t) => {
  const admin = await newAdmin()
  const session = await api.adminLogin(admin.email, admin.password)
  t.same((await api.get('/users/me/recovery-codes', { token: session.accessToken })).json(), { codes: [] })
  const generated = await api.send('POST', '/users/me/recovery-codes', undefined, { token: session.accessToken })
  t.equal(generated.status, 200)
  const codes = generated.json<{ codes: Array<{ code: string, used: boolean }> }>().codes
  t.equal(codes.length, 10)
  for (const { code, used } of codes) {
    t.match(code, /^[0-9a-f]{8}-[0-9a-f]{8}$/)
    t.equal(used, false)
  }
  const stored = await sql<Array<{ code_hash: string, hint: string }>>`SELECT code_hash, hint FROM recovery_codes WHERE admin_id = ${admin.id}`
  t.equal(stored.length, 10)
  t.notOk(stored.some((row) => codes.some(({ code }) => row.code_hash.includes(code) || code === row.code_hash)), 'no code is stored as it is')
  const masked = (await api.get('/users/me/recovery-codes', { token: session.accessToken })).json<{ codes: Array<{ code: string }> }>().codes
  t.same(masked.map((c) => c.code), codes.map((c) => `${c.code.slice(0, 4)}****-********`), 'afterwards only their first characters')

  const code = codes[3]?.code as string
  const login = await api.send('POST', '/auth/recovery-login', { email: admin.email, code: code.toUpperCase() }, { secret: true })
  t.equal(login.status, 200)
  t.same(shapeOf(login.json()), { accessToken: 'string', message: 'string', refreshToken: 'string', tokenType: 'string', user: 'object' })
  const twice = await api.send('POST', '/auth/recovery-login', { email: admin.email, code }, { secret: true })
  t.same([twice.status, twice.json<Json>()['code']], [401, 'recovery_login_failed'], 'a code works once')
  t.equal((await api.send('POST', '/auth/recovery-login', { email: admin.email, code: 'deadbeef-deadbeef' }, { secret: true })).status, 401)
  t.equal((await api.send('POST', '/auth/recovery-login', { email: ADMIN_EMAIL, code: codes[4]?.code }, { secret: true })).status, 401, "another admin's code")
  t.equal((await api.send('POST', '/auth/recovery-login', { email: admin.email, code: codes[4]?.code })).status, 403, 'the app secret, as the admin login')
  const after = (await api.get('/users/me/recovery-codes', { token: session.accessToken })).json<{ codes: Array<{ used: boolean }> }>().codes
  t.same(after.map((c) => c.used), codes.map((_, i) => i === 3))
  const trail = await events(session)
  t.ok(trail.includes('recovery_codes_generated') && trail.includes('recovery_code_used'))
})

t.test('the trail is written on real events: a new device, a failed login, a password change, staff created and deleted', async (t) => {
  const admin = await newAdmin()
  const first = await api.adminLogin(admin.email, admin.password)
  const fresh = await feed(first)
  t.same(fresh.items.map((item) => [item['event'], item['type'], item['status']]), [['login_new_device', 'login_new_device', 'info']], 'the first login is a new device')
  t.same(shapeOf(fresh.items[0]), { at: 'string', description: 'null', event: 'string', id: 'string', status: 'string', title: 'string', type: 'string' })
  t.same(Object.keys(await feed(first)).sort(), ['items', 'nextCursor', 'total'])

  await api.adminLogin(admin.email, admin.password)
  t.equal((await feed(first)).total, 1, 'the same browser again is no event')
  const browser = await api.send('POST', '/auth/admin/auth', { email: admin.email, password: admin.password }, { secret: true, headers: BROWSER })
  t.equal(browser.status, 200)
  const newest = (await feed(first)).items[0]
  t.same([newest?.['event'], newest?.['description']], ['login_new_device', BROWSER['User-Agent']])

  t.equal((await api.send('POST', '/auth/admin/auth', { email: admin.email, password: 'wrong-password' }, { secret: true })).status, 401)
  await waitFor('the failed login in the trail', async () => (await events(first)).includes('login_failed') || null)
  t.equal((await feed(first, '?types=failed_login_attempt')).items[0]?.['status'], 'warning')

  await api.send('POST', '/auth/change-password', { current_password: admin.password, new_password: 'changed-password' }, { token: first.accessToken })
  const created = await api.send('POST', '/staff', { email: `member${next}@tabeby.test`, password: 'long-enough' }, { token: root.accessToken })
  await api.send('DELETE', `/staff/${String(created.json<Json>()['id'])}`, undefined, { token: root.accessToken })
  t.ok((await events(first)).includes('password_changed'))
  const rootTrail = await events(root)
  t.ok(rootTrail.includes('staff_created') && rootTrail.includes('staff_deleted'), "in the acting admin's trail")
})

t.test('/users/me/activity: paging, order, since, types and status filters; bad queries are 422', async (t) => {
  const admin = await newAdmin()
  const session = await api.adminLogin(admin.email, admin.password)
  const post = (body: Json) => api.send('POST', '/activity', body, { token: session.accessToken })
  const created = await post({ type: 'security_alert', title: 'Old', status: 'error', at: '2024-05-01T10:00:00', description: 'd' })
  t.equal(created.status, 201)
  t.same(created.json(), { id: created.json<Json>()['id'], type: 'security_alert', title: 'Old', description: 'd', status: 'error', at: '2024-05-01T10:00:00.000Z', event: 'client' })
  t.match(created.json<Json>()['id'], /^[0-9a-f]{32}$/, 'a uuid hex id, as legacy')
  await post({ type: 'document_downloaded', title: 'Mid', status: 'info', at: '2025-01-01T00:00:00+03:00', email: admin.email.toUpperCase() })
  const forOther = await post({ type: 'security_alert', title: 'x', status: 'info', email: ADMIN_EMAIL })
  t.same([forOther.status, forOther.json<Json>()['detail']], [403, 'لا يمكن إنشاء حدث لمستخدم آخر'])
  for (const body of [{ type: 'backup_completed', title: 'x', status: 'info' }, { type: 'security_alert', title: 'x', status: 'bogus' }, { type: 'security_alert', status: 'info' }, { type: 'security_alert', title: 'x', status: 'info', at: 'yesterday' }]) {
    t.equal((await post(body)).status, 422, JSON.stringify(body))
  }
  const all = await feed(session, '?order=asc&page_size=100')
  t.same(all.items.slice(0, 2).map((item) => item['title']), ['Old', 'Mid'], 'oldest first')
  t.equal(all.total, all.items.length)
  const paged = await feed(session, '?page=2&page_size=1&order=asc')
  t.same([paged.items.length, paged.items[0]?.['title'], paged.total], [1, 'Mid', all.total])
  t.same((await feed(session, '?types=security_alert,document_downloaded&status=error')).items.map((i) => i['title']), ['Old'])
  t.same((await feed(session, '?since=2024-12-31T00:00:00Z&types=document_downloaded')).items.map((i) => i['title']), ['Mid'])
  t.same((await feed(session, '?since=2025-01-01&types=document_downloaded')).items.map((i) => i['title']), [], 'since a date: its midnight, UTC')
  t.equal((await feed(session, '?cursor=anything')).total, all.total, 'cursor is accepted and ignored')
  for (const query of ['page=0', 'page_size=101', 'order=up', 'since=bogus']) {
    t.equal((await api.get(`/users/me/activity?${query}`, { token: session.accessToken })).status, 422, query)
  }
})

t.test('the trail cannot be edited, not even by SQL', async (t) => {
  const before = await digests(sql, ['activities'])
  await t.rejects(sql`UPDATE activities SET title = 'rewritten'`, /audit trail/)
  await t.rejects(sql`DELETE FROM activities`, /audit trail/)
  await t.rejects(sql`TRUNCATE activities`, /audit trail/)
  t.same(await digests(sql, ['activities']), before)
})

t.test('admin management is a super-admin\'s, and the last active super-admin stays', async (t) => {
  const plain = await newAdmin()
  const plainSession = await api.adminLogin(plain.email, plain.password)
  for (const path of ['/admins/', '/admins', '/admins/list', '/backend/admins/list']) {
    const res = await api.get(path, { token: root.accessToken })
    t.equal(res.status, 200, path)
    t.same(shapeOf(res.json<Json[]>()[0]), { email: 'string', id: 'number', is_active: 'boolean', name: 'string', role: 'string' })
    t.equal((await api.get(path, { token: plainSession.accessToken })).status, 403, `${path}: a plain admin`)
  }
  const before = await digests(sql, ['admins'])
  t.equal((await api.send('PATCH', `/admins/${plain.id}`, { role: 'super-admin' }, { token: plainSession.accessToken })).status, 403, 'nobody promotes themself')
  t.equal((await api.send('POST', `/admins/${plain.id}/promote`, undefined, { token: plainSession.accessToken })).status, 403)
  for (const body of [{ role: 'admin' }, { active: false }]) {
    const res = await api.send('PATCH', `/admins/${root.id}`, body, { token: root.accessToken })
    t.same([res.status, res.json<Json>()['code']], [409, 'last_super_admin'], JSON.stringify(body))
  }
  t.equal((await api.send('PATCH', `/admins/${plain.id}`, { email: ADMIN_EMAIL }, { token: root.accessToken })).status, 400, 'a taken e-mail')
  t.equal((await api.send('PATCH', `/admins/${plain.id}`, { role: 'owner' }, { token: root.accessToken })).status, 422)
  t.equal((await api.send('PATCH', '/admins/999999', { name: 'x' }, { token: root.accessToken })).status, 404)
  t.same(await digests(sql, ['admins']), before, 'nothing changed')

  const promoted = await api.send('POST', `/admins/${plain.id}/promote`, undefined, { token: root.accessToken })
  t.same(promoted.json(), { id: plain.id, name: `Admin ${next}`, email: plain.email, role: 'super-admin', is_active: true })
  t.equal((await api.get('/admins/', { token: plainSession.accessToken })).status, 200, 'a promotion counts at once')
  const demoted = await api.send('PATCH', `/admins/${root.id}`, { role: 'admin' }, { token: plainSession.accessToken })
  t.equal(demoted.json<Json>()['role'], 'admin', 'with two super-admins, one may be demoted')
  t.same([(await api.send('DELETE', `/admins/${plain.id}`, undefined, { token: root.accessToken })).status], [403], 'a plain admin deletes nobody')
  t.equal((await api.send('PATCH', `/admins/${plain.id}`, { active: false }, { token: plainSession.accessToken })).status, 409, 'now it is the last one')
  t.equal((await api.send('PATCH', `/admins/${root.id}`, { role: 'super-admin' }, { token: plainSession.accessToken })).status, 200)

  const other = await newAdmin()
  const otherSession = await api.adminLogin(other.email, other.password)
  const off = await api.send('PATCH', `/backend/admins/${other.id}`, { active: false, name: 'Off' }, { token: root.accessToken })
  t.same([off.json<Json>()['is_active'], off.json<Json>()['name']], [false, 'Off'])
  t.equal((await api.send('POST', '/auth/refresh', { refreshToken: otherSession.refreshToken })).status, 401, 'a deactivated admin\'s sessions end')
  t.equal((await api.get('/users/me', { token: otherSession.accessToken })).status, 401)
})

t.test('nobody is promoted automatically, and the legacy self-promotion routes are gone', async (t) => {
  await sql`UPDATE admins SET is_superuser = false`
  try {
    const plain = await newAdmin() // /auth/admin/create needs any admin's token
    const session = await api.adminLogin(plain.email, plain.password)
    t.equal((await api.get('/admins/', { token: session.accessToken })).status, 403, 'the first caller without a super-admin around (legacy: promoted)')
    const [row] = await sql<Array<{ is_superuser: boolean }>>`SELECT is_superuser FROM admins WHERE id = ${plain.id}`
    t.equal(row?.is_superuser, false)
    // Both paths read as /admins/:id, which takes neither method: 405, and nothing runs.
    t.equal((await api.send('POST', '/admins/_ensure_super', undefined, { token: session.accessToken })).status, 405)
    t.equal((await api.get('/admins/_diagnose', { token: session.accessToken })).status, 405)
  } finally {
    await sql`UPDATE admins SET is_superuser = true WHERE id = ${root.id}`
  }
})

t.test('the OpenAPI document covers the dashboard routes: bodies, success shapes, errors, permissions', async (t) => {
  const doc = (await api.get('/openapi.json')).json<{ paths: Record<string, Record<string, Json & { responses: Record<string, Json>, security?: unknown[] }>> }>()
  const routes: Array<[string, string]> = [
    ['/permissions', 'get'], ['/roles', 'get'], ['/roles/{id}/permissions', 'patch'], ['/staff/login', 'post'], ['/staff/me', 'get'],
    ['/staff/password', 'post'], ['/staff/me/change-password', 'post'], ['/staff', 'get'], ['/staff', 'post'], ['/staff/{id}', 'get'],
    ['/staff/{id}', 'patch'], ['/staff/{id}', 'delete'], ['/staff/{id}/activate', 'post'], ['/staff/{id}/deactivate', 'post'],
    ['/staff/{id}/set-password', 'post'], ['/staff/count', 'get'], ['/api/staff/all', 'get'], ['/api/staff/create', 'post'],
    ['/api/staff/status', 'post'], ['/api/staff/{id}', 'patch'], ['/departments', 'get'], ['/departments', 'post'], ['/departments/stats', 'get'],
    ['/departments/{id}', 'get'], ['/departments/{id}', 'patch'], ['/departments/{id}', 'delete'], ['/departments/{id}/activate', 'post'],
    ['/departments/{id}/deactivate', 'post'], ['/users/me', 'get'], ['/users/me', 'patch'], ['/users/me/export', 'get'],
    ['/users/me/security', 'patch'], ['/users/me/sessions', 'get'], ['/users/me/sessions/{id}', 'delete'], ['/users/me/recovery-codes', 'get'],
    ['/users/me/recovery-codes', 'post'], ['/users/me/activity', 'get'], ['/activity', 'post'], ['/backend/me', 'get'], ['/backend/users/profile', 'get'],
    ['/admins/', 'get'], ['/admins/{id}', 'patch'], ['/admins/{id}/promote', 'post'], ['/admins/{id}', 'delete'], ['/auth/forgot-password', 'post'],
    ['/auth/reset-password/verify', 'get'], ['/auth/reset-password', 'post'], ['/auth/recovery-login', 'post'], ['/auth/refresh', 'post']
  ]
  for (const [path, method] of routes) {
    const operation = doc.paths[path]?.[method]
    t.ok(operation !== undefined, `${method.toUpperCase()} ${path} is documented`)
    if (operation === undefined) continue
    t.type(operation['summary'], 'string', `${method} ${path}: a summary`)
    const success = Object.keys(operation.responses).filter((status) => status.startsWith('2'))
    t.ok(success.length > 0 && (operation.responses[success[0] as string]?.['content'] !== undefined || success[0] === '204'), `${method} ${path}: its success shape`)
  }
  t.equal(doc.paths['/staff']?.['post']?.['x-permission'], 'staff.create', 'the permission a route needs')
  t.ok(doc.paths['/staff']?.['post']?.['requestBody'] !== undefined && JSON.stringify(doc.paths['/staff']?.['post']?.['requestBody']).includes('multipart/form-data'), 'form bodies are documented')
  t.ok(JSON.stringify(doc.paths['/staff/{id}']?.['patch']?.responses['400']).includes('role_unknown'), 'the catalogue errors a route throws')
})
