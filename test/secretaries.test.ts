import t from 'tap'
import { digests, sendAll } from './helpers/legacy-client.ts'
import { startStack } from './helpers/stack.ts'

const { sql, api } = await startStack(t, { mode: 'in-process' })

// Clinic 7 keeps its capacity only in the profile, as the doctor app sends it (Arabic digits); clinic 8 has the
// column; clinic 9 has no row at all.
await sql`INSERT INTO clinics (id, name, profile) VALUES
  (7, 'د. عمر', ${sql.json({ general_info: { clinic_id: 7, doctor_name: 'د. عمر', receiving_patients: '٢٠' } })})`
await sql`INSERT INTO clinics (id, name, receiving_patients) VALUES (8, 'د. سارة', 15)`

interface CodeReply { secretary_id: number, result: string }

async function newSecretary (clinicId: number, name = 'زينب'): Promise<number> {
  const res = await api.post('/api/secretary_code_generator', {
    clinic_id: clinicId, doctor_name: 'د. عمر', secretary_name: name, created_date: '10/07/2025 10:00 am'
  })
  if (res.status !== 200) throw new Error(`generator answered ${res.status}: ${res.text}`)
  return res.json<CodeReply>().secretary_id
}

t.test('a doctor gets a 6-digit code for a new secretary, who logs in with it', async (t) => {
  const res = await api.post('/api/secretary_code_generator', {
    clinic_id: 7, doctor_name: 'د. عمر', secretary_name: 'زينب', created_date: '10/07/2025 10:00 am'
  })
  t.equal(res.status, 200)
  const body = res.json<CodeReply>()
  t.equal(body.result, 'successfuly', 'the legacy spelling')
  t.type(body.secretary_id, 'number', 'the code is a JSON number')
  t.ok(body.secretary_id >= 100000 && body.secretary_id <= 999999, `six digits (${body.secretary_id})`)

  const login = await api.post('/api/secretary_login_code', { secretary_code: body.secretary_id })
  t.equal(login.status, 200)
  // The actor token fields are additive (docs/COMPATIBILITY.md, test/actors.test.ts); the legacy ones are exact.
  const { access_token: accessToken, token_type: tokenType, ...legacyFields } = login.json()
  t.type(accessToken, 'string', 'an actor token besides the legacy fields')
  t.equal(tokenType, 'bearer')
  t.same(legacyFields, {
    status: 'successfuly',
    clinic_id: 7,
    secretary_id: 'S-7',
    doctor_name: 'د. عمر',
    secretary_name: 'زينب',
    created_date: '10/07/2025 10:00 am',
    receiving_patients: 20
  }, 'the clinic, the names as stored and the capacity read from the profile')

  const asText = await api.post('/api/secretary_login_code', { secretary_code: String(body.secretary_id) })
  t.equal(asText.status, 200, 'the code may also come as a string')
})

t.test('the login answers the clinic column capacity first, and null when the clinic has no row', async (t) => {
  const withColumn = await newSecretary(8)
  const noClinic = await newSecretary(9)
  t.equal((await api.post('/api/secretary_login_code', { secretary_code: withColumn })).json().receiving_patients, 15)
  const orphan = await api.post('/api/secretary_login_code', { secretary_code: noClinic })
  t.equal(orphan.status, 200)
  t.equal(orphan.json().receiving_patients, null)
})

t.test('an unknown code is a 404 with the legacy message', async (t) => {
  for (const code of [100000, 5, 2147483647]) {
    const res = await api.post('/api/secretary_login_code', { secretary_code: code })
    t.equal(res.status, 404, `code ${code}`)
    t.match(res.json(), { detail: 'Secretary code not found' })
  }
})

t.test('fifty codes generated at once are fifty different secretaries', async (t) => {
  const codes = await Promise.all(Array.from({ length: 50 }, (_, i) => newSecretary(7, `سكرتير ${i}`)))
  t.equal(new Set(codes).size, 50, 'no code handed out twice')
  const [row] = await sql<Array<{ n: string }>>`SELECT count(*) AS n FROM secretaries WHERE code = ANY(${codes})`
  t.equal(Number(row?.n), 50, 'every answered code is stored')
})

t.test('the doctor app reads a secretary by S-<code> or <code>', async (t) => {
  const code = await newSecretary(7, 'مريم')
  const expected = {
    secretary_id: 'S-7', clinic_id: 7, active_code: code, secretary_name: 'مريم', created_date: '10/07/2025 10:00 am', secretary_status: true
  }
  for (const id of [`S-${code}`, String(code)]) {
    const res = await api.get(`/api/doctor/secretary/${id}`)
    t.equal(res.status, 200, id)
    t.same(res.json(), expected, `${id}: S- is the clinic on the way out, the code comes back as active_code`)
  }
  const bad = await api.get('/api/doctor/secretary/S-abc')
  t.equal(bad.status, 400)
  t.match(bad.json(), { detail: 'Invalid secretary_id format' })
  const missing = await api.get('/api/doctor/secretary/S-100000')
  t.equal(missing.status, 404)
  t.match(missing.json(), { detail: 'Secretary not found' })
  const huge = await api.get('/api/doctor/secretary/99999999999')
  t.equal(huge.status, 404, 'a number too large for any code is simply not found')
})

t.test('a disabled secretary cannot log in until the doctor enables it again', async (t) => {
  const code = await newSecretary(7, 'هدى')
  const off = await api.post('/api/doctor/secretary/toggle-status', { secretary_id: `S-${code}`, secretary_status: false })
  t.equal(off.status, 200)
  t.same(off.json(), { message: 'تم تعطيل السكرتير بنجاح', secretary_id: code, clinic_id: 7, secretary_status: false })

  const refused = await api.post('/api/secretary_login_code', { secretary_code: code })
  t.equal(refused.status, 403)
  t.match(refused.json(), { detail: 'Secretary account is disabled by doctor' })
  t.equal((await api.get(`/api/doctor/secretary/${code}`)).json().secretary_status, false)

  const on = await api.post('/api/doctor/secretary/toggle-status', { secretary_id: code, secretary_status: true })
  t.same(on.json(), { message: 'تم تفعيل السكرتير بنجاح', secretary_id: code, clinic_id: 7, secretary_status: true })
  t.equal((await api.post('/api/secretary_login_code', { secretary_code: code })).status, 200)
})

t.test('toggle-status explains what is wrong with a bad request, in the legacy order', async (t) => {
  const code = await newSecretary(7)
  const cases: Array<[unknown, number, string]> = [
    [{ secretary_status: true }, 400, 'secretary_id is required'],
    [{ secretary_id: '', secretary_status: true }, 400, 'secretary_id is required'],
    [{ secretary_id: code }, 400, 'secretary_status must be true or false'],
    [{ secretary_id: code, secretary_status: 'false' }, 400, 'secretary_status must be true or false'],
    [{ secretary_id: 'S-x', secretary_status: true }, 400, 'Invalid secretary_id format'],
    [{ secretary_id: [code], secretary_status: true }, 400, 'secretary_id must be int or string'],
    [{ secretary_id: 100000, secretary_status: true }, 404, 'Secretary not found']
  ]
  for (const [body, status, message] of cases) {
    const res = await api.post('/api/doctor/secretary/toggle-status', body)
    t.equal(res.status, status, JSON.stringify(body))
    t.match(res.json(), { detail: message })
  }
})

t.test('every secretary route refuses a request without the app secret', async (t) => {
  const code = await newSecretary(7)
  const calls: Array<[string, string, unknown]> = [
    ['POST', '/api/secretary_code_generator', { clinic_id: 7, doctor_name: 'a', secretary_name: 'b', created_date: 'c' }],
    ['POST', '/api/secretary_login_code', { secretary_code: code }],
    ['GET', `/api/doctor/secretary/${code}`, undefined],
    ['POST', '/api/doctor/secretary/toggle-status', { secretary_id: code, secretary_status: false }]
  ]
  for (const [method, path, body] of calls) {
    for (const secret of [null, 'wrong-secret']) {
      const res = await api.send(method, path, body, { secret })
      t.equal(res.status, 403, `${method} ${path} with ${secret === null ? 'no' : 'a wrong'} secret`)
      t.match(res.json(), { detail: 'forbidden' })
    }
  }
  t.equal((await api.get(`/api/doctor/secretary/${code}`)).json().secretary_status, true, 'the refused toggle changed nothing')
})

t.test('the secretary routes are also served under /backend', async (t) => {
  const gen = await api.post('/backend/api/secretary_code_generator', {
    clinic_id: 8, doctor_name: 'د. سارة', secretary_name: 'ليلى', created_date: '01/01/2026 09:00 am'
  })
  t.equal(gen.status, 200)
  const code = gen.json<CodeReply>().secretary_id
  t.equal((await api.post('/backend/api/secretary_login_code', { secretary_code: code })).json().clinic_id, 8)
  t.equal((await api.get(`/backend/api/doctor/secretary/S-${code}`)).json().active_code, code)
  const toggled = await api.post('/backend/api/doctor/secretary/toggle-status', { secretary_id: code, secretary_status: false })
  t.equal(toggled.json().secretary_status, false)
})

t.test('a burst of malformed secretary requests is answered 4xx and changes nothing', async (t) => {
  const code = await newSecretary(7)
  const before = await digests(sql, ['secretaries', 'clinics'])
  const valid = { clinic_id: 7, doctor_name: 'a', secretary_name: 'b', created_date: 'c' }
  const malformedBodies: unknown[] = [
    '{not json', '[]', '"text"', '42', 'true', '{"clinic_id": }', '\u0000', '{"a":' + '['.repeat(100) + ']'.repeat(100) + '}',
    {}, { ...valid, clinic_id: 'seven' }, { ...valid, clinic_id: -7 }, { ...valid, clinic_id: 0 }, { ...valid, clinic_id: 1.5 },
    { ...valid, clinic_id: 1e30 }, { ...valid, clinic_id: 99999999999 }, { ...valid, clinic_id: null }, { ...valid, doctor_name: 5 },
    { ...valid, secretary_name: null }, { ...valid, created_date: {} }, { ...valid, doctor_name: 'x'.repeat(5000) },
    { clinic_id: 7 }, { doctor_name: 'a', secretary_name: 'b', created_date: 'c' }, { ...valid, clinic_id: [7] }
  ]
  const loginBodies: unknown[] = [
    '{not json', '[]', 'null', {}, { secretary_code: 'S-123456' }, { secretary_code: -1 }, { secretary_code: 1e30 },
    { secretary_code: '١٢٣x' }, { secretary_code: null }, { secretary_code: true }, { secretary_code: 12.5 }, { code: 123456 }
  ]
  const toggleBodies: unknown[] = [
    '{not json', '[]', {}, { secretary_id: code }, { secretary_id: code, secretary_status: 'yes' }, { secretary_id: code, secretary_status: 1 },
    { secretary_id: {}, secretary_status: false }, { secretary_id: 'S-', secretary_status: false }, { secretary_id: 1e30, secretary_status: false },
    { secretary_id: -code, secretary_status: false }, { secretary_id: 'P-5', secretary_status: false }, { secretary_id: code, secretary_status: null },
    { secretary_id: 12.5, secretary_status: false }, { secretary_id: `S-${code}`, secretary_status: 'false' }
  ]
  const requests: Array<[string, string, unknown]> = []
  for (let round = 0; requests.length < 100; round++) {
    for (const body of malformedBodies) requests.push(['POST', '/api/secretary_code_generator', body])
    for (const body of loginBodies) requests.push(['POST', '/api/secretary_login_code', body])
    for (const body of toggleBodies) requests.push(['POST', '/api/doctor/secretary/toggle-status', body])
    for (const id of ['abc', 'S-', 'S-S-1', '%20', '%E0%A4%A', '%', '-1', '1.5', '99999999999999999999999']) requests.push(['GET', `/api/doctor/secretary/${id}`, undefined])
  }
  const answers = await sendAll(api, requests)
  t.ok(answers.length >= 100, `${answers.length} malformed requests`)
  const wrong = answers.filter(({ res }) => res.status < 400 || res.status >= 500)
  t.same(wrong.map(({ what, res }) => `${what} → ${res.status}`), [], 'every one answered 4xx')
  t.ok(answers.every(({ res }) => { try { res.json(); return true } catch { return false } }), 'every answer is JSON')
  t.same(await digests(sql, ['secretaries', 'clinics']), before, 'no secretary or clinic row changed')
})
