import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { patientToken } from '../src/auth/actors.ts'
import { loadConfig } from '../src/config.ts'
import { startStack } from './helpers/stack.ts'
import { waitFor } from './helpers/server.ts'
import { client, ok } from './helpers/client.ts'
import { today } from './helpers/booking-api.ts'
import { startFcm } from './helpers/fcm.ts'

// Push when the turn is near (issue 15.5): FCM's HTTP v1 API with a service account's signed JWT, against a stand-in
// on loopback that checks the assertion, the Bearer token and the message's shape. Two instances share the database
// (each its own coordinator, hearing the other's changes through NOTIFY), and every notification still arrives once.

const fcm = await startFcm()
t.teardown(fcm.close)
const { api, sql, launch } = await startStack(t, { mode: 'in-process', env: fcm.env })
await launch(t, fcm.env) // the second instance: it hears every change too, and must not send twice
const unconfigured = await launch(t, { FCM_SERVICE_ACCOUNT: '', FCM_ENDPOINT: '' })
const strict = await launch(t, { AUTH_MODE: 'strict', FCM_SERVICE_ACCOUNT: '' })

const setStatus = (bookingId: string, status: string) =>
  ok(api.post('/api/edit_patient_booking', { clinic_id: 1901, booking_id: bookingId, status }), `${status} ${bookingId}`)
const register = (patientId: string, deviceToken: string, threshold?: number) =>
  ok(api.post('/api/patient/device', { patient_id: patientId, device_token: deviceToken, ...(threshold === undefined ? {} : { threshold }) }), 'device')
const sentTo = (device: string) => fcm.received.filter((m) => m.token === device).map((m) => m.data['event'])

t.test('near at the threshold, and when called: each once, across two instances', async (t) => {
  await ok(api.post('/api/create_table', { clinic_id: 1901, days: { [today]: { capacity_total: 20 } } }), 'create_table')
  const ids: string[] = []
  for (let i = 1; i <= 6; i++) {
    ids.push((await ok(api.post('/api/patient_booking', {
      clinic_id: 1901, name: `مريض ${i}`, phone: '+9647700000002', source: 'secretary_app', date: today, patient_id: `P-19010${i}`
    }), 'booking'))['booking_id'] as string)
  }
  t.match(await register('P-190102', 'device-2'), { patient_id: 'P-190102', threshold: 3, push_enabled: true })
  await register('P-190106', 'device-6', 2)

  // The next change of the lane finds the second patient within its threshold (one waiting before it, or none once
  // the first is called in: whichever change a coordinator looks at first).
  await setStatus(ids[0] as string, 'in_progress')
  await waitFor('the first near', async () => fcm.received.length === 1, 60_000)
  const near = fcm.received[0]
  t.match(near?.data, { event: 'near', booking_id: ids[1], token: '2', clinic_id: '1901', lane: 'regular', ahead: /^[01]$/ })
  t.match(near?.notification, { title: 'اقترب دورك', body: /^رقمك 2: (أنت التالي|أمامك 1 من المراجعين)$/ })

  await setStatus(ids[0] as string, 'served')
  await setStatus(ids[1] as string, 'in_progress')
  await waitFor('called', async () => sentTo('device-2').includes('called'), 60_000)
  t.same(fcm.received[1]?.notification, { title: 'حان دورك', body: 'الرقم 2: تفضّل بالدخول إلى الطبيب' })
  t.same(sentTo('device-6'), [], 'three still wait before the sixth: above its threshold of 2')

  await setStatus(ids[2] as string, 'cancelled')
  await waitFor('the sixth is near now', async () => sentTo('device-6').length === 1, 60_000)
  t.match(fcm.received.find((m) => m.token === 'device-6')?.data, { event: 'near', token: '5', ahead: '2' }, 'renumbered: token 5, two ahead')

  // More changes that owe nothing new: nothing more is sent, by either instance.
  await setStatus(ids[1] as string, 'served')
  await setStatus(ids[3] as string, 'no_show')
  await sleep(1500)
  t.same(sentTo('device-2'), ['near', 'called'], 'device 2: once each')
  t.same(sentTo('device-6'), ['near'], 'device 6: once')
  const rows = await sql<Array<{ state: string, n: number }>>`SELECT state, count(*)::int AS n FROM push_deliveries GROUP BY state`
  t.same(rows, [{ state: 'sent', n: 3 }])
  t.same(fcm.refused, [], 'every request had a valid assertion, token and shape')
  t.ok(fcm.tokensIssued() <= 2, `one access token per instance, reused (${fcm.tokensIssued()})`)
})

t.test('an overloaded FCM is retried with back-off until it takes the message', async (t) => {
  fcm.failNext(2)
  await register('P-190105', 'device-5')
  // Any change of the lane: the fifth (token 4 now) has one waiting before it.
  await ok(api.post('/api/patient_booking', { clinic_id: 1901, name: 'متأخر', phone: '+9647700000002', source: 'secretary_app', date: today }), 'walk-in')
  await waitFor('the retried message', async () => sentTo('device-5').length === 1, 60_000)
  // The delivery is marked sent once FCM's answer is back, a moment after FCM has the message.
  const row = await waitFor('the delivery to be marked', async () => {
    const [found] = await sql<Array<{ state: string, attempts: number, last_error: string | null }>>`
      SELECT state, attempts, last_error FROM push_deliveries WHERE device_token = 'device-5'`
    return found !== undefined && found.state !== 'pending' ? found : null
  }, 10_000)
  t.same(row, { state: 'sent', attempts: 3, last_error: null }, 'two 503s, then sent')
  t.same(fcm.refused.map((r) => r.status), [503, 503])
})

t.test('without credentials push is off, and /health says so', async (t) => {
  const on = (await ok(api.get('/health'), 'health'))['checks'] as Record<string, Record<string, unknown>>
  t.match(on['push'], { status: 'ok', configured: true, project_id: 'tabeby-test' })
  const off = (await ok(client(unconfigured).get('/health'), 'health'))['checks'] as Record<string, Record<string, unknown>>
  t.match(off['push'], { status: 'disabled', configured: false })
  t.match(await ok(client(unconfigured).post('/api/patient/device', { patient_id: 'P-1', device_token: 'x' }), 'device'), { push_enabled: false })
})

t.test('FCM_SERVICE_ACCOUNT: a service-account key as JSON or base64; anything else stops the start, naming it', async (t) => {
  const key = JSON.parse(Buffer.from(fcm.env['FCM_SERVICE_ACCOUNT'] as string, 'base64').toString()) as Record<string, string>
  t.match(loadConfig({ FCM_SERVICE_ACCOUNT: JSON.stringify(key) }).fcmServiceAccount, { projectId: 'tabeby-test', clientEmail: key['client_email'] })
  t.equal(loadConfig({}).fcmServiceAccount, null)
  t.equal(loadConfig({}).fcmEndpoint, 'https://fcm.googleapis.com')
  for (const bad of ['not json', Buffer.from('{"a":1}').toString('base64'), JSON.stringify({ ...key, private_key: 'x' }), JSON.stringify({ ...key, token_uri: 'ftp://x' })]) {
    t.throws(() => loadConfig({ FCM_SERVICE_ACCOUNT: bad }), /^FCM_SERVICE_ACCOUNT:/, bad.slice(0, 30))
  }
  t.throws(() => loadConfig({ FCM_ENDPOINT: 'gopher://x' }), /^FCM_ENDPOINT:/)
  t.throws(() => loadConfig({ QUEUE_DEFAULT_SERVICE_MINUTES: '0' }), /^QUEUE_DEFAULT_SERVICE_MINUTES:/)
})

t.test('devices: bad input gets a 422; in strict mode a patient registers its own phone only', async (t) => {
  for (const body of [{}, { patient_id: 'P-1' }, { patient_id: 'P-1', device_token: '' }, { patient_id: 'P-1', device_token: 'x', threshold: 0 },
    { patient_id: 'P-1', device_token: 'x', threshold: 51 }, { patient_id: 'P-1', device_token: 'x', threshold: '3' }, { device_token: 'x' },
    { patient_id: 'P-1', device_token: 'x'.repeat(4097) }]) {
    t.equal((await api.post('/api/patient/device', body)).status, 422, JSON.stringify(body).slice(0, 80))
  }
  const strictApi = client(strict)
  const mine = patientToken(strict.config.jwtSecret, 4242, true)
  t.match(await ok(strictApi.post('/api/patient/device', { device_token: 'phone-4242' }, { token: mine }), 'own'), { patient_id: 'P-4242' }, 'its own id, from the token')
  t.equal((await strictApi.post('/api/patient/device', { patient_id: 'P-4243', device_token: 'phone-x' }, { token: mine })).status, 403, "another patient's")
  t.equal((await strictApi.post('/api/patient/device', { device_token: 'phone-y' })).status, 401, 'no token')
})
