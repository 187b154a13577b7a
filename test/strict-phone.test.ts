import t from 'tap'
import postgres from 'postgres'
import { request, startDatabase, startServer, stats, waitFor, type Response } from './helpers/server.ts'
import { day } from './helpers/booking-api.ts'
import { login, withAdmin } from './helpers/admin.ts'
import { digests, SECRET } from './helpers/legacy-client.ts'
import { startFirebase } from './helpers/firebase.ts'

// AUTH_MODE=strict with verified phones (issue: phone login; contract.md §3): registration takes a Firebase ID token
// of the same phone, a doctor token acts on its own clinic only, a patient only cancels its own bookings, and a
// deactivated or deleted patient's or doctor's tokens stop on the next request, on every worker, with no query per
// request. A real cluster (two workers, the coordinator), a real database, a JWKS on loopback.

const db = await startDatabase({ statements: true })
const firebase = await startFirebase()
const server = await startServer({ workers: 2, env: withAdmin(db.url, { AUTH_MODE: 'strict', ...firebase.env }) })
const sql = postgres(db.url, { max: 2, onnotice: () => {} })
await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`
t.teardown(async () => {
  await server.cleanup()
  await sql.end()
  await db.destroy()
  await firebase.close()
})

type Json = Record<string, unknown>
const admin = (await login(server.url)).accessToken

interface Call { body?: unknown, token?: string | null, secret?: boolean, method?: string, headers?: Record<string, string> }
async function call (path: string, options: Call = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.secret !== false) headers['Doctor-Secret'] = SECRET
  if (typeof options.token === 'string') headers['Authorization'] = `Bearer ${options.token}`
  let body: string | undefined
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  return await request(`${server.url}${path}`, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body })
}
async function ok (path: string, options: Call = {}): Promise<Json> {
  const res = await call(path, options)
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`)
  return res.json()
}
const proof = async (phone: string): Promise<Record<string, string>> => ({ Authorization: `Bearer ${await firebase.idToken({ phone })}` })
function claimsOf (token: unknown): Json {
  return JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString()) as Json
}

let nextPhone = 9647706000000
async function newPatient (): Promise<{ ref: string, id: number, token: string }> {
  const phone = `+${nextPhone++}`
  const reg = await ok('/api/patient/register', { headers: await proof(phone), body: { user_uid: 'u', user_role: 'patient', phone_number: phone } })
  const ref = reg['user_server_id'] as string
  const token = reg['access_token'] as string
  await ok('/api/patient/profile', { token, body: { user_server_id: ref, patient_name: 'مراجع', phone_number: phone } })
  return { ref, id: Number(ref.slice(2)), token }
}

// Requests on fresh connections, so both workers answer some: the statuses of `n` of them.
async function statuses (n: number, path: string, token: string): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await call(path, { token })).status)
  return out
}

await ok('/api/create_table', { token: admin, body: { clinic_id: 8200, days: { [day(3)]: { capacity_total: 20 } } } })

t.test('registration takes a Firebase ID token of the very phone it registers; the secret alone buys no token', async (t) => {
  const before = await digests(sql, ['accounts'])
  const phone = '+9647706999001'
  const body = { user_uid: 'u', user_role: 'patient', phone_number: phone }
  const bare = await call('/api/patient/register', { body })
  t.same([bare.status, bare.json()], [401, { error: { code: 'unauthorized', message: 'Missing Bearer token' } }])
  const other = await call('/api/patient/register', { body, headers: await proof('+9647706999002') })
  t.same([other.status, other.json<{ error: { code: string } }>().error.code], [403, 'phone_mismatch'])
  const forged = await call('/api/patient/register', { body, headers: { Authorization: `Bearer ${await firebase.idToken({ phone, key: await firebase.otherKey() })}` } })
  t.equal(forged.status, 401)
  const viaAuth = await call('/auth/register', { body: { user_role: 'patient', phone_number: phone }, secret: false })
  t.equal(viaAuth.status, 401, '/auth/register too')
  t.same(await digests(sql, ['accounts']), before, 'no account created')

  const reg = await ok('/api/patient/register', { body, headers: await proof(phone) })
  t.match(claimsOf(reg['access_token']), { type: 'patient', sub: reg['user_server_id'], phv: true })
  t.equal((await call('/api/booking_days?clinic_id=8200', { token: reg['access_token'] as string })).status, 200)
})

t.test('a doctor token: its own clinic only; a doctor without a clinic may create one, nothing else', async (t) => {
  const phone = '+9647706888001'
  const reg = await ok('/auth/register', { secret: false, headers: await proof(phone), body: { user_role: 'doctor', phone_number: phone } })
  const fresh = reg['access_token'] as string
  t.match(claimsOf(fresh), { type: 'doctor', phv: true })
  t.notOk('clinic_id' in claimsOf(fresh), 'no clinic yet')

  await ok('/doctor/profile', { token: admin, secret: false, body: { general_info: { clinic_id: 8101, doctor_name: 'د. غيره' } } })
  const before = await digests(sql, ['clinics', 'accounts'])
  t.equal((await call('/doctor/profile', { token: fresh, body: { general_info: { clinic_id: 8101, doctor_name: 'استيلاء' } } })).status, 403, 'cannot take over an existing clinic')
  t.equal((await call('/api/create_table', { token: fresh, body: { clinic_id: 8101, days: { [day(3)]: { capacity_total: 5 } } } })).status, 403)
  const secretOnly = await call('/doctor/profile', { body: { general_info: { clinic_id: 8100 } } })
  t.equal(secretOnly.status, 401, 'the secret alone no longer writes a profile')
  t.same(await digests(sql, ['clinics', 'accounts']), before)

  const created = await ok('/doctor/profile', { token: fresh, body: { general_info: { clinic_id: 8100, doctor_name: 'د. هدى' } } })
  t.equal(created['message'], 'success')
  const own = created['access_token'] as string
  t.match(claimsOf(own), { type: 'doctor', clinic_id: 8100 }, 'a token for the clinic it just created')
  const [account] = await sql<Array<{ doctor_id: number, phone: string }>>`
    SELECT a.doctor_id, c.phone FROM accounts a JOIN clinics c ON c.id = a.doctor_id WHERE a.phone_number = ${phone}`
  t.same(account, { doctor_id: 8100, phone }, 'linked, with the verified phone as the login phone')
  const signIn = await ok('/auth/after-phone-login', { method: 'POST', secret: false, headers: await proof(phone) })
  t.equal(signIn['doctor_id'], 8100)

  t.equal((await call('/api/create_table', { token: own, body: { clinic_id: 8100, days: { [day(3)]: { capacity_total: 5 } } } })).status, 200, 'its own clinic: as its secretary may')
  t.equal((await call('/api/create_table', { token: own, body: { clinic_id: 8101, days: { [day(3)]: { capacity_total: 5 } } } })).status, 403, 'another clinic: no')
  t.equal((await call('/doctor/profile', { token: own, body: { general_info: { clinic_id: 8101 } } })).status, 403)
  t.equal((await call('/doctor/profile', { token: own, body: { general_info: { clinic_id: 8100, doctor_name: 'د. هدى علي' } } })).status, 200)
  t.equal((await call('/api/create_clinic_ad', { token: own, body: { clinic_id: 8100, ad_image_url: 'https://x/y.png', ad_state: 'كركوك' } })).status, 200, 'ads for its clinic')
  t.equal((await call('/api/create_clinic_ad', { token: own, body: { clinic_id: 8101, ad_image_url: 'https://x/y.png', ad_state: 'كركوك' } })).status, 403)
  const ad = (await ok('/api/get_ad_image?clinic_id=8100', { token: own }))['items'] as Json[]
  t.equal((await call('/api/toggle_ad_status', { token: own, body: { ad_ID: ad[0]?.['ad_ID'] } })).status, 403, 'activating an ad is the dashboard’s')
  t.equal((await call('/api/update_ad', { token: own, body: { ad_ID: ad[0]?.['ad_ID'], ad_status: true } })).status, 403, '… through update_ad too')
  t.equal((await call('/api/toggle_ad_status', { token: admin, body: { ad_ID: ad[0]?.['ad_ID'] } })).status, 200)
  t.equal((await call('/api/patients/all', { token: own })).status, 403)
  t.equal((await call('/api/doctor/status', { token: own, body: { doctor_id: 8100, is_active: true } })).status, 403, 'only an admin re-activates')
})

t.test("a deactivated doctor's token stops at once on every worker; only an admin brings the doctor back", async (t) => {
  const phone = '+9647706888001'
  const own = (await ok('/auth/after-phone-login', { method: 'POST', secret: false, headers: await proof(phone) }))['access_token'] as string
  const path = '/api/booking_days?clinic_id=8100' // its own clinic's queue
  t.same(await statuses(4, path, own), [200, 200, 200, 200])
  t.equal((await call('/api/doctor/status', { token: own, body: { doctor_id: 8100, is_active: false } })).status, 200, 'a doctor may switch itself off')
  const off = await statuses(8, path, own)
  t.same(off, Array(8).fill(401), 'the next request, on either worker')
  const refusal = await call(path, { token: own })
  t.equal(refusal.json<{ code: string }>().code, 'actor_unavailable')

  const profile = await call('/doctor/profile', { token: admin, secret: false, body: { general_info: { clinic_id: 8100, doctor_name: 'د. هدى', account_status: true } } })
  t.equal(profile.status, 200)
  t.equal((await sql<Array<{ status: string }>>`SELECT status FROM clinics WHERE id = 8100`)[0]?.status, 'active', "an admin's profile post re-activates")
  t.same(await statuses(4, path, own), [200, 200, 200, 200], 'the same token works again')

  await ok('/api/doctors/8100/status', { method: 'PATCH', token: admin, secret: false, body: { active: false } })
  t.same(await statuses(4, path, own), [401, 401, 401, 401], 'the dashboard’s switch too')
  await ok('/api/doctor/status', { token: admin, body: { doctor_id: 8100, is_active: true } })
  t.same(await statuses(2, path, own), [200, 200])
})

t.test("a deactivated or deleted patient's token stops at once, with no query per request while standing", async (t) => {
  const patient = await newPatient()
  const path = '/api/booking_days?clinic_id=8200'
  const standingQueries = async (): Promise<number> => {
    const [row] = await sql<Array<{ calls: string | null }>>`SELECT sum(calls)::text AS calls FROM pg_stat_statements WHERE query LIKE '%FROM revoked_actors WHERE key%'`
    return Number(row?.calls ?? 0)
  }
  await statuses(2, path, patient.token)
  const before = await standingQueries()
  t.same(await statuses(20, path, patient.token), Array(20).fill(200))
  t.equal(await standingQueries(), before, '20 requests, no standing query: the workers hold the set')

  await ok('/api/patient/status', { token: admin, body: { patient_id: patient.ref, is_active: false } })
  t.same(await statuses(8, path, patient.token), Array(8).fill(401), 'deactivated: refused on the next request, on either worker')
  const again = await ok('/api/patient/register', { headers: await proof(`+${nextPhone - 1}`), body: { user_uid: 'u', user_role: 'patient', phone_number: `+${nextPhone - 1}` } })
  t.equal((await call(path, { token: again['access_token'] as string })).status, 401, 'a new token of a deactivated patient is refused too')
  await ok('/api/patient/status', { token: admin, body: { patient_id: patient.ref, is_active: true } })
  t.same(await statuses(4, path, patient.token), Array(4).fill(200), 're-activated: the token stands again')

  t.equal((await call(`/api/patient/${patient.ref}`, { method: 'DELETE', token: patient.token })).status, 200)
  t.same(await statuses(4, path, patient.token), Array(4).fill(401), 'deleted: its tokens end with it')
})

t.test('while the coordinator is down, a worker reads the rows: a deactivation made then still stops the token', async (t) => {
  const patient = await newPatient()
  const path = '/api/booking_days?clinic_id=8200'
  t.same(await statuses(2, path, patient.token), [200, 200])
  const coordinator = (await stats(server)).coordinator
  if (coordinator === null) throw new Error('no coordinator')
  process.kill(coordinator.pid, 'SIGKILL')
  // "Down" as the workers see it: from the moment their socket reports the close. A request that got in before that
  // (rate limits are spent from leases now, so nothing crosses the dead socket first) still trusts the copy it has.
  await waitFor('both workers to see the coordinator gone', async () => {
    const seen = await Promise.all([stats(server), stats(server), stats(server), stats(server)])
    return seen.every((s) => s.coordinator === null) ? true : null
  }, 20_000, 5)
  await sql`UPDATE patient_profiles SET is_active = false WHERE account_id = ${patient.id}`
  const seen = await statuses(6, path, patient.token)
  t.same(seen, Array(6).fill(401), `never a stale 200 (${seen.join(', ')})`)
  await waitFor('a new coordinator', async () => {
    const now = (await stats(server)).coordinator
    return now !== null && now.pid !== coordinator.pid ? now : null
  }, 20_000)
  t.same(await statuses(4, path, patient.token), Array(4).fill(401), 'and after it is back, from its reload')
  await sql`UPDATE patient_profiles SET is_active = true WHERE account_id = ${patient.id}`
  await waitFor('the reload that re-admits it', async () => (await call(path, { token: patient.token })).status === 200 ? true : null, 40_000, 500)
})

t.test('a patient may cancel its own booking, and set no other status', async (t) => {
  const patient = await newPatient()
  const booked = await ok('/api/patient_booking', { token: patient.token, body: { clinic_id: 8200, name: 'أنا', phone: '+9647700000001', date: day(3) } })
  for (const status of ['served', 'in_progress', 'تمت المعاينة', 'no_show', 'booked']) {
    const res = await call('/api/edit_patient_booking', { token: patient.token, body: { clinic_id: 8200, booking_id: booked['booking_id'], status } })
    t.equal(res.status, 403, status)
  }
  const cancelled = await call('/api/edit_patient_booking', { token: patient.token, body: { clinic_id: 8200, booking_id: booked['booking_id'], status: 'cancelled' } })
  t.equal(cancelled.status, 200)
})
