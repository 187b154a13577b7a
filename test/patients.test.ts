import t from 'tap'
import { digests, sendAll } from './helpers/legacy-client.ts'
import { startStack } from './helpers/stack.ts'

// The auth tier's limit is far below the bursts below; the limiter is not what this file is about.
const { sql, api } = await startStack(t, { mode: 'in-process', env: { RATE_LIMIT_AUTH: '30000', RATE_LIMIT_DEFAULT: '30000' } })

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

interface Registered { message: string, user_server_id: number, user_role: string }
interface Profile {
  id: number, user_server_id: string, patient_name: string, phone_number: string, gender: string | null,
  date_of_birth: string | null, is_active: boolean, created_at: string, updated_at: string
}

async function accountCount (phone: string): Promise<number> {
  const [row] = await sql<Array<{ n: string }>>`SELECT count(*) AS n FROM accounts WHERE phone_number = ${phone}`
  return Number(row?.n)
}

async function registerPatient (phone: string): Promise<string> {
  const res = await api.post('/api/patient/register', { user_uid: `uid-${phone}`, user_role: 'patient', phone_number: phone })
  if (res.status !== 200) throw new Error(`register answered ${res.status}: ${res.text}`)
  return res.json<{ user_server_id: string }>().user_server_id
}

async function saveProfile (userServerId: string, name: string, phone: string): Promise<Profile> {
  const res = await api.post('/api/patient/profile', { user_server_id: userServerId, patient_name: name, phone_number: phone, gender: 'أنثى', date_of_birth: '01/02/1990' })
  if (res.status !== 200) throw new Error(`profile answered ${res.status}: ${res.text}`)
  return res.json<Profile>()
}

t.test('an app registers a phone without the secret, and registering it again answers the same account', async (t) => {
  const first = await api.post('/auth/register', { user_uid: 'firebase-1', user_role: 'doctor', phone_number: '+9647701000001' }, { secret: null })
  t.equal(first.status, 200)
  const created = first.json<Registered>()
  t.equal(created.message, 'database created successfuly', 'the legacy spelling')
  t.type(created.user_server_id, 'number', 'user_server_id is the bare account id here')
  t.equal(created.user_role, 'doctor')

  const again = await api.post('/auth/register', { user_uid: 'other', user_role: 'patient', phone_number: '+9647701000001' }, { secret: null })
  t.same(again.json(), { message: 'ok', user_server_id: created.user_server_id, user_role: 'doctor' }, 'the existing role, not the one sent')
})

t.test('a phone typed with Arabic digits or without + is stored in E.164', async (t) => {
  const arabic = await api.post('/auth/register', { user_role: 'patient', phone_number: '+٩٦٤٧٧٠١٠٠٠٠٠٢' })
  t.equal(arabic.status, 200)
  const check = await api.get('/auth/check-phone?phone=%2B9647701000002')
  t.equal(check.json().exists, true)
  t.equal(check.json().phone_number, '+9647701000002')
  const bare = await api.post('/auth/register', { user_role: 'patient', phone_number: '9647701000002' })
  // A patient account's registration also answers an actor token (additive, test/actors.test.ts).
  const { access_token: accessToken, token_type: tokenType, ...legacyFields } = bare.json()
  t.same(legacyFields, { message: 'ok', user_server_id: arabic.json<Registered>().user_server_id, user_role: 'patient' }, 'the same account')
  t.type(accessToken, 'string')
  t.equal(tokenType, 'bearer')
})

t.test('/auth/register refuses a bad role or phone with the legacy error shape', async (t) => {
  const cases: Array<[unknown, string]> = [
    [{ user_role: 'admin', phone_number: '+9647701000003' }, 'user_role must be patient|secretary|doctor'],
    [{ phone_number: '+9647701000003' }, 'user_role must be patient|secretary|doctor'],
    [{ user_role: 'patient', phone_number: '07701000003' }, 'phone_number must be E.164'],
    [{ user_role: 'patient' }, 'phone_number must be E.164']
  ]
  for (const [body, message] of cases) {
    const res = await api.post('/auth/register', body)
    t.equal(res.status, 400, JSON.stringify(body))
    t.same(res.json(), { error: { code: 'bad_request', message } })
  }
  t.equal(await accountCount('+9647701000003'), 0, 'nothing stored')
})

t.test('twenty identical registrations at the same moment make exactly one account', async (t) => {
  const phone = '+9647701000020'
  const answers = await Promise.all(Array.from({ length: 20 }, () =>
    api.post('/auth/register', { user_uid: 'same-phone', user_role: 'patient', phone_number: phone })))
  t.ok(answers.every((res) => res.status === 200), `all answered 200 (${answers.map((res) => res.status).join(',')})`)
  const bodies = answers.map((res) => res.json<Registered>())
  t.equal(new Set(bodies.map((b) => b.user_server_id)).size, 1, 'every caller got the same user_server_id')
  t.equal(bodies.filter((b) => b.message === 'database created successfuly').length, 1, 'one of them created it')
  t.equal(await accountCount(phone), 1, 'one row in the database')

  const patientPhone = '+9647701000021'
  const patientAnswers = await Promise.all(Array.from({ length: 20 }, () =>
    api.post('/api/patient/register', { user_uid: 'same', user_role: 'patient', phone_number: patientPhone })))
  t.ok(patientAnswers.every((res) => res.status === 200))
  t.equal(new Set(patientAnswers.map((res) => res.json().user_server_id)).size, 1)
  t.equal(await accountCount(patientPhone), 1, '/api/patient/register is race-safe too')
})

t.test('check-phone tells whether a phone is registered, and as what', async (t) => {
  const reg = await api.post('/auth/register', { user_uid: 'sec-uid', user_role: 'secretary', phone_number: '+9647701000030' })
  const id = reg.json<Registered>().user_server_id
  const expected = {
    exists: true, phone_number: '+9647701000030', user_role: 'secretary', user_server_id: id, user_uid: 'sec-uid',
    message: 'رقم الهاتف موجود مسبقاً كـ secretary'
  }
  t.same((await api.get('/auth/check-phone?phone=%2B9647701000030')).json(), expected)
  t.same((await api.get('/auth/check-phone?phone=+9647701000030')).json(), expected, 'an unencoded + (a space once decoded) still works')
  t.same((await api.get('/auth/check-phone?phone=9647701000030')).json(), expected, 'digits without +')
  t.same((await api.get('/auth/check-phone?phone=%2B9647709999999')).json(),
    { exists: false, phone_number: '+9647709999999', message: 'رقم الهاتف غير مسجل في النظام' })

  const missing = await api.get('/auth/check-phone')
  t.equal(missing.status, 400)
  t.same(missing.json(), { error: { code: 'bad_request', message: 'phone parameter is required' } })
  const bad = await api.get('/auth/check-phone?phone=0770')
  t.equal(bad.status, 400)
  t.equal(bad.json<{ error: { code: string } }>().error.code, 'invalid_format')
})

t.test('a patient registers, saves a profile and reads it back by P-<id> or <id>', async (t) => {
  const reg = await api.post('/api/patient/register', { user_uid: 'p-uid', user_role: 'patient', phone_number: '+9647702000001' })
  t.equal(reg.status, 200)
  const body = reg.json<{ message: string, user_server_id: string, user_role: string }>()
  t.match(body, { message: 'ok', user_role: 'patient' })
  t.match(body.user_server_id, /^P-\d+$/)

  const created = await saveProfile(body.user_server_id, 'فاطمة علي', '+9647702000001')
  t.match(created, {
    user_server_id: body.user_server_id, patient_name: 'فاطمة علي', phone_number: '+9647702000001',
    gender: 'أنثى', date_of_birth: '01/02/1990', is_active: true
  })
  t.type(created.id, 'number')
  t.match(created.created_at, ISO_Z, 'timestamps are UTC ISO-8601 with Z')
  t.same(Object.keys(created).sort(),
    ['created_at', 'date_of_birth', 'gender', 'id', 'is_active', 'patient_name', 'phone_number', 'updated_at', 'user_server_id'])

  const updated = await api.post('/api/patient/profile', { user_server_id: body.user_server_id, patient_name: 'فاطمة حسن', phone_number: '+9647702000009' })
  t.equal(updated.status, 200)
  const after = updated.json<Profile>()
  t.equal(after.id, created.id, 'the same profile is updated, not a second one')
  t.equal(after.patient_name, 'فاطمة حسن')
  t.equal(after.gender, null, 'an omitted optional field is cleared, as legacy did')
  t.ok(after.updated_at >= created.updated_at)

  const numeric = body.user_server_id.slice(2)
  for (const ref of [body.user_server_id, numeric]) {
    const read = await api.get(`/api/patient/profile/${ref}`)
    t.equal(read.status, 200, ref)
    t.same(read.json(), after)
  }
})

t.test('patient registration keeps the legacy answers for other roles and existing phones', async (t) => {
  const doctor = await api.post('/auth/register', { user_role: 'doctor', phone_number: '+9647702000100' })
  const existing = await api.post('/api/patient/register', { user_uid: 'x', user_role: 'Patient', phone_number: '+9647702000100' })
  t.same(existing.json(), { message: 'ok', user_server_id: `P-${doctor.json<Registered>().user_server_id}`, user_role: 'Patient' },
    'an existing phone answers its account with the role as sent')

  const notPatient = await api.post('/api/patient/register', { user_uid: 'x', user_role: 'doctor', phone_number: '+9647702000101' })
  t.equal(notPatient.status, 400)
  t.match(notPatient.json(), { detail: "user_role must be 'patient'" })
  const badPhone = await api.post('/api/patient/register', { user_uid: 'x', user_role: 'patient', phone_number: '0770 200 0101' })
  t.equal(badPhone.status, 400, 'unlike legacy, the phone must be E.164 here too')
  t.match(badPhone.json(), { detail: 'phone_number must be E.164' })
  const missing = await api.post('/api/patient/register', { user_role: 'patient', phone_number: '+9647702000101' })
  t.equal(missing.status, 422, 'a missing field is a validation error')
  t.ok(Array.isArray(missing.json().detail))
})

t.test('profile errors name what is wrong', async (t) => {
  const profileless = await registerPatient('+9647702000200')
  const cases: Array<[string, unknown, number, string]> = [
    ['POST', { user_server_id: '5', patient_name: 'a', phone_number: 'b' }, 400, 'user_server_id must be like P-<id>'],
    ['POST', { user_server_id: 'P-x', patient_name: 'a', phone_number: 'b' }, 400, 'invalid user_server_id format'],
    ['POST', { user_server_id: 'P-999999', patient_name: 'a', phone_number: 'b' }, 404, 'user_account not found'],
    ['POST', { user_server_id: 'P-99999999999', patient_name: 'a', phone_number: 'b' }, 404, 'user_account not found']
  ]
  for (const [, body, status, message] of cases) {
    const res = await api.post('/api/patient/profile', body)
    t.equal(res.status, status, JSON.stringify(body))
    t.match(res.json(), { detail: message })
  }
  const reads: Array<[string, number, string]> = [
    ['/api/patient/profile/abc', 400, 'invalid user_server_id format; expected P-<id> or <id>'],
    ['/api/patient/profile/P-999999', 404, 'user_account not found'],
    [`/api/patient/profile/${profileless}`, 404, 'patient_profile not found']
  ]
  for (const [path, status, message] of reads) {
    const res = await api.get(path)
    t.equal(res.status, status, path)
    t.match(res.json(), { detail: message })
  }
})

t.test('the dashboard lists every patient and counts them by status', async (t) => {
  const a = await saveProfile(await registerPatient('+9647703000001'), 'أحمد', '+9647703000001')
  const b = await saveProfile(await registerPatient('+9647703000002'), 'بشرى', '+9647703000002')

  const off = await api.post('/api/patient/status', { patient_id: b.user_server_id, is_active: false })
  t.equal(off.status, 200)
  t.same(off.json(), { patient_id: b.user_server_id, is_active: false })
  const plain = b.user_server_id.slice(2)
  t.same((await api.get(`/api/patient/${plain}/status`)).json(), { patient_id: b.user_server_id, is_active: false }, 'read by <id>')

  const all = await api.get('/api/patients/all')
  t.equal(all.status, 200)
  const list = all.json<Profile[]>()
  t.ok(Array.isArray(list))
  t.same(list.find((p) => p.id === a.id), a)
  t.equal(list.find((p) => p.id === b.id)?.is_active, false)
  t.same(list.map((p) => p.id), [...list.map((p) => p.id)].sort((x, y) => x - y), 'in profile order')

  const stats = (await api.get('/api/patients/stats/count')).json<{
    total: number, active: number, inactive: number,
    active_list: Array<{ id: number, name: string, phone: string, created_at: string }>, inactive_list: Array<{ id: number }>
  }>()
  t.equal(stats.total, list.length)
  t.equal(stats.active + stats.inactive, stats.total)
  t.same(stats.inactive_list.map((p) => p.id), list.filter((p) => !p.is_active).map((p) => p.id))
  t.same(stats.active_list.find((p) => p.id === a.id), { id: a.id, name: 'أحمد', phone: '+9647703000001', created_at: a.created_at })

  t.same((await api.post('/api/patient/status', { patient_id: b.user_server_id, is_active: 'true' })).json(),
    { patient_id: b.user_server_id, is_active: true }, 'the string "true" is accepted, as pydantic did')
})

t.test('patient status answers 404 naming the missing account or profile', async (t) => {
  const profileless = await registerPatient('+9647703000100')
  const cases: Array<[unknown, number, string]> = [
    [{ patient_id: 'P-999999', is_active: false }, 404, 'user_account not found'],
    [{ patient_id: profileless, is_active: false }, 404, 'patient_profile not found'],
    [{ patient_id: 'X-1', is_active: false }, 400, 'invalid patient_id format; expected P-<id> or <id>']
  ]
  for (const [body, status, message] of cases) {
    const res = await api.post('/api/patient/status', body)
    t.equal(res.status, status, JSON.stringify(body))
    t.match(res.json(), { detail: message })
  }
  t.match((await api.get('/api/patient/P-999999/status')).json(), { detail: 'user_account not found' })
  t.match((await api.get(`/api/patient/${profileless}/status`)).json(), { detail: 'patient_profile not found' })
})

t.test('deleting a patient removes the account and its profile, and refuses other roles', async (t) => {
  const ref = await registerPatient('+9647704000001')
  await saveProfile(ref, 'سعاد', '+9647704000001')
  const doctor = (await api.post('/auth/register', { user_role: 'doctor', phone_number: '+9647704000002' })).json<Registered>()

  const refused = await api.send('DELETE', `/api/patient/${doctor.user_server_id}`)
  t.equal(refused.status, 400)
  t.match(refused.json(), { detail: 'user is not a patient, role is: doctor' })

  const gone = await api.send('DELETE', `/api/patient/${ref}`)
  t.equal(gone.status, 200)
  t.same(gone.json(), { message: 'تم حذف المريض نهائياً', deleted_patient_id: ref })
  t.equal(await accountCount('+9647704000001'), 0, 'the account is gone')
  t.equal((await api.get(`/api/patient/profile/${ref}`)).status, 404, 'and its profile with it')
  const again = await api.send('DELETE', `/api/patient/${ref}`)
  t.equal(again.status, 404)
  t.match(again.json(), { detail: 'patient not found' })
  t.match((await api.send('DELETE', '/api/patient/P-abc')).json(), { detail: 'invalid patient_id format; expected P-<id> or <id>' })
})

t.test('every patient route but /auth/register refuses a request without the app secret', async (t) => {
  const ref = await registerPatient('+9647705000001')
  await saveProfile(ref, 'نور', '+9647705000001')
  const before = await digests(sql, ['accounts', 'patient_profiles'])
  const calls: Array<[string, string, unknown]> = [
    ['GET', '/auth/check-phone?phone=%2B9647705000001', undefined],
    ['POST', '/api/patient/register', { user_uid: 'u', user_role: 'patient', phone_number: '+9647705000002' }],
    ['POST', '/api/patient/profile', { user_server_id: ref, patient_name: 'x', phone_number: 'y' }],
    ['GET', `/api/patient/profile/${ref}`, undefined],
    ['GET', '/api/patients/all', undefined],
    ['GET', '/api/patients/stats/count', undefined],
    ['DELETE', `/api/patient/${ref}`, undefined],
    ['POST', '/api/patient/status', { patient_id: ref, is_active: false }],
    ['GET', `/api/patient/${ref}/status`, undefined]
  ]
  for (const [method, path, body] of calls) {
    const res = await api.send(method, path, body, { secret: null })
    t.equal(res.status, 403, `${method} ${path}`)
    t.match(res.json(), { detail: 'forbidden' })
    t.equal((await api.send(method, path, body, { secret: 'not-the-secret' })).status, 403, `${method} ${path} with a wrong secret`)
  }
  t.same(await digests(sql, ['accounts', 'patient_profiles']), before, 'nothing changed')
})

t.test('the legacy /backend mirror serves the register and patient routes, not account status', async (t) => {
  const reg = await api.post('/backend/auth/register', { user_role: 'patient', phone_number: '+9647706000001' })
  t.equal(reg.status, 200)
  t.equal((await api.get('/backend/auth/check-phone?phone=%2B9647706000001')).json().exists, true)
  const ref = (await api.post('/backend/api/patient/register', { user_uid: 'm', user_role: 'patient', phone_number: '+9647706000001' })).json<{ user_server_id: string }>().user_server_id
  t.equal((await api.post('/backend/api/patient/profile', { user_server_id: ref, patient_name: 'مرآة', phone_number: '+9647706000001' })).status, 200)
  t.equal((await api.get(`/backend/api/patient/profile/${ref}`)).json().patient_name, 'مرآة')
  t.equal((await api.get('/backend/api/patients/all')).status, 200)
  t.equal((await api.get('/backend/api/patients/stats/count')).status, 200)
  // The path reads as /backend/api/patient/:id, which takes DELETE only: a 405, and nothing runs.
  t.equal((await api.post('/backend/api/patient/status', { patient_id: ref, is_active: false })).status, 405, 'account_status was never mirrored')
  t.equal((await api.get(`/backend/api/patient/${ref}/status`)).status, 404)
  t.equal((await api.send('DELETE', `/backend/api/patient/${ref}`)).status, 200)
})

t.test('a burst of malformed account and patient requests is answered 4xx and changes nothing', async (t) => {
  const ref = await registerPatient('+9647707000001')
  await saveProfile(ref, 'ثابت', '+9647707000001')
  const doctor = (await api.post('/auth/register', { user_role: 'doctor', phone_number: '+9647707000002' })).json<Registered>()
  const before = await digests(sql, ['accounts', 'patient_profiles'])
  const common = ['{not json', '[]', '"x"', '7', '{"a":', '{"a":' + '['.repeat(100) + ']'.repeat(100) + '}']
  const bodies: Record<string, unknown[]> = {
    '/auth/register': [...common, {}, { user_role: 'patient' }, { user_role: 'nurse', phone_number: '+9647707000100' },
      { user_role: 'patient', phone_number: '+0' }, { user_role: 'patient', phone_number: 9647707000100 }, { user_role: 'patient', phone_number: '+96477070001001234567' },
      { user_role: 5, phone_number: '+9647707000100' }, { user_role: 'patient', phone_number: '+9647707000100', user_uid: 7 },
      { user_role: 'patient', phone_number: 'x'.repeat(5000) }, { user_role: 'patient', phone_number: '٠٧٧٠٧٠٧٠٠٠١٠٠' }],
    '/api/patient/register': [...common, {}, { user_uid: 'u', user_role: 'patient' }, { user_uid: 'u', user_role: 'doctor', phone_number: '+9647707000100' },
      { user_uid: 'u', user_role: 'patient', phone_number: 'abc' }, { user_uid: 1, user_role: 'patient', phone_number: '+9647707000100' },
      { user_uid: 'u', user_role: null, phone_number: '+9647707000100' }, { user_uid: 'u', user_role: 'patient', phone_number: 1e30 }],
    '/api/patient/profile': [...common, {}, { user_server_id: ref }, { user_server_id: ref, patient_name: '', phone_number: 'x' },
      { user_server_id: ref, patient_name: '   ', phone_number: 'x' }, { user_server_id: 7, patient_name: 'a', phone_number: 'x' },
      { user_server_id: 'P-', patient_name: 'a', phone_number: 'x' }, { user_server_id: 'P-1e30', patient_name: 'a', phone_number: 'x' },
      { user_server_id: 'P-999999999999999999999', patient_name: 'a', phone_number: 'x' }, { user_server_id: 'P--1', patient_name: 'a', phone_number: 'x' },
      { user_server_id: ref, patient_name: 'a'.repeat(500), phone_number: 'x' }, { user_server_id: ref, patient_name: 'a', phone_number: 'x', gender: 5 },
      { user_server_id: ref, patient_name: ['a'], phone_number: 'x' }],
    '/api/patient/status': [...common, {}, { patient_id: ref }, { patient_id: ref, is_active: 'maybe' }, { patient_id: ref, is_active: null },
      { patient_id: 5, is_active: false }, { patient_id: 'P-x', is_active: false }, { patient_id: 'P-999999999', is_active: false },
      { patient_id: 'P-99999999999999999999', is_active: false }, { patient_id: '', is_active: false }]
  }
  const requests: Array<[string, string, unknown]> = []
  while (requests.length < 120) {
    for (const [path, list] of Object.entries(bodies)) for (const body of list) requests.push(['POST', path, body])
    for (const id of ['abc', 'P-', '%E0%A4%A', '%', 'P-99999999999999999999', '-1', '1.5', `P-${doctor.user_server_id}`]) {
      requests.push(['DELETE', `/api/patient/${id}`, undefined])
      requests.push(['GET', `/api/patient/profile/${id}`, undefined])
      requests.push(['GET', `/api/patient/${id}/status`, undefined])
    }
    for (const q of ['', '?phone=', '?phone=%20', '?phone=abc', '?phone=%2B0', '?phone=' + '9'.repeat(40), '?phone=%E0%A4%A']) {
      requests.push(['GET', `/auth/check-phone${q}`, undefined])
    }
  }
  const answers = await sendAll(api, requests)
  t.ok(answers.length >= 100, `${answers.length} malformed requests`)
  const wrong = answers.filter(({ res }) => res.status < 400 || res.status >= 500)
  t.same(wrong.map(({ what, res }) => `${what} → ${res.status} ${res.text.slice(0, 100)}`), [], 'every one answered 4xx')
  t.same(await digests(sql, ['accounts', 'patient_profiles']), before, 'no account or profile changed')
})

t.test('the legacy /patients list: add a name and a unique e-mail, list them; the app secret is needed', async (t) => {
  const first = await api.post('/patients', { name: 'Amal', email: 'amal@example.com' })
  t.equal(first.status, 200)
  const created = first.json<{ id: number, name: string, email: string }>()
  t.same(Object.keys(created), ['id', 'name', 'email'])
  t.match(created, { name: 'Amal', email: 'amal@example.com' })
  const twice = await api.post('/patients', { name: 'Other', email: 'amal@example.com' })
  t.same([twice.status, twice.json()], [400, { detail: 'Email already exists', code: 'patient_email_exists' }])
  const invalid = await api.post('/patients', { name: 'X', email: 'not-an-email' })
  t.equal(invalid.status, 422, "pydantic's EmailStr: FastAPI's 422")
  t.same((await api.get('/patients')).json(), [created])
  t.equal((await api.get('/patients', { secret: null })).status, 403, 'legacy: open to anyone; names and e-mails need the secret')
  t.equal((await api.post('/patients', { name: 'Y', email: 'y@example.com' }, { secret: null })).status, 403)
})
