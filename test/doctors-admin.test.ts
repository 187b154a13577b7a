import t from 'tap'
import type { Response } from './helpers/client.ts'
import { SECRET, digests } from './helpers/legacy-client.ts'
import { bearer, login, withAdmin } from './helpers/admin.ts'
import { startStack } from './helpers/stack.ts'

// The dashboard's doctor writes (legacy-api.md §2.7), the account status of §2.10, and what bad input does to them.

const { sql, api } = await startStack(t, { mode: 'in-process', env: withAdmin() })
const { accessToken } = await login(api)

// The dashboard signs in and sends its token (and, like every app, the secret): the doctor writes need the token.
async function dashboard (method: string, path: string, body?: unknown): Promise<Response> {
  return await api.send(method, path, body, { token: accessToken })
}

type Json = Record<string, unknown>

const TABLES = ['clinics', 'accounts'] as const

await sql`INSERT INTO clinics (id, name, email, phone, specialty, clinic_state, experience_years, profile) VALUES
  (7, 'د. عمر', 'omar@x.iq', '07701234569', 'طب أطفال', 'كركوك', 5, ${sql.json({
    general_info: { clinic_id: 7, doctor_name: 'د. عمر', email_address: 'omar@x.iq', experience_years: '٥', clinic_states: 'كركوك', receiving_patients: '٢٠' },
    specializations: ['طب أطفال'],
    clinic_location: { latitude: '30.05', longitude: '30.96', place_name: 'كركوك' }
  })})`

async function profileOf (id: number): Promise<Json> {
  const res = await api.get(`/api/doctors/${id}`)
  if (res.status !== 200) throw new Error(`doctor ${id} answered ${res.status}: ${res.text}`)
  return res.json<{ profile: Json }>().profile
}

t.test('the destructive doctor routes refuse anyone without the dashboard’s token and change nothing', async (t) => {
  const before = await digests(sql, TABLES)
  const attempts: Array<[string, string, unknown]> = [
    ['PATCH', '/api/doctors/7', { general_info: { doctor_name: 'x' } }],
    ['PATCH', '/api/doctors/7/status', { active: false }],
    ['DELETE', '/api/doctors/7', undefined],
    ['POST', '/api/doctors', { profile: { general_info: { doctor_name: 'x' } } }],
    ['PATCH', '/backend/api/doctors/7', { general_info: { doctor_name: 'x' } }]
  ]
  for (const [method, path, body] of attempts) {
    for (const secret of [null, SECRET]) {
      const res = await api.send(method, path, body, { secret })
      t.equal(res.status, 401, `${method} ${path} ${secret === null ? 'with nothing' : 'with the app secret only'}`)
      t.type(res.json<Json>()['detail'], 'string')
    }
    const forged = await api.send(method, path, body ?? {}, { secret: null, headers: bearer(`${accessToken}x`) })
    t.equal(forged.status, 401, `${method} ${path} with a forged token`)
  }
  for (const secret of [null, 'not-the-secret']) {
    const res = await api.post('/api/doctor/status', { doctor_id: 7, is_active: false }, { secret })
    t.equal(res.status, 403, 'the account-status route wants the secret')
    t.same(res.json<Json>()['detail'], 'forbidden')
  }
  t.same(await digests(sql, TABLES), before)
})

t.test('a patch merges into the profile, account updates the columns, and the lists follow', async (t) => {
  const res = await dashboard('PATCH', '/api/doctors/7', {
    general_info: { doctor_name: 'د. عمر حازم', experience_years: '١٢', receiving_patients: '٣٠' },
    specializations: [{ id: 3, name: 'الصدرية والقلبية' }],
    clinic_location: { place_name: 'بغداد' },
    account: { email: 'omar.new@x.iq', phone: '', status: 'inactive' }
  })
  t.equal(res.status, 200)
  t.same(res.json(), { ok: true, id: 7 })

  const profile = await profileOf(7)
  t.same(profile['general_info'], {
    clinic_id: 7, doctor_name: 'د. عمر حازم', email_address: 'omar@x.iq', experience_years: '١٢', clinic_states: 'كركوك', receiving_patients: '٣٠'
  }, 'general_info merged one level deep')
  t.same(profile['clinic_location'], { latitude: '30.05', longitude: '30.96', place_name: 'بغداد' })
  t.same(profile['account'], { email: 'omar.new@x.iq', phone: null, status: 'inactive' }, 'account went to the columns')
  t.notOk('account' in ((await sql<Array<{ profile: Json }>>`SELECT profile FROM clinics WHERE id = 7`)[0]?.profile ?? {}), 'and not into the profile')

  const [row] = await sql<Array<Json>>`SELECT name, specialty, experience_years, receiving_patients, status FROM clinics WHERE id = 7`
  t.same(row, { name: 'د. عمر حازم', specialty: 'الصدرية والقلبية', experience_years: 12, receiving_patients: 30, status: 'inactive' })

  const back = await dashboard('PATCH', '/api/doctors/7', { account: { status: 'Active' } })
  t.equal(back.status, 200)
  t.equal((await profileOf(7))['account'] && ((await profileOf(7))['account'] as Json)['status'], 'active')
})

t.test('a patch cannot point a doctor at another clinic id, and an unknown doctor is a 404', async (t) => {
  const before = await digests(sql, TABLES)
  const moved = await dashboard('PATCH', '/api/doctors/7', { general_info: { clinic_id: 8 } })
  t.equal(moved.status, 400)
  t.same(moved.json(), { error: { code: 'bad_request', message: 'general_info.clinic_id must stay 7: it is this doctor\'s id' } })
  t.equal((await dashboard('PATCH', '/api/doctors/7', { general_info: { clinic_id: '٧' } })).status, 200, 'its own id in Arabic digits is fine')
  const missing = await dashboard('PATCH', '/api/doctors/404', { general_info: { doctor_name: 'x' } })
  t.equal(missing.status, 404)
  t.same(missing.json(), { error: { code: 'not_found', message: 'Doctor not found' } })
  t.same(await digests(sql, ['accounts']), { accounts: before['accounts'] })
})

t.test('the dashboard switch answers Active / Inactive and the app sees it', async (t) => {
  const off = await dashboard('PATCH', '/api/doctors/7/status', { active: false })
  t.same(off.json(), { id: 7, status: 'Inactive' })
  t.same((await api.get('/api/doctor/7/status')).json(), { doctor_id: 7, name: 'د. عمر حازم', status: 'inactive', is_active: false })
  t.equal(((await profileOf(7))['general_info'] as Json)['account_status'], false, 'the profile tells the doctor app')
  const on = await dashboard('PATCH', '/backend/api/doctors/7/status', { active: true })
  t.same(on.json(), { id: 7, status: 'Active' }, 'mirrored under /backend')
  for (const active of ['false', 0, null, undefined]) {
    const res = await dashboard('PATCH', '/api/doctors/7/status', { active })
    t.equal(res.status, 400)
    t.same(res.json(), { error: { code: 'bad_request', message: 'active must be boolean' } })
  }
  t.same((await dashboard('PATCH', '/api/doctors/404/status', { active: true })).json(), { error: { code: 'not_found', message: 'Doctor not found' } })
})

t.test('the account-status route answers in Arabic and reads back', async (t) => {
  const off = await api.post('/api/doctor/status', { doctor_id: 7, is_active: false })
  t.equal(off.status, 200)
  t.same(off.json(), { id: 7, name: 'د. عمر حازم', status: 'inactive', message: 'تم إيقاف الدكتور بنجاح' })
  const on = await api.post('/api/doctor/status', { doctor_id: '7', is_active: 'true' })
  t.same(on.json(), { id: 7, name: 'د. عمر حازم', status: 'active', message: 'تم تفعيل الدكتور بنجاح' })
  t.same((await api.get('/api/doctor/7/status')).json(), { doctor_id: 7, name: 'د. عمر حازم', status: 'active', is_active: true })

  const missing = await api.post('/api/doctor/status', { doctor_id: 404, is_active: true })
  t.equal(missing.status, 404)
  t.equal(missing.json<Json>()['detail'], 'doctor not found', 'FastAPI-style, as this router answered')
  t.equal((await api.get('/api/doctor/404/status')).json<Json>()['detail'], 'doctor not found')
  const invalid = await api.post('/api/doctor/status', { doctor_id: 7 })
  t.equal(invalid.status, 422)
  t.ok(Array.isArray(invalid.json<Json>()['detail']), 'a 422 with the FastAPI detail list')
  t.equal((await api.post('/backend/api/doctor/status', { doctor_id: 7, is_active: true })).status, 404, 'not mirrored')
})

t.test('creating doctors gives each the next id, even when they arrive together', async (t) => {
  const first = await dashboard('POST', '/api/doctors', { profile: { general_info: { doctor_name: 'سارة', experience_years: '٣' }, specializations: ['تغذية'] } })
  t.equal(first.status, 200)
  t.same(first.json(), { id: 8 })
  const [row] = await sql<Array<Json>>`SELECT name, specialty, experience_years, status FROM clinics WHERE id = 8`
  t.same(row, { name: 'سارة', specialty: 'تغذية', experience_years: 3, status: 'active' })

  const burst = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    dashboard('POST', '/api/doctors', { general_info: { doctor_name: `طبيب ${i}` }, account: { email: `d${i}@x.iq` } })))
  t.same(burst.map((r) => r.status), Array(20).fill(200), 'every creation answered 200')
  const ids = burst.map((r) => r.json<{ id: number }>().id).sort((a, b) => a - b)
  t.same(ids, Array.from({ length: 20 }, (_, i) => 9 + i), 'twenty distinct ids, no gap, no collision')
  const [stored] = await sql<Array<{ n: number, emails: number }>>`
    SELECT count(*)::int AS n, count(*) FILTER (WHERE email LIKE 'd%@x.iq')::int AS emails FROM clinics WHERE id BETWEEN 9 AND 28`
  t.same(stored, { n: 20, emails: 20 }, 'every one stored, account applied to the columns')

  const empty = await dashboard('POST', '/api/doctors', {})
  const emptyId = empty.json<{ id: number }>().id
  t.equal(emptyId, 29)
  const profile = await profileOf(emptyId)
  t.same(profile['general_info'], { doctor_name: 'Doctor', email_address: 'doctor@example.com', doctor_phone_number: '', experience_years: '0', clinic_states: '' },
    'an empty body creates the legacy default profile')

  await api.post('/doctor/profile', { general_info: { clinic_id: 500, doctor_name: 'عيادة ٥٠٠' } })
  t.same((await dashboard('POST', '/api/doctors', {})).json(), { id: 501 }, 'a clinic id posted by the doctor app moves the next id past it')
})

t.test('deleting a doctor removes it and unlinks its phone account', async (t) => {
  const [account] = await sql<Array<{ id: number }>>`
    INSERT INTO accounts (user_role, phone_number, doctor_id) VALUES ('doctor', '+9647703333333', 8) RETURNING id`
  const res = await dashboard('DELETE', '/api/doctors/8')
  t.equal(res.status, 200)
  t.same(res.json(), { message: 'deleted', id: 8 })
  t.equal((await api.get('/api/doctors/8')).status, 404)
  const [unlinked] = await sql<Array<{ doctor_id: number | null }>>`SELECT doctor_id FROM accounts WHERE id = ${account?.id ?? 0}`
  t.equal(unlinked?.doctor_id, null, 'the account stays, without its doctor')
  const again = await dashboard('DELETE', '/api/doctors/8')
  t.equal(again.status, 404)
  t.same(again.json(), { error: { code: 'not_found', message: 'Doctor not found' } })
})

t.test('a burst of malformed requests all get 4xx with a message and change nothing', async (t) => {
  const before = await digests(sql, TABLES)
  const huge = '9'.repeat(40)
  const bad: Array<[string, string, unknown]> = [
    // bodies that are not JSON objects
    ...['{not json', '[1,2,3]', '"a string"', '42', 'null', '{"a":', '\u0000', '{"a":1}}'].flatMap((body): Array<[string, string, unknown]> => [
      ['POST', '/doctor/profile', body], ['POST', '/doctor/profile.json', body], ['PATCH', '/api/doctors/7', body],
      ['POST', '/api/doctors', body], ['PATCH', '/api/doctors/7/status', body], ['POST', '/api/doctor/status', body]
    ]),
    // wrong types and missing fields
    ['POST', '/doctor/profile', { general_info: 'seven' }],
    ['POST', '/doctor/profile', { general_info: { clinic_id: [7] } }],
    ['POST', '/doctor/profile', { general_info: { clinic_id: { id: 7 } } }],
    ['POST', '/doctor/profile', { general_info: { clinic_id: huge } }],
    ['POST', '/doctor/profile', { general_info: { clinic_id: 7.5 } }],
    ['POST', '/doctor/profile', { general_info: { clinic_id: 7, doctor_name: 'a\u0000b' } }],
    ['POST', '/doctor/profile', { general_info: { clinic_id: 7, doctor_name: 'a\ud800b' } }],
    ['POST', '/doctor/profile', { json_profile: '{"general_info":{"clinic_id":7}}', phone: '0770' }],
    ['POST', '/doctor/profile', { json_profile: 'not json at all', phone: '+9647701234567' }],
    ['POST', '/doctor/profile', { json_profile: [1, 2], phone: '+9647701234567' }],
    ['POST', '/doctor/profile', { json_profile: '{"general_info":{"clinic_id":7,"x":"\\u0000"}}', phone: '+9647701234567' }],
    ['POST', '/doctor/profile', { user_server_id: huge, json_profile: { general_info: { clinic_id: 7 } } }],
    ['PATCH', '/api/doctors/7', { account: 'inactive' }],
    ['PATCH', '/api/doctors/7', { account: { status: 'paused' } }],
    ['PATCH', '/api/doctors/7', { account: { email: 42 } }],
    ['PATCH', '/api/doctors/7', { general_info: { clinic_id: 'eight' } }],
    ['PATCH', '/api/doctors/7', { general_info: { clinic_id: 7, doctor_name: 'x\u0000' } }],
    ['PATCH', '/api/doctors/7/status', { active: 'yes' }],
    ['PATCH', '/api/doctors/7/status', {}],
    ['POST', '/api/doctors', { account: { status: 'paused' } }],
    ['POST', '/api/doctors', { profile: { general_info: { doctor_name: '\u0000' } } }],
    ['POST', '/api/doctor/status', { doctor_id: 7 }],
    ['POST', '/api/doctor/status', { is_active: true }],
    ['POST', '/api/doctor/status', { doctor_id: 'seven', is_active: true }],
    ['POST', '/api/doctor/status', { doctor_id: huge, is_active: true }],
    ['POST', '/api/doctor/status', { doctor_id: -7, is_active: true }],
    ['POST', '/api/doctor/status', { doctor_id: 7, is_active: 'maybe' }],
    // huge, negative, zero and non-numeric ids
    ...['0', '-7', huge, '2147483648', 'abc', '7.5', '%00', '%E0%A4%A', '٧٧٧٧٧٧٧٧٧٧٧٧'].flatMap((id): Array<[string, string, unknown]> => [
      ['PATCH', `/api/doctors/${id}`, { general_info: { doctor_name: 'x' } }], ['PATCH', `/api/doctors/${id}/status`, { active: false }],
      ['DELETE', `/api/doctors/${id}`, undefined], ['GET', `/api/doctors/${id}`, undefined], ['GET', `/doctor/profile/${id}`, undefined]
    ]),
    // query strings out of range
    ...['pageSize=-1', 'pageSize=0', 'pageSize=501', 'page=0', 'page=-2', `page=${huge}`, 'expMin=x', 'expMax=-1', 'q=%00', 'pageSize=1e3'].map((q): [string, string, unknown] =>
      ['GET', `/api/doctors?${q}`, undefined]),
    ['GET', '/api/doctor_profile', undefined],
    ['GET', `/api/doctor_profile?doctor_id=${huge}`, undefined],
    ['GET', '/doctor/profile/by-user/P-x', undefined],
    ['GET', `/doctor/profile/by-user/${huge}`, undefined]
  ]
  t.ok(bad.length >= 100, `${bad.length} requests`)
  const replies = await Promise.all(bad.map(async ([method, path, body]) => ({ method, path, res: await dashboard(method, path, body) })))
  for (const { method, path, res } of replies) {
    const ok = res.status >= 400 && res.status < 500
    t.ok(ok, `${method} ${path} → ${res.status}`)
    if (!ok) continue
    const reply = res.json<{ detail?: unknown, error?: { code: string, message: string } }>()
    t.ok(reply.detail !== undefined || (typeof reply.error?.message === 'string' && reply.error.message !== ''), `${method} ${path} says why`)
  }
  t.same(await digests(sql, TABLES), before, 'no row inserted, changed or removed')
  t.equal((await api.get('/api/doctors/7')).status, 200, 'and the server still serves')
})
