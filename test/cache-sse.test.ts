import t from 'tap'
import { connect } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Target } from './helpers/client.ts'
import { waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'
import { appHeaders, day, framesOf, inBatches, type DaysBody, type OpenStream } from './helpers/booking-api.ts'

// The shared cache and the live updates, against two workers and a PostgreSQL that counts what it runs
// (pg_stat_statements): reads and idle viewers must cost the database (almost) nothing.

const { app: server, sql, launch } = await startStack(t, { mode: 'cluster', workers: 2, statements: true, env: { DB_POOL_BUDGET: '24' } })
await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`

const post = (base: Target, path: string, body: unknown) =>
  base.request(path, { method: 'POST', headers: appHeaders, body: JSON.stringify(body) })
const readDays = (base: Target, clinicId: number, headers: Record<string, string> = {}) =>
  base.request(`/api/booking_days?clinic_id=${clinicId}`, { headers: { ...appHeaders, ...headers } })

// How many times the server rendered a clinic's days from the database: the one query that reads every day row.
async function daysQueries (): Promise<number> {
  const [row] = await sql<Array<{ n: number }>>`
    SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements
    WHERE query LIKE '%capacity_total, active_count, extra%FROM booking_days%'`
  return row?.n ?? 0
}

async function book (base: Target, clinicId: number, date: string, patient: string): Promise<string> {
  const res = await post(base, '/api/patient_booking', { clinic_id: clinicId, name: `مريض ${patient}`, phone: '+9647700000000', patient_id: patient, date, source: 'secretary_app' })
  if (res.status !== 200) throw new Error(`booking failed: ${res.status} ${res.text}`)
  return res.json<{ booking_id: string }>().booking_id
}

t.test('booking_days comes from the shared cache, with ETag/304 and gzip/brotli made once', async (t) => {
  await post(server, '/api/create_table', { clinic_id: 401, days: { [day(2)]: { capacity_total: 50 } } })
  for (let i = 0; i < 30; i++) await book(server, 401, day(2), `P-${i}`)
  const cacheBytes = async (): Promise<number> => (await server.request('/cache/stats')).json<{ cache: { bytes: number } }>().cache.bytes
  const bytesBefore = await cacheBytes()
  const first = await readDays(server, 401)
  const etag = first.headers.etag as string
  t.match(etag, /^"r401-\d+"$/)
  // The fill is a notification: it may land just after the answer.
  const stored = await waitFor('the fill to land', async () => { const b = await cacheBytes(); return b > bytesBefore ? b - bytesBefore : null })
  t.ok(stored < Buffer.byteLength(first.text) / 2, `the shared cache keeps the compressed forms only: ${stored} bytes for a ${Buffer.byteLength(first.text)}-byte document`)
  const before = await daysQueries()
  const again = await Promise.all(Array.from({ length: 20 }, () => readDays(server, 401)))
  t.ok(again.every((r) => r.text === first.text), 'the same bytes on every worker')
  t.equal(await daysQueries(), before, 'no database read for a cached clinic')
  const notModified = await readDays(server, 401, { 'If-None-Match': etag })
  t.equal(notModified.status, 304)
  const zipped = await new Promise<Buffer>((resolve, reject) => {
    void import('node:http').then(({ get }) => get(`${server.url}/api/booking_days?clinic_id=401`, { headers: { ...appHeaders, 'Accept-Encoding': 'gzip' } }, (res) => {
      t.equal(res.headers['content-encoding'], 'gzip')
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject)
    }))
  })
  t.ok(zipped.length < first.text.length / 3, `gzip: ${zipped.length} bytes for ${Buffer.byteLength(first.text)}`)
  t.equal(gunzipSync(zipped).toString(), first.text, 'and it is the same document')
})

t.test('200 concurrent cold reads of one clinic, spread over the workers, cause one database read', async (t) => {
  await post(server, '/api/create_table', { clinic_id: 402, days: { [day(2)]: { capacity_total: 20 } } })
  await book(server, 402, day(2), 'P-1')
  await sql`SELECT pg_stat_statements_reset()`
  const answers = await Promise.all(Array.from({ length: 200 }, () => readDays(server, 402)))
  t.ok(answers.every((a) => a.status === 200))
  t.equal(new Set(answers.map((a) => a.text)).size, 1, 'all got the same state')
  t.equal(await daysQueries(), 1, 'single flight across the instance')
})

t.test('1,000 reads of a hot clinic cost at most 5 database reads', async (t) => {
  await sql`SELECT pg_stat_statements_reset()`
  await inBatches(Array.from({ length: 1000 }, () => () => readDays(server, 401)), 25)
  const queries = await daysQueries()
  t.ok(queries <= 5, `${queries} database reads for 1,000 requests (the legacy note: 200-300)`)
})

t.test('a read that starts after a write was answered sees the write, on any worker', async (t) => {
  await post(server, '/api/create_table', { clinic_id: 403, days: { [day(3)]: { capacity_total: 100 } } })
  await readDays(server, 403) // warm both the shared cache and the workers' own copies
  let stale = 0
  for (let i = 0; i < 40; i++) {
    const bookingId = await book(server, 403, day(3), `P-${i}`)
    const seen = (await readDays(server, 403)).json<DaysBody>().days[day(3)]?.patients.some((p) => p.booking_id === bookingId)
    if (seen !== true) stale++
  }
  t.equal(stale, 0, 'no read after a 200 missed its booking')
})

t.test('live updates: 500 idle subscribers cost no query; one booking reaches all of them', async (t) => {
  await post(server, '/api/create_table', { clinic_id: 404, days: { [day(2)]: { capacity_total: 50 } } })
  const streams: OpenStream[] = await inBatches(Array.from({ length: 500 }, () => () =>
    server.openStream('/api/booking_days?clinic_id=404&stream=true&heartbeat=15&timeout=120', appHeaders)), 50)
  t.teardown(() => { for (const s of streams) s.close() })
  await waitFor('every snapshot', async () => streams.every((s) => framesOf(s.text()).some((f) => f.event === 'snapshot')), 20_000, 100)
  const subscribers = await waitFor('/stats to count them', async () => {
    const stats = (await server.request('/stats')).json<{ sse: { subscribers: number } }>()
    return stats.sse.subscribers >= 500 ? stats.sse.subscribers : null
  }, 5000, 200)
  t.equal(subscribers, 500, '/stats counts the subscribers')

  await sql`SELECT pg_stat_statements_reset()`
  await sleep(10_000)
  t.equal(await daysQueries(), 0, '10 s of 500 idle subscribers: no booking-days query')

  const bookingId = await book(server, 404, day(2), 'P-live')
  const started = Date.now()
  await waitFor('the update on every stream', async () =>
    streams.every((s) => framesOf(s.text()).some((f) => f.event === 'update' && f.data.includes(bookingId))), 10_000, 50)
  t.pass(`all 500 got the update within ${Date.now() - started} ms`)
  t.ok(await daysQueries() <= 2, 'the new state was read once for the instance, not per subscriber')
  const frame = framesOf(streams[0]?.text() ?? '').find((f) => f.event === 'update')
  t.match(frame?.id, /^\d+$/, 'each data frame carries the version as its id')
  t.match(JSON.parse(frame?.data ?? '{}'), { clinic_id: 404, days: {}, hash: /^[0-9a-f]{40}$/ }, 'the legacy payload with its hash')
  t.match(streams[0]?.text(), /^retry: \d+/, 'retry: first')
})

t.test('Last-Event-ID: a client resuming at the current version gets nothing again, an older one gets the news', async (t) => {
  await post(server, '/api/create_table', { clinic_id: 405, days: { [day(2)]: { capacity_total: 50 } } })
  const first = await server.openStream('/api/booking_days?clinic_id=405&stream=true', appHeaders)
  await waitFor('snapshot', async () => framesOf(first.text()).length > 0)
  const version = framesOf(first.text())[0]?.id as string
  first.close()
  const current = await server.openStream('/api/booking_days?clinic_id=405&stream=true', { ...appHeaders, 'Last-Event-ID': version })
  const behind = await server.openStream('/api/booking_days?clinic_id=405&stream=true', { ...appHeaders, 'Last-Event-ID': String(Number(version) - 1) })
  t.teardown(() => { current.close(); behind.close() })
  await waitFor('the update for the client behind', async () => framesOf(behind.text()).some((f) => f.event === 'update'))
  await sleep(300)
  t.same(framesOf(current.text()), [], 'nothing missed, nothing sent')
  const bookingId = await book(server, 405, day(2), 'P-resume')
  await waitFor('the next update', async () => framesOf(current.text()).some((f) => f.data.includes(bookingId)))
  t.pass('and it still gets what happens next')
})

t.test('heartbeats and timeouts are clamped: no flood of pings, no endless stream', async (t) => {
  await post(server, '/api/create_table', { clinic_id: 406, days: { [day(2)]: { capacity_total: 5 } } })
  const started = Date.now()
  const stream = await server.openStream('/api/booking_days?clinic_id=406&stream=true&heartbeat=0.001&timeout=1&poll_interval=0.0001', appHeaders)
  t.teardown(() => stream.close())
  await sleep(3000)
  t.same(framesOf(stream.text()).map((f) => f.event), ['snapshot'], 'heartbeat=0.001 is raised to 5 s, timeout=1 to 10 s')
  await waitFor('a ping', async () => framesOf(stream.text()).some((f) => f.event === 'ping'), 5000)
  await waitFor('bye', async () => stream.ended(), 12_000, 100)
  const frames = framesOf(stream.text())
  t.same(frames.at(-1), { event: 'bye', id: null, data: 'timeout' }, 'then bye: timeout, and the stream ends')
  t.ok(Date.now() - started >= 9500, `after about 10 s (${Date.now() - started} ms)`)
  const pings = frames.filter((f) => f.event === 'ping')
  t.ok(pings.length <= 2, `${pings.length} pings in 10 s`)
  t.match(JSON.parse(pings[0]?.data ?? '{}'), { ts: Number })
})

t.test('a subscriber that stops reading is cut off before its buffer grows without bound', async (t) => {
  // A big clinic (30 days × 20 patients, ~140 KB a frame), written straight into the database.
  const clinicId = 407
  for (let d = 0; d < 30; d++) {
    const [row] = await sql<Array<{ id: string }>>`
      INSERT INTO booking_days (clinic_id, lane, day, capacity_total, active_count, next_seq)
      VALUES (${clinicId}, 'regular', ${day(d + 1)}, 40, 20, 21) RETURNING id::text`
    for (let i = 1; i <= 20; i++) {
      await sql`INSERT INTO bookings (day_id, seq, token, display_id, patient_id, name, phone, source, status)
        VALUES (${row?.id as string}, ${i}, ${i}, ${`S-${clinicId}-${d}-${i}`}, ${`P-${d}-${i}`}, 'مريض بعيد عن الشاشة', '+9647700000000', 'secretary_app', 'booked')`
    }
  }
  const socket = connect(server.port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(`GET /api/booking_days?clinic_id=${clinicId}&stream=true HTTP/1.1\r\nHost: x\r\nDoctor-Secret: dev-secret\r\n\r\n`)
  socket.pause() // read nothing, ever
  let closedByServer = false
  socket.on('end', () => { closedByServer = true }).on('close', () => { closedByServer = true })
  const cutBefore = (await server.request('/stats')).json<{ sse: { cut_off: number } }>().sse.cut_off
  for (let i = 0; i < 120; i++) await book(server, clinicId, day(1 + (i % 30)), `P-x-${i}`)
  const cut = await waitFor('the slow subscriber to be cut off', async () => {
    const stats = (await server.request('/stats')).json<{ sse: { cut_off: number } }>()
    return stats.sse.cut_off > cutBefore ? stats.sse.cut_off : null
  }, 15_000, 200)
  t.ok(cut > cutBefore, 'the server counted a cut-off')
  socket.resume()
  await waitFor('the connection to close', async () => closedByServer, 10_000)
  t.ok(closedByServer, 'and closed the connection')
  socket.destroy()
})

t.test('a second instance on the same database sees the first one\'s writes, cached reads and live viewers alike', async (t) => {
  const other = await launch(t, { DB_POOL_BUDGET: '6' }, { workers: 1 })
  await post(server, '/api/create_table', { clinic_id: 408, days: { [day(2)]: { capacity_total: 100 } } })
  await readDays(other, 408) // the other instance caches the clinic
  const viewer = await other.openStream('/api/booking_days?clinic_id=408&stream=true', appHeaders)
  t.teardown(() => viewer.close())
  await waitFor('snapshot', async () => framesOf(viewer.text()).length > 0)
  const lags: number[] = []
  const attempts: number[] = []
  for (let i = 0; i < 20; i++) {
    const bookingId = await book(server, 408, day(2), `P-${i}`)
    const started = Date.now()
    let tries = 0
    await waitFor('the other instance to see it', async () => {
      tries++
      return (await readDays(other, 408)).json<DaysBody>().days[day(2)]?.patients.some((p) => p.booking_id === bookingId) === true ? true : null
    }, 10_000, 5)
    lags.push(Date.now() - started)
    attempts.push(tries)
  }
  // Without the NOTIFY the other instance would serve its cached copy until the 30 s cache TTL. The NOTIFY races the
  // client's next read across four processes, so how many reads it takes is the machine's load, not a fact to
  // assert (a busy CI run needed a second read 12 times in 20): it is only reported.
  t.ok(Math.max(...lags) < 5000, `visible on the other instance within ${Math.max(...lags)} ms of the 200 (LISTEN/NOTIFY), not at the cache TTL`)
  t.comment(`reads needed: ${attempts.join(',')}`)
  await waitFor('the viewer on the other instance to get the last booking', async () => framesOf(viewer.text()).filter((f) => f.event === 'update').length >= 1, 5000)
  t.pass('live viewers of the other instance are updated too')
})

t.test('doctor profiles and the directory come from the cache and never outlive a change', async (t) => {
  const profile = { general_info: { clinic_id: 409, doctor_name: 'د. ذاكرة', receiving_patients: '20' }, specializations: ['طب الأسنان'] }
  t.equal((await post(server, '/doctor/profile', profile)).status, 200)
  const url = '/api/doctors/409'
  const first = await server.request(url, { headers: appHeaders })
  t.equal(first.status, 200)
  const etag = first.headers.etag as string
  t.match(etag, /^"c409-\d+"$/)
  t.equal((await server.request(url, { headers: { ...appHeaders, 'If-None-Match': etag } })).status, 304, 'a 304 while nothing changed')
  const listed = (await server.request('/api/doctors?q=ذاكرة', { headers: appHeaders })).json<{ items: Array<{ id: number, status: string }> }>()
  t.same(listed.items.map((i) => [i.id, i.status]), [[409, 'active']])
  for (let i = 0; i < 10; i++) {
    const active = i % 2 === 1
    t.equal((await post(server, '/api/doctor/status', { doctor_id: 409, is_active: active })).status, 200)
    const status = active ? 'active' : 'inactive'
    const profileNow = (await server.request(url, { headers: appHeaders })).json<{ profile: { account: { status: string } } }>()
    const listNow = (await server.request('/api/doctors?q=ذاكرة', { headers: appHeaders })).json<{ items: Array<{ status: string }> }>()
    t.equal(profileNow.profile.account.status, status, `profile after change ${i}`)
    t.equal(listNow.items[0]?.status, status, `directory after change ${i}`)
  }
  t.equal((await server.request(url, { headers: { ...appHeaders, 'If-None-Match': etag } })).status, 200, 'the old ETag no longer matches')
})
