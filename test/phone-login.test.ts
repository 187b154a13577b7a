import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { FirebaseVerifier, KeysUnavailable } from '../src/auth/firebase.ts'
import { digests } from './helpers/legacy-client.ts'
import { startStack } from './helpers/stack.ts'
import { ISSUER, PROJECT_ID, startFirebase } from './helpers/firebase.ts'

// POST /auth/after-phone-login (legacy-api.md §2.1) verifies a Firebase ID token as Firebase documents it, against a
// JWKS served here on loopback by our own token issuer (test/helpers/firebase.ts): nothing leaves the machine.

const firebase = await startFirebase()
t.teardown(firebase.close)
const { sql, api, app: server } = await startStack(t, { mode: 'in-process', env: firebase.env })

type Json = Record<string, unknown>
const DOCTOR_PHONE = '+9647701112233'

async function login (token: string | null): Promise<{ status: number, body: Json }> {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` }
  const res = await server.request('/auth/after-phone-login', { method: 'POST', headers })
  return { status: res.status, body: res.json() }
}

function claimsOf (token: unknown): Json {
  return JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString()) as Json
}

// A doctor whose profile names its login phone (wrapped mode), and no phone account for it yet.
await api.post('/doctor/profile', { phone: DOCTOR_PHONE, json_profile: { general_info: { clinic_id: 31, doctor_name: 'د. ليلى' } } })

t.test('/health says phone sign-in is configured, without asking Google', async (t) => {
  const hits = firebase.hits()
  const body = (await server.request('/health')).json<{ checks: { phone_login: Json } }>()
  t.match(body.checks.phone_login, { status: 'ok', configured: true, project_id: PROJECT_ID })
  t.equal(firebase.hits(), hits, 'no key fetch for a health check')
})

t.test('a verified phone signs its doctor in: the legacy answer, a doctor token, the account linked', async (t) => {
  const { status, body } = await login(await firebase.idToken({ phone: DOCTOR_PHONE, sub: 'uid-leila' }))
  t.equal(status, 200)
  t.same(Object.keys(body), ['doctor_id', 'status', 'phone', 'access_token', 'token_type'])
  t.match(body, { doctor_id: 31, status: 'phone_verified', phone: DOCTOR_PHONE, token_type: 'bearer' })
  t.match(claimsOf(body['access_token']), { type: 'doctor', clinic_id: 31, phv: true })
  const [account] = await sql<Array<{ id: number, user_role: string, doctor_id: number, user_uid: string }>>`
    SELECT id, user_role, doctor_id, user_uid FROM accounts WHERE phone_number = ${DOCTOR_PHONE}`
  t.match(account, { user_role: 'doctor', doctor_id: 31, user_uid: 'uid-leila' }, 'a doctor account, linked, for the phone')
  t.equal(claimsOf(body['access_token'])['sub'], String(account?.id))
  const again = await login(await firebase.idToken({ phone: DOCTOR_PHONE }))
  t.equal(again.body['doctor_id'], 31, 'signing in again finds the linked doctor')
})

t.test('a forged, expired, wrong-audience, wrong-issuer or unknown-key token is a 401 and creates nothing', async (t) => {
  const phone = '+9647709990001'
  await api.post('/doctor/profile', { phone, json_profile: { general_info: { clinic_id: 32, doctor_name: 'د. سامي' } } })
  const before = await digests(sql, ['accounts', 'clinics'])
  const now = Math.floor(Date.now() / 1000)
  const good = await firebase.idToken({ phone })
  const [head, payload] = good.split('.') as [string, string, string]
  const tampered = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Json
  tampered['phone_number'] = DOCTOR_PHONE
  const cases: Array<[string, string, RegExp]> = [
    ['forged: signed by a key Google never published, under its kid', await firebase.idToken({ phone, key: await firebase.otherKey() }), /signature/],
    ['a payload changed after signing', `${head}.${Buffer.from(JSON.stringify(tampered)).toString('base64url')}.${good.split('.')[2] ?? ''}`, /signature/],
    ['expired', await firebase.idToken({ phone, iat: now - 7200, exp: now - 3600, authTime: now - 7200 }), /expired/],
    ['wrong audience', await firebase.idToken({ phone, aud: 'another-project' }), /aud/],
    ['wrong issuer', await firebase.idToken({ phone, iss: 'https://securetoken.google.com/another-project' }), /iss/],
    ['an issuer that is not Google', await firebase.idToken({ phone, iss: 'https://evil.example/tabeby-test' }), /iss/],
    ['an unknown key', await firebase.idToken({ phone, kid: 'not-a-published-kid' }), /unknown key/],
    ['issued in the future', await firebase.idToken({ phone, iat: now + 3600, authTime: now }), /future|iat/],
    ['signed in the future', await firebase.idToken({ phone, authTime: now + 3600 }), /auth_time/],
    ['another algorithm', await firebase.idToken({ phone, alg: 'RS384' }), /algorithm/],
    ['not a token at all', 'not.a.token', /malformed/],
    ['alg none', `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`, /algorithm|malformed/]
  ]
  for (const [what, token, reason] of cases) {
    const { status, body } = await login(token)
    t.equal(status, 401, what)
    const error = (body['error'] ?? {}) as Json
    t.equal(error['code'], 'unauthorized', what)
    t.match(error['message'], /^Token invalid: /, what)
    t.match(error['message'], reason, what)
  }
  const missing = await login(null)
  t.same([missing.status, missing.body], [401, { error: { code: 'unauthorized', message: 'Missing Bearer token' } }])
  t.same(await digests(sql, ['accounts', 'clinics']), before, 'no account created, no doctor linked')
})

t.test('a verified token without a usable phone, or a phone no doctor has, answers as legacy', async (t) => {
  const before = await digests(sql, ['accounts'])
  const noPhone = await login(await firebase.idToken({ phone: null }))
  t.same([noPhone.status, noPhone.body], [400, { error: { code: 'bad_request', message: 'No phone_number in token' } }])
  const notE164 = await login(await firebase.idToken({ phone: 'call me' }))
  t.same([notE164.status, notE164.body], [400, { error: { code: 'bad_request', message: 'phone_number not E.164' } }])
  const stranger = await login(await firebase.idToken({ phone: '+9647700000999' }))
  t.same([stranger.status, stranger.body], [404, { error: { code: 'not_found', message: 'Doctor not found for this phone' } }])
  t.same(await digests(sql, ['accounts']), before)
})

t.test('the signing keys are fetched once and kept for the max-age Google sends', async (t) => {
  const other = await startFirebase({ maxAgeSeconds: 1 })
  t.teardown(other.close)
  const verifier = new FirebaseVerifier(PROJECT_ID, other.jwksUrl)
  for (let i = 0; i < 5; i++) t.ok((await verifier.verify(await other.idToken())).ok)
  t.equal(other.hits(), 1, 'five verifications, one fetch')
  await sleep(1200)
  t.ok((await verifier.verify(await other.idToken())).ok)
  t.equal(other.hits(), 2, 'fetched again once max-age ran out')
  const unknown = await verifier.verify(await other.idToken({ kid: 'rotated' }))
  t.same(unknown, { ok: false, reason: 'signed by an unknown key' })
  t.equal(other.hits(), 2, 'a key we do not hold, right after a fetch: no new fetch (forged kids cannot hammer Google)')
  t.equal(verifier.keyFetches, 2)
  t.equal(ISSUER, `https://securetoken.google.com/${PROJECT_ID}`)

  const down = new FirebaseVerifier(PROJECT_ID, 'http://127.0.0.1:9/keys')
  await t.rejects(down.verify(await other.idToken()), KeysUnavailable, 'no keys at all: no verdict on the token either')
})

t.test('a server without FIREBASE_PROJECT_ID says so: 503 for phone sign-in, and /health', async (t) => {
  const { app: plain } = await startStack(t, { mode: 'in-process' })
  const res = await plain.request('/auth/after-phone-login', { method: 'POST', headers: { Authorization: `Bearer ${await firebase.idToken()}` } })
  t.equal(res.status, 503)
  t.same(res.json(), { error: { code: 'phone_login_unconfigured', message: 'phone verification is not configured on this server' } })
  const health = (await plain.request('/health')).json<{ checks: { phone_login: Json } }>()
  t.match(health.checks.phone_login, { status: 'disabled', configured: false })
})
