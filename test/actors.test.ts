import t from 'tap'
import { signToken } from '../src/auth/tokens.ts'
import { waitFor } from './helpers/server.ts'
import { client, SECRET, type Response, type Target } from './helpers/client.ts'
import { day, framesOf, type DaysBody, type DetailBody, type PatientEntry } from './helpers/booking-api.ts'
import { JWT_SECRET, login, withAdmin } from './helpers/admin.ts'
import { startStack } from './helpers/stack.ts'
import { startFirebase } from './helpers/firebase.ts'

// Actor tokens and AUTH_MODE=strict (contract.md §3, docs/COMPATIBILITY.md): secretary login and patient
// registration hand out tokens in both modes; legacy mode needs none, strict mode needs one on every app route and
// keeps a secretary to its clinic and a patient to its own bookings, and shows a patient only its own name and phone.

// Strict mode hands patients tokens only for a phone a Firebase ID token proves (test/helpers/firebase.ts).
const firebase = await startFirebase()
t.teardown(() => firebase.close())
// Two apps on one database: the same data seen in each mode.
const { app: legacy, launch } = await startStack(t, { mode: 'in-process', env: withAdmin() })
const strict = await launch(t, { AUTH_MODE: 'strict', ...firebase.env })

const INSUFFICIENT = 'ليست لديك صلاحية كافية'
const TOKEN_INVALID = 'رمز الوصول غير صالح'

interface Call {
  method?: string
  body?: unknown
  token?: string
  secret?: boolean
  headers?: Record<string, string>
}

async function call (app: Target, path: string, options: Call = {}): Promise<Response> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST')
  return await client(app).send(method, path, options.body, { secret: options.secret === false ? null : SECRET, token: options.token, headers: options.headers })
}

async function ok (app: Target, path: string, options: Call = {}): Promise<Record<string, unknown>> {
  const res = await call(app, path, options)
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`)
  return res.json()
}

function claimsOf (token: unknown): Record<string, unknown> {
  if (typeof token !== 'string') throw new Error(`not a token: ${String(token)}`)
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>
}

interface Secretary { code: number, token: string }
interface Patient { ref: string, token: string }

async function newSecretary (app: Target, clinicId: number, adminToken?: string): Promise<Secretary> {
  const created = await ok(app, '/api/secretary_code_generator', {
    body: { clinic_id: clinicId, doctor_name: 'د. سلمى', secretary_name: 'نور', created_date: '01/01/2026 9:00 am' },
    token: adminToken
  })
  const code = created['secretary_id'] as number
  const login = await ok(app, '/api/secretary_login_code', { body: { secretary_code: code } })
  return { code, token: login['access_token'] as string }
}

let nextPhone = 9647705000000
async function newPatient (app: Target): Promise<Patient> {
  const phone = `+${nextPhone++}`
  const proof = app === strict ? { headers: { Authorization: `Bearer ${await firebase.idToken({ phone })}` } } : {}
  const reg = await ok(app, '/api/patient/register', { ...proof, body: { user_uid: `uid${phone}`, user_role: 'patient', phone_number: phone } })
  return { ref: reg['user_server_id'] as string, token: reg['access_token'] as string }
}

const admin = await login(strict)

// Strict-mode setup through the admin, whose token passes every app route.
async function createDays (clinicId: number, lane: 'regular' | 'golden' = 'regular'): Promise<void> {
  await ok(strict, lane === 'regular' ? '/api/create_table' : '/api/create_golden_table', {
    body: { clinic_id: clinicId, days: { [day(3)]: { capacity_total: 20 } } },
    token: admin.accessToken
  })
}

t.test('login and registration hand out actor tokens, additive to the legacy fields', async (t) => {
  const secretary = await newSecretary(legacy, 9001)
  const claims = claimsOf(secretary.token)
  t.match(claims, { sub: String(secretary.code), type: 'secretary', clinic_id: 9001 }, 'sub is the code, the clinic rides along')
  t.ok((claims['exp'] as number) - (claims['iat'] as number) <= 12 * 3600, 'a working day at most')

  const login = await ok(legacy, '/api/secretary_login_code', { body: { secretary_code: secretary.code } })
  t.equal(login['token_type'], 'bearer')
  t.equal(login['secretary_id'], 'S-9001', 'the legacy fields are all still there')

  const patient = await newPatient(legacy)
  t.match(claimsOf(patient.token), { sub: patient.ref, type: 'patient' })
  t.match(patient.ref, /^P-\d+$/)

  const registered = await ok(legacy, '/auth/register', { body: { user_uid: 'u', user_role: 'patient', phone_number: '+9647705999001' }, secret: false })
  t.equal(registered['token_type'], 'bearer')
  t.match(claimsOf(registered['access_token']), { sub: `P-${registered['user_server_id'] as number}`, type: 'patient' })
  const again = await ok(legacy, '/auth/register', { body: { user_role: 'patient', phone_number: '+9647705999001' }, secret: false })
  t.equal(claimsOf(again['access_token'])['sub'], `P-${registered['user_server_id'] as number}`, 'registering again: the same account, a new token')

  const doctor = await ok(legacy, '/auth/register', { body: { user_role: 'doctor', phone_number: '+9647705999002' }, secret: false })
  t.notOk('access_token' in doctor, 'a doctor account gets no patient token')
})

t.test('legacy mode: the app secret alone is enough, and a token sent is not checked', async (t) => {
  await ok(legacy, '/api/create_table', { body: { clinic_id: 9002, days: { [day(3)]: { capacity_total: 5 } } } })
  const booked = await ok(legacy, '/api/patient_booking', { body: { clinic_id: 9002, name: 'أ', phone: '+9647700000001', patient_id: 'P-999999', date: day(3) } })
  t.equal(booked['patient_id'], 'P-999999', 'any patient id, as today')
  const days = await ok(legacy, '/api/booking_days?clinic_id=9002', { token: 'not-a-token' })
  t.equal((days as unknown as DaysBody).days[day(3)]?.patients[0]?.name, 'أ', 'a garbage bearer token is ignored')
  const other = await newSecretary(legacy, 9003)
  const res = await call(legacy, '/api/booking_days?clinic_id=9002', { token: other.token })
  t.equal(res.status, 200, "another clinic's secretary token scopes nothing in legacy mode")
})

t.test('the rate limiter keys a request by the secretary or patient behind a valid token', async (t) => {
  const patient = await newPatient(legacy)
  const secretary = await newSecretary(legacy, 9004)
  const path = '/api/maintenance/status'
  const remaining = (res: Response): number => Number(res.headers['x-ratelimit-remaining'])
  const byAddress = remaining(await call(legacy, path))
  const first = await call(legacy, path, { token: patient.token })
  const limit = Number(first.headers['x-ratelimit-limit'])
  t.equal(remaining(first), limit - 1, "the patient's own bucket, fresh")
  t.equal(remaining(await call(legacy, path, { token: patient.token })), limit - 2)
  t.equal(remaining(await call(legacy, path, { token: secretary.token })), limit - 1, "the secretary's own bucket")
  t.equal(remaining(await call(legacy, path)), byAddress - 1, 'the address bucket was not charged meanwhile')
  t.equal(remaining(await call(legacy, path, { token: signToken('other-key', { sub: patient.ref, type: 'patient', ttlSeconds: 60 }).token })),
    byAddress - 2, 'a forged token counts against the address')
})

t.test('strict mode: every app route needs a valid actor token besides the secret', async (t) => {
  await createDays(9010)
  const missing = await call(strict, '/api/booking_days?clinic_id=9010')
  t.equal(missing.status, 401)
  t.equal(missing.json<DetailBody>().detail, TOKEN_INVALID)
  t.equal(missing.headers['www-authenticate'], 'Bearer')

  const patient = await newPatient(strict)
  t.equal((await call(strict, '/api/booking_days?clinic_id=9010', { token: patient.token, secret: false })).status, 403, 'the secret is still required')

  const now = Math.floor(Date.now() / 1000)
  const sub = patient.ref
  const refused = {
    forged: signToken('some-other-signing-key-entirely', { sub, type: 'patient', ttlSeconds: 3600, phoneVerified: true }).token,
    expired: signToken(JWT_SECRET, { sub, type: 'patient', ttlSeconds: 60, now: now - 120, phoneVerified: true }).token,
    'a patient token issued without a verified phone (legacy mode)': signToken(JWT_SECRET, { sub, type: 'patient', ttlSeconds: 3600 }).token,
    tampered: `${patient.token.slice(0, -2)}${patient.token.endsWith('AA') ? 'BB' : 'AA'}`,
    'alg none': `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${patient.token.split('.')[1] ?? ''}.`,
    'a refresh token': admin.refreshToken,
    'a patient token for a bad sub': signToken(JWT_SECRET, { sub: '71', type: 'patient', ttlSeconds: 3600 }).token,
    'a secretary token without its clinic': signToken(JWT_SECRET, { sub: '123456', type: 'secretary', ttlSeconds: 3600 }).token
  }
  for (const [what, token] of Object.entries(refused)) {
    const res = await call(strict, '/api/booking_days?clinic_id=9010', { token })
    t.equal(res.status, 401, what)
  }

  t.equal((await call(strict, '/api/booking_days?clinic_id=9010', { token: admin.accessToken })).status, 200, "an admin's token passes")
  t.equal((await call(strict, '/auth/me', { token: patient.token })).status, 401, 'the admin guard still refuses a patient token')
  const secretary = await newSecretary(strict, 9010, admin.accessToken)
  t.equal((await call(strict, '/auth/me', { token: secretary.token })).status, 401, '… and a secretary token')

  // The routes that hand out tokens, and the phone check that precedes registration, need none.
  t.equal((await call(strict, '/api/secretary_login_code', { body: { secretary_code: secretary.code } })).status, 200)
  const proof = { Authorization: `Bearer ${await firebase.idToken({ phone: '+9647705999100' })}` }
  t.equal((await call(strict, '/api/patient/register', { headers: proof, body: { user_uid: 'x', user_role: 'patient', phone_number: '+9647705999100' } })).status, 200)
  t.equal((await call(strict, '/auth/check-phone?phone=%2B9647705999100')).status, 200)
  t.equal((await call(strict, '/api/maintenance/status', { token: patient.token })).status, 200)
})

t.test('strict mode: a secretary acts on its own clinic only', async (t) => {
  await createDays(9020)
  await createDays(9021)
  const a = await newSecretary(strict, 9020, admin.accessToken)
  const b = await newSecretary(strict, 9021, admin.accessToken)
  const own = { token: a.token }

  t.equal((await call(strict, '/api/booking_days?clinic_id=9020', own)).status, 200)
  const booked = await ok(strict, '/api/patient_booking', { ...own, body: { clinic_id: 9020, name: 'مراجع', phone: '+9647700000002', source: 'secretary_app', date: day(3) } })
  t.equal((await call(strict, '/api/edit_patient_booking', { ...own, body: { clinic_id: 9020, booking_id: booked['booking_id'], status: 'served' } })).status, 200)
  t.equal((await call(strict, '/api/booking_archives/9020', own)).status, 200)
  t.equal((await call(strict, '/api/doctor_monthly_golden_payment_status?clinic_id=9020', own)).status, 200)
  t.equal((await call(strict, `/api/doctor/secretary/${a.code}`, own)).status, 200)

  const elsewhere: Array<[string, Call]> = [
    ['/api/booking_days?clinic_id=9021', {}],
    ['/api/booking_days?clinic_id=9021&stream=true', {}],
    ['/api/all_days_golden?clinic_id=9021', {}],
    ['/api/booking_archives/9021', {}],
    ['/api/create_table', { body: { clinic_id: 9021, days: { [day(4)]: { capacity_total: 5 } } } }],
    ['/api/add_day', { body: { clinic_id: 9021, date_added: day(5) } }],
    ['/api/patient_booking', { body: { clinic_id: 9021, name: 'x', phone: '+9647700000003', source: 'secretary_app', date: day(3) } }],
    ['/api/close_table', { body: { clinic_id: 9021, date: day(3) } }],
    ['/api/verify_golden_code', { body: { clinic_id: 9021, code: '1234' } }],
    ['/api/golden_patient_payment', { body: { clinic_id: 9021, exam_date: '01/01/2026', patient_name: 'x', booking_id: 'G-9021-20260101-0001' } }],
    ['/api/doctor_annual_payment_status?clinic_id=9021', {}],
    ['/api/close_clinic', { body: { clinic_id: 9021, is_closed: true } }],
    [`/api/doctor/secretary/${b.code}`, {}],
    ['/api/doctor/secretary/toggle-status', { body: { secretary_id: b.code, secretary_status: false } }],
    ['/api/secretary_code_generator', { body: { clinic_id: 9021, doctor_name: 'x', secretary_name: 'y', created_date: 'z' } }],
    ['/api/update_payment_status', { body: { clinic_id: 9020, payment_month: '2026-01' } }],
    ['/api/all_clinics_golden_payments', {}],
    ['/api/patients/all', {}]
  ]
  for (const [path, options] of elsewhere) {
    const res = await call(strict, path, { ...options, token: a.token })
    t.equal(res.status, 403, path)
    t.equal(res.json<DetailBody>().detail, INSUFFICIENT, `${path}: the Arabic detail`)
  }
  t.equal((await call(strict, `/api/doctor/secretary/${b.code}`)).status, 401, 'no token: 401 before any scope')
  t.equal((await call(strict, '/api/booking_days?clinic_id=9021', { token: b.token })).status, 200, 'the other clinic is its own secretary\'s')
})

t.test('strict mode: a disabled secretary\'s token stops working at once', async (t) => {
  await createDays(9030)
  const secretary = await newSecretary(strict, 9030, admin.accessToken)
  t.equal((await call(strict, '/api/booking_days?clinic_id=9030', { token: secretary.token })).status, 200)
  await ok(strict, '/api/doctor/secretary/toggle-status', { body: { secretary_id: secretary.code, secretary_status: false }, token: admin.accessToken })
  for (let i = 0; i < 4; i++) { // every request looks the secretary up again; none passes on what an earlier one saw
    const res = await call(strict, '/api/booking_days?clinic_id=9030', { token: secretary.token })
    t.equal(res.status, 401)
    t.equal(res.json<DetailBody>().code, 'actor_unavailable')
  }
  t.equal((await call(strict, '/api/secretary_login_code', { body: { secretary_code: secretary.code } })).status, 403, 'and it cannot log in again')
  await ok(strict, '/api/doctor/secretary/toggle-status', { body: { secretary_id: secretary.code, secretary_status: true }, token: admin.accessToken })
  t.equal((await call(strict, '/api/booking_days?clinic_id=9030', { token: secretary.token })).status, 200, 'enabled again, the same token works')
})

t.test('strict mode: a patient books for itself and changes only its own bookings', async (t) => {
  await createDays(9040)
  await createDays(9040, 'golden')
  const me = await newPatient(strict)
  const other = await newPatient(strict)
  const mine = { token: me.token }
  const booking = { clinic_id: 9040, name: 'أنا', phone: '+9647700000004', source: 'patient_app', date: day(3) }

  const booked = await ok(strict, '/api/patient_booking', { ...mine, body: booking })
  t.equal(booked['patient_id'], me.ref, 'no patient_id: the token\'s P-<id>')
  const refused = await call(strict, '/api/patient_booking', { ...mine, body: { ...booking, date: day(4), patient_id: other.ref } })
  t.equal(refused.status, 403, "another patient's id")
  t.equal(refused.json<DetailBody>().detail, INSUFFICIENT)
  const bare = await ok(strict, '/api/patient_booking', { ...mine, body: { ...booking, date: day(5), patient_id: me.ref.slice(2) } })
  t.equal(bare['patient_id'], me.ref, 'its own id as a bare number is stored as P-<id>')
  t.equal((await call(strict, '/api/patient_booking', { ...mine, body: { ...booking, date: day(6), source: 'secretary_app' } })).status, 403,
    'a patient cannot book as the secretary app (which may overbook)')

  const golden = await ok(strict, '/api/patient_golden_booking', { ...mine, body: { clinic_id: 9040, date: day(3), name: 'أنا', phone: '+9647700000004' } })
  t.equal(golden['patient_id'], me.ref, 'the golden booking too')
  t.equal((await call(strict, '/api/patient_golden_booking', { ...mine, body: { clinic_id: 9040, date: day(4), name: 'x', phone: '+9647700000005', patient_id: other.ref } })).status, 403)

  const theirs = await ok(strict, '/api/patient_booking', { token: other.token, body: { ...booking, name: 'غيري' } })
  const cancelTheirs = await call(strict, '/api/edit_patient_booking', { ...mine, body: { clinic_id: 9040, booking_id: theirs['booking_id'], status: 'cancelled' } })
  t.equal(cancelTheirs.status, 403, "another patient's booking cannot be cancelled")
  t.equal((await call(strict, '/api/edit_patient_gold_booking', { ...mine, body: { clinic_id: 9040, booking_id: golden['booking_id'], status: 'cancelled' } })).status, 200,
    'its own golden booking can')
  const cancelMine = await call(strict, '/api/edit_patient_booking', { ...mine, body: { clinic_id: 9040, booking_id: booked['booking_id'], status: 'cancelled' } })
  t.equal(cancelMine.status, 200, 'its own booking can')
  const missing = await call(strict, '/api/edit_patient_booking', { ...mine, body: { clinic_id: 9040, booking_id: 'B-9040-20990101-0001', status: 'cancelled' } })
  t.equal(missing.status, 404, 'a booking that does not exist is the edit\'s own 404')

  t.equal((await call(strict, `/api/patient/profile/${me.ref}`, mine)).status, 404, 'its own profile: not saved yet')
  t.equal((await call(strict, '/api/patient/profile', { ...mine, body: { user_server_id: me.ref, patient_name: 'أنا', phone_number: '+9647700000004' } })).status, 200)
  t.equal((await call(strict, `/api/patient/${me.ref.slice(2)}/status`, mine)).status, 200)
  for (const [path, options] of [
    [`/api/patient/profile/${other.ref}`, {}],
    ['/api/patient/profile', { body: { user_server_id: other.ref, patient_name: 'x', phone_number: '+9647700000009' } }],
    ['/api/patient/status', { body: { patient_id: other.ref, is_active: false } }],
    [`/api/patient/${other.ref}`, { method: 'DELETE' }],
    ['/api/patients/all', {}],
    ['/api/create_table', { body: { clinic_id: 9040, days: { [day(8)]: { capacity_total: 5 } } } }],
    ['/api/close_table', { body: { clinic_id: 9040, date: day(3) } }],
    ['/api/save_table', { body: { clinic_id: 9040, closed_date: day(3) } }],
    ['/api/booking_archives/9040', {}],
    ['/api/verify_golden_code', { body: { clinic_id: 9040, code: String(golden['code']) } }],
    ['/api/golden_patient_payment', { body: { clinic_id: 9040, exam_date: '01/01/2026', patient_name: 'x', booking_id: 'G-1' } }],
    ['/api/doctor_monthly_golden_payment_status?clinic_id=9040', {}],
    ['/api/secretary_code_generator', { body: { clinic_id: 9040, doctor_name: 'x', secretary_name: 'y', created_date: 'z' } }],
    ['/api/close_clinic', { body: { clinic_id: 9040, is_closed: true } }]
  ] as Array<[string, Call]>) {
    t.equal((await call(strict, path, { ...options, token: me.token })).status, 403, path)
  }
  t.equal((await call(strict, '/api/close_clinic?clinic_id=9040', mine)).status, 200, 'whether a clinic is open is everyone\'s to ask')
})

type Entry = PatientEntry & { patient_id: string }

function entriesOf (body: { days: DaysBody['days'] }, date: string): Entry[] {
  return (body.days[date]?.patients ?? []) as Entry[]
}

t.test('strict mode: a patient sees every seat but only its own name and phone, in JSON', async (t) => {
  await createDays(9050)
  await createDays(9050, 'golden')
  const me = await newPatient(strict)
  const other = await newPatient(strict)
  const secretary = await newSecretary(strict, 9050, admin.accessToken)
  await ok(strict, '/api/patient_booking', { token: other.token, body: { clinic_id: 9050, name: 'غيري', phone: '+9647700000011', date: day(3) } })
  await ok(strict, '/api/patient_booking', { token: me.token, body: { clinic_id: 9050, name: 'أنا', phone: '+9647700000010', date: day(3) } })
  await ok(strict, '/api/patient_booking', { token: secretary.token, body: { clinic_id: 9050, name: 'مراجع', phone: '+9647700000012', source: 'secretary_app', date: day(3) } })
  await ok(strict, '/api/patient_golden_booking', { token: other.token, body: { clinic_id: 9050, date: day(3), name: 'غيري', phone: '+9647700000011' } })

  const full = await ok(strict, '/api/booking_days?clinic_id=9050', { token: secretary.token }) as unknown as DaysBody
  t.same(entriesOf(full, day(3)).map((e) => e.name), ['غيري', 'أنا', 'مراجع'], 'the secretary sees every name')
  t.same((await ok(strict, '/api/booking_days?clinic_id=9050', { token: admin.accessToken }) as unknown as DaysBody).days, full.days, 'so does an admin')

  const res = await call(strict, '/api/booking_days?clinic_id=9050', { token: me.token })
  t.equal(res.status, 200)
  const seen = res.json<DaysBody>()
  const entries = entriesOf(seen, day(3))
  t.same(entries.map((e) => [e.token, e.status, e.booking_id]), entriesOf(full, day(3)).map((e) => [e.token, e.status, e.booking_id]),
    'every seat, with its token, status and booking id')
  t.same(entries[1], entriesOf(full, day(3))[1], 'its own entry in full')
  for (const entry of [entries[0], entries[2]]) {
    t.match(entry, { name: '', phone: '', patient_id: '' }, "others' name, phone and patient_id are empty strings")
  }
  t.equal(seen.days[day(3)]?.capacity_used, 3, 'the day itself as it is')

  const etag = String(res.headers.etag)
  t.not(etag, String((await call(strict, '/api/booking_days?clinic_id=9050', { token: secretary.token })).headers.etag), 'its own ETag')
  t.equal((await call(strict, '/api/booking_days?clinic_id=9050', { token: me.token, headers: { 'If-None-Match': etag } })).status, 304)
  t.equal((await call(strict, '/api/booking_days?clinic_id=9050', { token: other.token, headers: { 'If-None-Match': etag } })).status, 200,
    "another patient's copy never revalidates as this one")

  const all = await ok(strict, '/api/all_days?clinic_id=9050', { token: me.token, headers: { 'Accept-Encoding': 'gzip, br' } }) as unknown as DaysBody
  t.same(all.days, seen.days, 'all_days is redacted the same way')

  const goldenSeen = await ok(strict, '/api/booking_golden_days?clinic_id=9050', { token: me.token }) as unknown as DaysBody
  t.match(entriesOf(goldenSeen, day(3))[0], { name: '', phone: '', patient_id: '', code: '', token: 1 }, "another's golden code is hidden too")
  const goldenTheirs = await ok(strict, '/api/booking_golden_days?clinic_id=9050', { token: other.token }) as unknown as DaysBody
  t.match(entriesOf(goldenTheirs, day(3))[0], { name: 'غيري', patient_id: other.ref, code: /^\d{4}$/ }, 'the owner sees its code')

  const legacyView = await ok(legacy, '/api/booking_days?clinic_id=9050') as unknown as DaysBody
  t.same(legacyView.days, full.days, 'a legacy-mode server on the same data answers everything, as today')
})

t.test('strict mode: SSE sends a patient its redacted view and a secretary the full one', async (t) => {
  await createDays(9060)
  const me = await newPatient(strict)
  const other = await newPatient(strict)
  const secretary = await newSecretary(strict, 9060, admin.accessToken)
  await ok(strict, '/api/patient_booking', { token: me.token, body: { clinic_id: 9060, name: 'أنا', phone: '+9647700000020', date: day(3) } })

  const url = '/api/booking_days?clinic_id=9060&stream=true&timeout=60'
  const refused = await strict.openStream(url, { 'Doctor-Secret': SECRET })
  refused.close()
  t.equal(refused.status, 401, 'a stream needs the token too')

  const mine = await strict.openStream(url, { 'Doctor-Secret': SECRET, Authorization: `Bearer ${me.token}` })
  const staff = await strict.openStream(url, { 'Doctor-Secret': SECRET, Authorization: `Bearer ${secretary.token}` })
  const theirs = await strict.openStream(url, { 'Doctor-Secret': SECRET, Authorization: `Bearer ${other.token}` })
  t.teardown(() => { mine.close(); staff.close(); theirs.close() })

  type Payload = { clinic_id: number, days: DaysBody['days'], hash: string }
  const frame = async (stream: typeof mine, event: string): Promise<Payload> => {
    const found = await waitFor(`${event} frame`, async () => framesOf(stream.text()).find((f) => f.event === event))
    return JSON.parse(found.data) as Payload
  }
  t.match(entriesOf(await frame(mine, 'snapshot'), day(3))[0], { name: 'أنا', phone: '+9647700000020', patient_id: me.ref }, 'its own entry in full')
  t.match(entriesOf(await frame(theirs, 'snapshot'), day(3))[0], { name: '', phone: '', patient_id: '' }, 'hidden from another patient')
  t.match(entriesOf(await frame(staff, 'snapshot'), day(3))[0], { name: 'أنا' }, 'the secretary sees it')

  await ok(strict, '/api/patient_booking', { token: other.token, body: { clinic_id: 9060, name: 'غيري', phone: '+9647700000021', date: day(3) } })
  const [mineUpdate, staffUpdate, theirsUpdate] = await Promise.all([frame(mine, 'update'), frame(staff, 'update'), frame(theirs, 'update')])
  t.same(entriesOf(mineUpdate, day(3)).map((e) => e.name), ['أنا', ''], 'the patient: its own name only')
  t.same(entriesOf(theirsUpdate, day(3)).map((e) => e.name), ['', 'غيري'], 'the other patient: its own name only')
  t.same(entriesOf(staffUpdate, day(3)).map((e) => e.name), ['أنا', 'غيري'], 'the secretary: every name')
  t.same(entriesOf(staffUpdate, day(3)).map((e) => e.token), entriesOf(mineUpdate, day(3)).map((e) => e.token), 'the same seats for all')
  t.not(mineUpdate.hash, staffUpdate.hash, 'each view is hashed as sent')
})

t.test('strict mode: only the clinic\'s own secretary (or an admin) switches its doctor on or off', async (t) => {
  const admin = (await login(strict)).accessToken
  await ok(strict, '/doctor/profile', { body: { general_info: { clinic_id: 780, doctor_name: 'د. تبديل' } }, token: admin })
  const own = await newSecretary(strict, 780, admin)
  const other = await newSecretary(strict, 781, admin)
  const patient = await newPatient(strict)
  const body = { doctor_id: 780, is_active: false }
  t.equal((await call(strict, '/api/doctor/status', { body, token: patient.token })).status, 403, 'a patient may not')
  t.equal((await call(strict, '/api/doctor/status', { body, token: other.token })).status, 403, 'another clinic\'s secretary may not')
  t.equal((await call(strict, '/api/doctor/status', { body, token: own.token })).status, 200, 'the clinic\'s secretary may')
  t.equal((await call(strict, '/api/doctor/status', { body: { doctor_id: 780, is_active: true }, token: admin })).status, 200, 'an admin may')
})
