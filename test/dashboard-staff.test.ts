import t from 'tap'
import { JWT_SECRET, withAdmin } from './helpers/admin.ts'
import { digests } from './helpers/legacy-client.ts'
import { shapeOf } from './helpers/booking-api.ts'
import { startStack } from './helpers/stack.ts'
import { claimsOf, dashboard, type Session } from './helpers/dashboard.ts'
import { verifyToken } from '../src/auth/tokens.ts'

// Staff and roles as the admin dashboard sees them (legacy-api.md §1.2, §2.5), pinned to the legacy shapes the legacy
// server answered (status, keys, JSON types), with its holes closed: the caller's own permissions decide, nobody
// grants what they do not hold, and a duplicate, an unknown role or an invalid permission is a 400, never a 500.

const { sql, app } = await startStack(t, { mode: 'in-process', env: withAdmin(undefined, { RATE_LIMIT_AUTH: '30000', RATE_LIMIT_DEFAULT: '30000' }) })
const api = dashboard(app)
const root = await api.adminLogin()

type Json = Record<string, unknown>
const ALL = ['staff.read', 'staff.create', 'staff.update', 'staff.delete', 'staff.invite', 'staff.activate',
  'appointments.read', 'appointments.create', 'appointments.update', 'appointments.delete']
const STAFF_ITEM = { avatar_url: 'null', created_at: 'string', department: 'string', email: 'string', id: 'number', name: 'string', phone: 'null', role: 'string', role_id: 'number', status: 'string' }
const TABLES = ['staff', 'staff_permissions', 'roles', 'role_permissions', 'refresh_tokens']

let next = 0
async function newStaff (body: Json = {}): Promise<{ id: number, email: string, password: string }> {
  const email = `staff${++next}@tabeby.test`
  const password = `staff-password-${next}`
  const res = await api.send('POST', '/staff', { email, password, name: `Staff ${next}`, ...body }, { token: root.accessToken })
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${res.text}`)
  return { id: res.json<{ id: number }>().id, email, password }
}

async function plainAdmin (): Promise<Session> {
  const email = `plain${++next}@tabeby.test`
  const res = await api.send('POST', '/auth/admin/create', { name: 'Plain', email, password: 'plain-password' }, { token: root.accessToken })
  if (res.status !== 201) throw new Error(`admin create answered ${res.status}`)
  return await api.adminLogin(email, 'plain-password')
}

t.test('/permissions and /roles: the ten permissions and the seven default roles, as legacy listed them', async (t) => {
  const permissions = await api.get('/permissions', { token: root.accessToken })
  t.equal(permissions.status, 200)
  t.same(permissions.json(), { items: ALL })
  const roles = await api.get('/backend/roles', { token: root.accessToken })
  t.equal(roles.status, 200)
  const list = roles.json<Array<Json>>()
  t.same(list.map((role) => [role['id'], role['key'], role['name']]), [
    [1, 'super-admin', 'Super Admin'], [2, 'admin', 'Administrator'], [3, 'staff', 'Staff'], [4, 'receptionist', 'Receptionist'],
    [5, 'nurse', 'Nurse'], [6, 'doctor', 'Doctor'], [7, 'manager', 'Manager']
  ])
  t.same(shapeOf(list[0]), { description: 'string', id: 'number', key: 'string', name: 'string', permissions: 'array' })
  t.same(list[0]?.['permissions'], ALL)
  t.same(list[4]?.['permissions'], ['staff.read', 'appointments.read'], 'nurse')
  t.same(list[6]?.['permissions'], ['staff.read', 'staff.create', 'staff.update', 'staff.activate'], 'manager')
  t.equal((await api.get('/roles')).status, 401, 'no token')
})

t.test('POST /staff: JSON, urlencoded and multipart bodies make the same StaffItem; the role by key, name or id', async (t) => {
  const json = await api.send('POST', '/staff', { email: 'Json.Member@Tabeby.Test', password: 'json-password', name: 'Json', role: 'nurse' }, { token: root.accessToken })
  t.equal(json.status, 201)
  const item = json.json<Json>()
  t.same(shapeOf({ ...item, department: 'x' }), STAFF_ITEM)
  t.same([item['email'], item['role'], item['role_id'], item['status'], item['department']], ['json.member@tabeby.test', 'nurse', 5, 'active', null])
  t.match(item['created_at'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

  const form = await api.send('POST', '/staff', undefined, { token: root.accessToken, form: { email: 'form@tabeby.test', password: 'form-password', systemRole: 'Receptionist', department: 'Cardio' } })
  t.equal(form.status, 201, form.text)
  t.same([form.json<Json>()['role'], form.json<Json>()['role_id'], form.json<Json>()['name'], form.json<Json>()['department']], ['receptionist', 4, 'form', 'Cardio'], 'name defaults to the mailbox')

  const multipart = await api.send('POST', '/staff', undefined, { token: root.accessToken, multipart: { email: 'multi@tabeby.test', password: 'multi-password', role_id: '6', name: 'متعدد' } })
  t.equal(multipart.status, 201, multipart.text)
  t.same([multipart.json<Json>()['role'], multipart.json<Json>()['name']], ['doctor', 'متعدد'])

  const plain = await api.send('POST', '/staff', { email: 'default@tabeby.test', password: 'default-password' }, { token: root.accessToken })
  t.same([plain.json<Json>()['role'], plain.json<Json>()['role_id']], ['staff', 3], 'the staff role by default')
})

t.test('POST /staff refuses a duplicate, an unknown role and a bad body with a 400 and a message, and writes nothing', async (t) => {
  await newStaff()
  const before = await digests(sql, TABLES)
  const email = `staff${next}@tabeby.test`
  const cases: Array<[string, unknown, string]> = [
    ['the same e-mail in another case', { email: email.toUpperCase(), password: 'long-enough' }, 'staff_email_taken'],
    ['an unknown role', { email: 'new1@tabeby.test', password: 'long-enough', role: 'janitor' }, 'role_unknown'],
    ['an unknown role id', { email: 'new2@tabeby.test', password: 'long-enough', role_id: 99 }, 'role_unknown'],
    ['no password', { email: 'new3@tabeby.test' }, 'staff_create_invalid'],
    ['a short password', { email: 'new4@tabeby.test', password: 'short' }, 'staff_create_invalid'],
    ['not an e-mail', { email: 'nobody', password: 'long-enough' }, 'staff_create_invalid'],
    ['a number for the e-mail', { email: 7, password: 'long-enough' }, 'staff_create_invalid']
  ]
  for (const [what, body, code] of cases) {
    const res = await api.send('POST', '/staff', body, { token: root.accessToken })
    t.equal(res.status, 400, what)
    t.equal(res.json<Json>()['code'], code, what)
    t.type(res.json<Json>()['detail'], 'string', what)
  }
  t.same(await digests(sql, TABLES), before, 'nothing was written')

  const race = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    api.send('POST', '/staff', { email: i % 2 === 0 ? 'racer@tabeby.test' : 'RACER@tabeby.test', password: 'racer-password' }, { token: root.accessToken })))
  t.same(race.map((r) => r.status).sort(), [201, 400, 400, 400, 400, 400, 400, 400], 'one creation wins, the others are told')
})

t.test('staff login, JSON or form: the same kind of tokens as an admin, told apart by type', async (t) => {
  const member = await newStaff({ role: 'manager' })
  const res = await api.send('POST', '/staff/login', { email: member.email.toUpperCase(), password: member.password })
  t.equal(res.status, 200)
  const { data } = res.json<{ data: Json & { user: Json, accessToken: string, refreshToken: string } }>()
  t.same(shapeOf(data), { accessToken: 'string', refreshToken: 'string', tokenType: 'string', user: 'object' })
  t.same(data.user, { id: member.id, name: `Staff ${next}`, email: member.email, role: 'manager' })
  const claims = claimsOf(data.accessToken)
  t.same([claims['type'], claims['sub']], ['staff', `staff:${member.id}`])
  t.equal((claims['exp'] as number) - (claims['iat'] as number), 15 * 60)
  t.match(claims['fam'], /^[0-9a-f-]{36}$/, 'the session family rides in the token')
  t.ok(verifyToken(JWT_SECRET, data.accessToken).ok)

  const form = await api.send('POST', '/backend/staff/login', undefined, { form: { email: member.email, password: member.password } })
  t.equal(form.status, 200, 'a form login, under the /backend mirror')

  const me = await api.get('/staff/me', { token: data.accessToken })
  t.same(shapeOf(me.json()), { ...STAFF_ITEM, department: 'null' })
  t.same([me.json<Json>()['role'], me.json<Json>()['role_id']], ['manager', 7], 'role is the key (legacy: a 500 for a member with a role id)')
  const users = await api.get('/users/me', { token: data.accessToken })
  t.same(users.json(), {
    id: member.id, name: `Staff ${next}`, email: member.email, is_active: true, is_superuser: false, two_factor_enabled: false,
    is_admin: false, is_staff: true, role: 'manager', permissions: ['staff.read', 'staff.create', 'staff.update', 'staff.activate']
  })
  t.same((await api.get('/auth/me', { token: data.accessToken })).json(), users.json(), '/auth/me answers the same effective set')

  const refreshed = await api.send('POST', '/auth/refresh', { refreshToken: data.refreshToken })
  t.equal(refreshed.status, 200, 'a staff refresh token rotates like an admin one')
  const pair = refreshed.json<{ data: { accessToken: string } }>().data
  t.same([claimsOf(pair.accessToken)['type'], claimsOf(pair.accessToken)['fam']], ['staff', claims['fam']], 'same family, staff type')

  t.equal((await api.get('/roles', { token: data.accessToken })).status, 401, 'a staff token on an admin route')
  t.equal((await api.get('/staff/me', { token: root.accessToken })).status, 401, 'an admin token on a staff route')
})

t.test('one 401 for an unknown e-mail, a wrong password, an inactive member and one without a password', async (t) => {
  const member = await newStaff()
  const off = await newStaff()
  await api.send('POST', `/staff/${off.id}/deactivate`, undefined, { token: root.accessToken })
  const passwordless = await api.send('POST', '/api/staff/create', { email: 'nopass@tabeby.test', name: 'No Pass', password: '' }, { secret: true })
  t.equal(passwordless.status, 200)
  const answers = await Promise.all([
    api.send('POST', '/staff/login', { email: 'nobody@tabeby.test', password: 'whatever-password' }),
    api.send('POST', '/staff/login', { email: member.email, password: 'not-the-password' }),
    api.send('POST', '/staff/login', { email: off.email, password: off.password }),
    api.send('POST', '/staff/login', { email: 'nopass@tabeby.test', password: 'anything-at-all' })
  ])
  for (const res of answers) {
    t.equal(res.status, 401)
    t.equal(res.text, answers[0]?.text, 'byte for byte the same')
  }
  t.same(answers[0]?.json(), { detail: 'بيانات الدخول غير صحيحة', code: 'staff_login_failed' })
  const missing = await api.send('POST', '/staff/login', { email: member.email })
  t.same([missing.status, missing.json<Json>()['detail']], [400, 'يجب إرسال البريد وكلمة المرور'])
})

t.test('permissions are the caller\'s own: a 403 before anything is read or written', async (t) => {
  const nurse = await newStaff({ role: 'nurse' })
  const nurseSession = await api.staffLogin(nurse.email, nurse.password)
  const target = await newStaff({ role: 'receptionist' })
  const before = await digests(sql, TABLES)
  const refused: Array<[string, string, unknown?]> = [
    ['POST', '/staff', { email: 'x@tabeby.test', password: 'long-enough' }],
    ['PATCH', `/staff/${target.id}`, { name: 'Changed' }]
  ]
  for (const [method, path, body] of refused) {
    const res = await api.send(method, path, body, { token: nurseSession.accessToken })
    t.equal(res.status, 403, `${method} ${path}`)
    t.equal(res.json<Json>()['detail'], 'صلاحية غير كافية')
  }
  t.equal((await api.get('/staff', { token: nurseSession.accessToken })).status, 200, 'a nurse may read (staff.read)')

  // Legacy decided delete, activate and set-password by the target's permissions; here only the caller's count.
  const admin = await plainAdmin()
  await api.send('PATCH', `/staff/${target.id}`, { permissions: ['staff.delete'] }, { token: root.accessToken })
  const before2 = await digests(sql, TABLES)
  const del = await api.send('DELETE', `/staff/${target.id}`, undefined, { token: admin.accessToken })
  t.equal(del.status, 403, 'a plain admin lacks staff.delete, whatever the target holds')
  t.same(del.json(), { detail: 'صلاحية غير كافية', code: 'permission_denied', permission: 'staff.delete' })
  t.same(await digests(sql, TABLES), before2, 'nothing changed')
  t.notSame(before, before2)

  t.equal((await api.send('PATCH', '/roles/2/permissions', { permissions: ['staff.read', 'staff.delete'] }, { token: admin.accessToken })).status, 403, 'only a super-admin edits roles')
  const grant = await api.send('PATCH', '/roles/2/permissions', { permissions: ['staff.read', 'staff.delete'] }, { token: root.accessToken })
  t.same([grant.status, grant.json()], [200, { message: 'ok' }])
  t.same((await api.get('/auth/me', { token: admin.accessToken })).json<{ permissions: string[] }>().permissions,
    ['staff.read', 'staff.create', 'staff.update', 'staff.delete', 'staff.invite', 'staff.activate'], "the admin role's row adds to its defaults, at once")
  const now = await api.send('DELETE', `/staff/${target.id}`, undefined, { token: admin.accessToken })
  t.same([now.status, now.json()], [200, { message: 'deleted' }])
  t.equal((await api.send('DELETE', `/staff/${target.id}`, undefined, { token: root.accessToken })).status, 404)
  await api.send('PATCH', '/roles/2/permissions', { permissions: ['staff.read', 'staff.create', 'staff.update', 'staff.invite', 'staff.activate'] }, { token: root.accessToken })
})

t.test('nobody grants what they do not hold: a manager cannot make anyone (itself included) a super-admin', async (t) => {
  const manager = await newStaff({ role: 'manager' })
  const session = await api.staffLogin(manager.email, manager.password)
  const before = await digests(sql, TABLES)
  for (const body of [{ role: 'super-admin' }, { permissions: ['staff.delete'] }, { permissions: 'staff.read,appointments.delete' }]) {
    const res = await api.send('PATCH', `/staff/${manager.id}`, body, { token: session.accessToken })
    t.equal(res.status, 403, JSON.stringify(body))
  }
  t.equal((await api.send('POST', '/staff', { email: 'boss@tabeby.test', password: 'long-enough', role: 'admin' }, { token: session.accessToken })).status, 403,
    'nor create a member whose role holds more (staff.invite)')
  t.same(await digests(sql, TABLES), before)
  const ok = await api.send('PATCH', `/staff/${manager.id}`, { permissions: 'staff.read, staff.activate' }, { token: session.accessToken })
  t.equal(ok.status, 200, 'what it holds, it may grant')
  const [row] = await sql<Array<{ list: string[] }>>`SELECT array_agg(permission::text ORDER BY permission) AS list FROM staff_permissions WHERE staff_id = ${manager.id}`
  t.same(row?.list, ['staff.activate', 'staff.read'], 'a CSV string is split, as legacy did')
})

t.test('PATCH /staff/{id}: fields, role, permissions, and the 400s legacy turned into 500s', async (t) => {
  const member = await newStaff()
  const other = await newStaff()
  const patch = (body: unknown, options = {}) => api.send('PATCH', `/staff/${member.id}`, body, { token: root.accessToken, ...options })
  const res = await patch({ name: 'Renamed', phone: '0770', department: 'Neuro', status: 'on_leave', avatar_url: 'https://x.test/a.png', role: 'Doctor', permissions: ['appointments.delete'] })
  t.equal(res.status, 200)
  t.same(res.json<Json>(), { ...res.json<Json>(), name: 'Renamed', phone: '0770', department: 'Neuro', status: 'on_leave', avatar_url: 'https://x.test/a.png', role: 'doctor', role_id: 6 })
  const form = await patch(undefined, { form: { role_id: '5', name: 'Form Name' } })
  t.same([form.status, form.json<Json>()['role'], form.json<Json>()['name']], [200, 'nurse', 'Form Name'])
  const before = await digests(sql, TABLES)
  const cases: Array<[unknown, number, string]> = [
    [{ email: other.email.toUpperCase() }, 400, 'staff_email_taken'],
    [{ role: 'janitor' }, 400, 'role_unknown'],
    [{ permissions: ['staff.fly'] }, 400, 'permission_invalid'],
    [{ status: 'retired' }, 400, 'staff_update_invalid'],
    [{ email: 'not-an-email' }, 400, 'staff_update_invalid'],
    [{ role_id: 'abc' }, 400, 'staff_update_invalid']
  ]
  for (const [body, status, code] of cases) {
    const bad = await patch(body)
    t.same([bad.status, bad.json<Json>()['code']], [status, code], JSON.stringify(body))
  }
  t.same(await digests(sql, TABLES), before, 'nothing was changed by any of them')
  t.equal((await api.send('PATCH', '/staff/999999', { name: 'x' }, { token: root.accessToken })).status, 404)
  t.equal((await api.send('PATCH', '/staff/abc', { name: 'x' }, { token: root.accessToken })).status, 422)
})

t.test('deactivating a member ends its sessions at once; set-password replaces the password and ends them too', async (t) => {
  const member = await newStaff()
  const session = await api.staffLogin(member.email, member.password)
  t.equal((await api.get('/staff/me', { token: session.accessToken })).status, 200)
  const off = await api.send('POST', `/backend/staff/${member.id}/deactivate`, undefined, { token: root.accessToken })
  t.same([off.status, off.json()], [200, { message: 'ok' }])
  t.equal((await api.get('/staff/me', { token: session.accessToken })).status, 401, 'the access token stops now')
  t.equal((await api.send('POST', '/auth/refresh', { refreshToken: session.refreshToken })).status, 401, 'and the refresh token')
  t.equal((await api.send('POST', `/staff/${member.id}/activate`, undefined, { token: root.accessToken })).status, 200)
  t.equal((await api.send('POST', '/auth/refresh', { refreshToken: session.refreshToken })).status, 401, 're-activating brings no session back')

  const again = await api.staffLogin(member.email, member.password)
  const set = await api.send('POST', `/staff/${member.id}/set-password`, undefined, { token: root.accessToken, form: { password: 'brand-new-password' } })
  t.same([set.status, set.json()], [200, { message: 'ok' }])
  t.equal((await api.get('/staff/me', { token: again.accessToken })).status, 401, 'its sessions ended')
  t.equal((await api.send('POST', '/staff/login', { email: member.email, password: member.password })).status, 401, 'the old password is gone')
  await api.staffLogin(member.email, 'brand-new-password')
  const missing = await api.send('POST', `/staff/${member.id}/set-password`, {}, { token: root.accessToken })
  t.same([missing.status, missing.json<Json>()['detail']], [400, 'password مطلوب'])
  t.equal((await api.send('POST', '/staff/999999/set-password', { password: 'long-enough' }, { token: root.accessToken })).status, 404)
})

t.test('a member changes its own password: the other sessions end, this one goes on', async (t) => {
  const member = await newStaff()
  const a = await api.staffLogin(member.email, member.password)
  const b = await api.staffLogin(member.email, member.password)
  const wrong = await api.send('POST', '/staff/password', { current_password: 'nope', new_password: 'another-password' }, { token: a.accessToken })
  t.same([wrong.status, wrong.json<Json>()['code']], [400, 'wrong_password'])
  t.equal((await api.send('POST', '/staff/me/change-password', { current_password: member.password, new_password: 'short' }, { token: a.accessToken })).status, 422)
  const ok = await api.send('POST', '/staff/me/change-password', { current_password: member.password, new_password: 'another-password' }, { token: a.accessToken })
  t.same([ok.status, ok.json()], [200, { message: 'password changed' }])
  t.equal((await api.get('/staff/me', { token: a.accessToken })).status, 200, 'the session that changed it goes on')
  t.equal((await api.get('/staff/me', { token: b.accessToken })).status, 401, 'the other one ends')
  const viaAuth = await api.send('POST', '/auth/change-password', { current_password: 'another-password', new_password: 'third-password' }, { token: a.accessToken })
  t.equal(viaAuth.status, 200, '/auth/change-password takes a staff token too')
  await api.staffLogin(member.email, 'third-password')
})

t.test('the app-secret routes /api/staff/*: their own shapes, a 409 for a duplicate, 404s, and the secret', async (t) => {
  const create = await api.send('POST', '/api/staff/create', { email: 'App@Tabeby.Test', name: 'App Member', password: 'app-password', role_key: 'nurse', department: 'ER', phone: '0771' }, { secret: true })
  t.equal(create.status, 200)
  const created = create.json<Json>()
  t.same(created, { success: true, id: created['id'], name: 'App Member', email: 'app@tabeby.test', message: 'تم إنشاء الموظف بنجاح' })
  const duplicate = await api.send('POST', '/backend/api/staff/create', { email: 'app@tabeby.test', name: 'Again' }, { secret: true })
  t.same([duplicate.status, duplicate.json<Json>()['detail']], [409, 'الإيميل مستخدم مسبقاً'])
  t.equal((await api.send('POST', '/api/staff/create', { email: 'x@tabeby.test' }, { secret: true })).status, 400, 'no name')
  t.equal((await api.send('POST', '/api/staff/create', { email: 'y@tabeby.test', name: 'Y', role_key: 'janitor' }, { secret: true })).status, 400, 'an unknown role')
  t.equal((await api.send('POST', '/api/staff/create', { email: 'z@tabeby.test', name: 'Z' })).status, 403, 'no secret')

  const all = await api.get('/api/staff/all', { secret: true })
  t.equal(all.status, 200)
  const row = all.json<Json[]>().find((item) => item['id'] === created['id'])
  t.same(shapeOf(row), { avatar_url: 'null', created_at: 'string', department: 'string', email: 'string', id: 'number', name: 'string', phone: 'string', role_key: 'string', status: 'string' })

  const status = await api.send('POST', '/api/staff/status', { staff_id: String(created['id']), is_active: false }, { secret: true })
  t.same(status.json(), { staff_id: created['id'], is_active: false, status: 'inactive', message: 'تم تحديث حالة الموظف بنجاح' })
  for (const [body, code] of [[{}, 'staff_id_missing'], [{ staff_id: created['id'] }, 'staff_is_active_missing'], [{ staff_id: created['id'], is_active: 'false' }, 'staff_app_update_invalid']] as const) {
    const bad = await api.send('POST', '/api/staff/status', body, { secret: true })
    t.same([bad.status, bad.json<Json>()['code']], [400, code], JSON.stringify(body))
  }
  t.equal((await api.send('POST', '/api/staff/status', { staff_id: 999999, is_active: true }, { secret: true })).status, 404)

  const patch = await api.send('PATCH', `/api/staff/${String(created['id'])}`, { name: 'Patched', phone: null }, { secret: true })
  t.equal(patch.status, 200)
  t.same([patch.json<Json>()['name'], patch.json<Json>()['phone'], patch.json<Json>()['message']], ['Patched', null, 'تم تحديث معلومات الموظف بنجاح'])
  t.equal((await api.send('PATCH', `/api/staff/${String(created['id'])}`, { email: 'json.member@tabeby.test' }, { secret: true })).status, 409, 'a duplicate e-mail (legacy: 500)')
  t.equal((await api.send('PATCH', '/api/staff/999999', { name: 'x' }, { secret: true })).status, 404)
})

t.test('/staff/count is public and counts live; it is not mirrored', async (t) => {
  const [counts] = await sql<Array<{ all: number, active: number }>>`SELECT count(*)::int AS all, count(*) FILTER (WHERE status = 'active')::int AS active FROM staff`
  const all = await api.get('/staff/count')
  t.same([all.status, all.json()], [200, { count: counts?.all }])
  t.same((await api.get('/staff/count?active_only=true')).json(), { count: counts?.active })
  t.equal((await api.get('/staff/count?active_only=maybe')).status, 422)
  t.equal((await api.get('/backend/staff/count')).status, 401, 'under /backend it is /staff/{id}, as in legacy')
})

t.test('lists: newest first, search on name and e-mail (wildcards taken literally), paging bounds', async (t) => {
  await newStaff({ name: 'Zainab 100%' })
  const res = await api.get('/staff?search=100%25&limit=5', { token: root.accessToken })
  t.equal(res.status, 200)
  const body = res.json<{ items: Json[], total: number }>()
  t.same([body.total, body.items[0]?.['name']], [1, 'Zainab 100%'])
  const page = await api.get('/staff?page=2&limit=1', { token: root.accessToken })
  t.equal(page.json<{ items: Json[] }>().items.length, 1)
  for (const query of ['limit=101', 'page=0', 'limit=abc']) t.equal((await api.get(`/staff?${query}`, { token: root.accessToken })).status, 422, query)
  const [newest] = await sql<Array<{ id: number }>>`SELECT id FROM staff ORDER BY created_at DESC, id DESC LIMIT 1`
  t.equal((await api.get('/staff?limit=1', { token: root.accessToken })).json<{ items: Json[] }>().items[0]?.['id'], newest?.id)
  t.equal((await api.get(`/staff/${String(newest?.id)}`, { token: root.accessToken })).status, 200)
  t.equal((await api.get('/staff/999999', { token: root.accessToken })).status, 404)
})
