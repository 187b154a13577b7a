import t from 'tap'
import { EventSource } from 'eventsource'
import { archivePastDays } from '../src/booking/archive.ts'
import { request, startDatabase, startServer, waitFor } from './helpers/server.ts'
import { connect } from './helpers/legacy-client.ts'
import { appHeaders, bookingApi, day, type DaysBody } from './helpers/booking-api.ts'

// A queue's screens must never keep showing a day that is gone. When the last live day of a lane is closed
// (close_table) or archived (the nightly run), the JSON route answers 404 (legacy), and every SSE viewer, on every
// worker, gets an `update` with no days; the stream stays, so the next day created shows up on it. Watched with a
// standard EventSource client (the `eventsource` package, WHATWG semantics), as a browser or an app would.

const db = await startDatabase()
t.teardown(db.destroy)
const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url } })
t.teardown(server.cleanup)
const sql = connect(db.url)
t.teardown(() => sql.end())
const api = bookingApi(server)

interface Viewer {
  source: EventSource
  frames: Array<{ type: string, id: string, days: Record<string, unknown> }>
}

function watch (lane: 'regular' | 'golden', clinicId: number): Viewer {
  const path = lane === 'regular' ? '/api/booking_days' : '/api/booking_golden_days'
  const source = new EventSource(`${server.url}${path}?clinic_id=${clinicId}&stream=true&timeout=600`, {
    fetch: async (url, init) => await fetch(url, { ...init, headers: { ...init.headers, 'Doctor-Secret': appHeaders['Doctor-Secret'] as string } })
  })
  const viewer: Viewer = { source, frames: [] }
  for (const type of ['snapshot', 'update']) {
    source.addEventListener(type, (event) => {
      viewer.frames.push({ type, id: event.lastEventId, days: (JSON.parse(event.data) as DaysBody).days })
    })
  }
  return viewer
}

// Subscribers per worker, from /stats: the test wants viewers on both, so a change made through one worker must
// reach the other's through the coordinator.
async function subscribersPerWorker (): Promise<number[]> {
  const stats = (await request(`${server.url}/stats`)).json<{ workers: Array<{ sse: { subscribers: number } }> }>()
  return stats.workers.map((w) => w.sse.subscribers)
}

async function viewersOnBothWorkers (lane: 'regular' | 'golden', clinicId: number): Promise<Viewer[]> {
  const viewers: Viewer[] = []
  t.teardown(() => { for (const v of viewers) v.source.close() })
  const before = await subscribersPerWorker()
  for (let i = 0; i < 40; i++) {
    viewers.push(watch(lane, clinicId))
    if (viewers.length < 4) continue
    await waitFor('the snapshots', async () => viewers.every((v) => v.frames.length > 0), 20_000)
    const now = await subscribersPerWorker()
    if (now.length === 2 && now.every((n, w) => n > (before[w] ?? 0))) return viewers
  }
  throw new Error(`viewers never reached both workers: ${JSON.stringify(await subscribersPerWorker())}`)
}

const last = (viewer: Viewer) => viewer.frames[viewer.frames.length - 1]

t.test('closing the last day sends every viewer, on both workers, an update with no days', async (t) => {
  await api.post('/api/create_table', { clinic_id: 801, days: { [day(2)]: { capacity_total: 5 } } })
  const viewers = await viewersOnBothWorkers('regular', 801)
  t.ok(viewers.every((v) => v.frames[0]?.type === 'snapshot' && day(2) in (v.frames[0]?.days ?? {})), 'each saw the day first')
  const snapshotId = Number(viewers[0]?.frames[0]?.id)

  const closed = await api.post('/api/close_table', { clinic_id: 801, date: day(2) })
  t.same(closed.json(), { status: 'تم إغلاق وحفظ اليوم في الأرشيف، وحذف القائمة بالكامل', removed_all: true })
  await waitFor('the empty update on every viewer', async () => viewers.every((v) => last(v)?.type === 'update' && Object.keys(last(v)?.days ?? { x: 1 }).length === 0))
  for (const viewer of viewers) {
    t.ok(Number(last(viewer)?.id) > snapshotId, `versioned after the snapshot (${last(viewer)?.id} > ${snapshotId})`)
    t.equal(viewer.source.readyState, EventSource.OPEN, 'and the stream stays open')
  }
  t.equal((await api.get('/api/booking_days?clinic_id=801')).status, 404, 'the JSON route answers 404, as legacy')

  await api.post('/api/create_table', { clinic_id: 801, days: { [day(3)]: { capacity_total: 5 } } })
  await waitFor('the new day on every viewer', async () => viewers.every((v) => last(v)?.type === 'update' && day(3) in (last(v)?.days ?? {})))
  t.pass('a day created later arrives on the same streams')
})

t.test('the nightly archive of the last day reaches the viewers too (golden lane)', async (t) => {
  const yesterday = day(-1)
  await api.post('/api/create_golden_table', { clinic_id: 802, days: { [yesterday]: { capacity_total: 5 } } })
  const viewers = await viewersOnBothWorkers('golden', 802)
  // The nightly run, as another instance's coordinator would run it: its NOTIFY is what the workers hear of.
  const result = await archivePastDays(sql)
  t.ok(result.changes.some((c) => c.clinicId === 802 && c.lane === 'golden'))
  await waitFor('the empty update on every viewer', async () => viewers.every((v) => last(v)?.type === 'update' && Object.keys(last(v)?.days ?? { x: 1 }).length === 0))
  t.pass(`${viewers.length} viewers told`)
})
