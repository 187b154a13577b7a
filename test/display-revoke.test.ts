import t from 'tap'
import { startStack } from './helpers/stack.ts'
import { waitFor } from './helpers/server.ts'
import { appHeaders, framesOf, today, type OpenStream } from './helpers/booking-api.ts'
import type { Target } from './helpers/client.ts'

// Revoking a waiting-room screen's key cuts the screens open on it at once (issue 15.4): on every worker of this
// instance and on another instance sharing the database, while the clinic's other screens stay and keep getting
// updates. Real processes: 2 workers and a coordinator, plus a second instance (1 worker) that hears it by NOTIFY.

const { app: server, launch } = await startStack(t, { mode: 'cluster', workers: 2 })
const other = await launch(t, { DB_POOL_BUDGET: '6' }, { workers: 1 })

async function post (base: Target, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await base.request(path, { method: 'POST', headers: appHeaders, body: JSON.stringify(body) })
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`)
  return res.json()
}

t.test('a revoked key ends its open screens everywhere; the other key\'s screens stay live', async (t) => {
  await post(server, '/api/create_table', { clinic_id: 1901, days: { [today]: { capacity_total: 10 } } })
  const first = await post(server, '/api/patient_booking', { clinic_id: 1901, name: 'مريض ١', phone: '+9647700000001', source: 'secretary_app', date: today })
  await post(server, '/api/patient_booking', { clinic_id: 1901, name: 'مريض ٢', phone: '+9647700000002', source: 'secretary_app', date: today })
  const revoked = await post(server, '/api/display_keys', { clinic_id: 1901, label: 'الصالة' })
  const kept = await post(server, '/api/display_keys', { clinic_id: 1901, label: 'الاستقبال' })

  const open = async (base: Target, key: unknown): Promise<OpenStream> => {
    const stream = await base.openStream(`/display/1901/feed?key=${key as string}&stream=true`)
    t.teardown(() => stream.close())
    t.equal(stream.status, 200)
    return stream
  }
  // Each stream on a fresh connection, so the two workers of the first instance both hold screens of each key.
  const doomed = [
    ...await Promise.all(Array.from({ length: 8 }, async () => await open(server, revoked['key']))),
    ...await Promise.all(Array.from({ length: 2 }, async () => await open(other, revoked['key'])))
  ]
  const staying = [
    ...await Promise.all(Array.from({ length: 4 }, async () => await open(server, kept['key']))),
    await open(other, kept['key'])
  ]
  const all = [...doomed, ...staying]
  await waitFor('every screen\'s snapshot', async () => all.every((s) => framesOf(s.text()).some((f) => f.event === 'snapshot')), 30_000)

  await post(server, '/api/display_keys/revoke', { clinic_id: 1901, id: revoked['id'] })
  await waitFor('the revoked key\'s screens to end', async () => doomed.every((s) => s.ended()), 30_000, 20)
  for (const [i, stream] of doomed.entries()) {
    t.same(framesOf(stream.text()).at(-1), { event: 'bye', id: null, data: 'revoked' }, `screen ${i + 1} of the revoked key was told why (${i < 8 ? 'this' : 'the other'} instance)`)
  }
  t.ok(staying.every((s) => !s.ended()), 'the other key\'s screens are still open')

  await post(server, '/api/edit_patient_booking', { clinic_id: 1901, booking_id: first['booking_id'], status: 'in_progress' })
  await waitFor('the call on the remaining screens', async () => staying.every((s) => framesOf(s.text()).some((f) => f.event === 'update' && f.data.includes('"now_serving":1'))), 30_000)
  t.pass('and they show the next call')

  const reconnect = await server.request(`/display/1901/feed?key=${revoked['key'] as string}&stream=true`)
  t.equal(reconnect.status, 403, 'the revoked screen\'s reconnect is refused')
  t.equal((await other.request(`/display/1901?key=${revoked['key'] as string}`)).status, 403, 'on the other instance too')
})
