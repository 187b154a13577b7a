import t from 'tap'
import postgres from 'postgres'
import { setTimeout as sleep } from 'node:timers/promises'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { request, startDatabase, startServer, stats, waitFor, type TestServer } from './helpers/server.ts'
import { appHeaders, day, framesOf, openStream } from './helpers/booking-api.ts'

// The database goes away for real (the PostgreSQL process stopped, then started on the same port and files) under a
// running cluster: requests get 503s within their deadline, /health follows the database within 2 s, nobody exits,
// and everything comes back by itself. The deadlines asserted are the behaviour under test (REQUEST_DEADLINE_MS,
// /health's 2 s), each with a margin for a loaded machine.

const DEADLINE_MS = 2000
const db = await startDatabase()
t.teardown(db.destroy)

interface Timed { status: number, ms: number, code: string | null, retryAfter: string | null }

async function timed (server: TestServer, path: string, body?: unknown): Promise<Timed> {
  const started = Date.now()
  try {
    const res = await request(`${server.url}${path}`, body === undefined
      ? { headers: appHeaders, timeoutMs: 30_000 }
      : { method: 'POST', headers: appHeaders, body: JSON.stringify(body), timeoutMs: 30_000 })
    let code: string | null = null
    try { code = res.json<{ code?: string }>().code ?? null } catch {}
    const retryAfter = res.headers['retry-after']
    return { status: res.status, ms: Date.now() - started, code, retryAfter: typeof retryAfter === 'string' ? retryAfter : null }
  } catch (error) {
    return { status: 0, ms: Date.now() - started, code: error instanceof Error ? error.message : String(error), retryAfter: null }
  }
}

t.test('PostgreSQL stopped and started under bookings: 503s within the deadline, /health follows, nobody exits', async (t) => {
  const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url, REQUEST_DEADLINE_MS: String(DEADLINE_MS) } })
  t.teardown(server.cleanup)
  const before = await waitFor('two workers and a coordinator', async () => {
    const s = await stats(server)
    return s.workers.length === 2 && s.coordinator !== null ? s : null
  })
  const date = day(4)
  t.equal((await timed(server, '/api/create_table', { clinic_id: 961, days: { [date]: { capacity_total: 1000 } } })).status, 200)

  // Bookings keep flowing from 4 clients for the whole test.
  const answers: Timed[] = []
  let running = true
  let n = 0
  const clients = Array.from({ length: 4 }, async () => {
    while (running) {
      const i = n++
      answers.push(await timed(server, '/api/patient_booking', { clinic_id: 961, name: `مريض ${i}`, phone: '+9647700000000', patient_id: `P-O${i}`, date, source: 'secretary_app' }))
    }
  })
  await sleep(500)

  await db.stop()
  const stoppedAt = Date.now()
  await waitFor('/health to say 503', async () => (await timed(server, '/health')).status === 503 ? true : null, 10_000, 100)
  const downAfter = Date.now() - stoppedAt
  t.ok(downAfter < 2000 + 1000, `/health went 503 ${downAfter} ms after the database stopped`)
  const down = await timed(server, '/health')
  t.equal(down.retryAfter, '5', 'with Retry-After')
  await sleep(3000) // the outage, with bookings still coming

  await db.restart()
  const startedAt = Date.now()
  await waitFor('/health to say 200', async () => (await timed(server, '/health')).status === 200 ? true : null, 10_000, 100)
  const upAfter = Date.now() - startedAt
  t.ok(upAfter < 2000 + 1000, `/health went 200 ${upAfter} ms after the database was back`)
  const firstBooking = await waitFor('a booking to succeed again', async () => {
    const res = await timed(server, '/api/patient_booking', { clinic_id: 961, name: 'بعد', phone: '+9647700000000', patient_id: 'P-after', date, source: 'secretary_app' })
    return res.status === 200 ? Date.now() - startedAt : null
  }, 10_000, 50)
  t.ok(firstBooking < 2000 + 1000, `bookings succeed again ${firstBooking} ms after the database was back (the driver's reconnect delay is capped)`)
  running = false
  await Promise.all(clients)

  const statuses = new Map<string, number>()
  for (const a of answers) statuses.set(`${a.status}${a.code === null ? '' : ` ${a.code}`}`, (statuses.get(`${a.status}${a.code === null ? '' : ` ${a.code}`}`) ?? 0) + 1)
  t.comment(`answers during the test: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok(answers.every((a) => a.status === 200 || a.status === 503), 'every booking was answered 200 or 503: nothing refused, dropped or 500')
  t.ok(answers.some((a) => a.status === 503), 'the outage was seen')
  t.ok(answers.filter((a) => a.status === 503).every((a) => a.retryAfter !== null), 'every 503 carries Retry-After')
  const slowest = Math.max(...answers.map((a) => a.ms))
  t.ok(slowest <= DEADLINE_MS + 1000, `no booking waited longer than the deadline + 1 s (slowest ${slowest} ms)`)

  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const [stored] = await sql<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM bookings b JOIN booking_days d ON d.id = b.day_id WHERE d.clinic_id = 961 AND b.patient_id LIKE 'P-O%'`
  const ok = answers.filter((a) => a.status === 200).length
  t.ok((stored?.n ?? 0) >= ok, `every 200 is stored (${ok} answered 200, ${stored?.n} stored)`)
  const [tokens] = await sql<Array<{ dupes: number }>>`
    SELECT count(*)::int AS dupes FROM (SELECT token FROM bookings b JOIN booking_days d ON d.id = b.day_id
      WHERE d.clinic_id = 961 AND b.status <> 'cancelled' GROUP BY token HAVING count(*) > 1) x`
  t.equal(tokens?.dupes, 0, 'no seat was sold twice')

  const after = await stats(server)
  t.same(after.workers.map((w) => w.pid).sort(), before.workers.map((w) => w.pid).sort(), 'the same workers: none exited')
  t.equal(after.coordinator?.pid, before.coordinator?.pid, 'the same coordinator')
  t.notMatch(server.output(), /exited, restarting/, 'the supervisor restarted nothing')
})

t.test('/health says 200 and busy while a lock holder keeps every connection of the pool waiting', async (t) => {
  // The bookings wait on the row and for a connection as long as the lock is held (no queue, statement or request
  // timeout ends the busy spell early): however slowly a busy machine gets the probes through, the pool is still full.
  const server = await startServer({ workers: 1, env: { DATABASE_URL: db.url, DB_POOL_BUDGET: '4', DB_QUEUE_TIMEOUT_MS: '60000', DB_STATEMENT_TIMEOUT_MS: '120000', REQUEST_DEADLINE_MS: '120000' } })
  t.teardown(server.cleanup)
  const date = day(5)
  t.equal((await timed(server, '/api/create_table', { clinic_id: 962, days: { [date]: { capacity_total: 100 } } })).status, 200)
  const holder = postgres(db.url, { max: 1, onnotice: () => {} })
  t.teardown(() => holder.end())
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  const lock = holder.begin(async (sql) => {
    await sql`SELECT 1 FROM booking_days WHERE clinic_id = 962 FOR UPDATE`
    await held
  })
  // 4 - 2 (coordinator) = 2 connections for the one worker; 6 bookings wait on the row, 4 of them for a connection.
  const waiting = Array.from({ length: 6 }, (_, i) => timed(server, '/api/patient_booking', { clinic_id: 962, name: `م ${i}`, phone: '+9647700000000', patient_id: `P-B${i}`, date, source: 'secretary_app' }))
  try {
    const health = await waitFor('the pool to fill up', async () => {
      const res = await request(`${server.url}/health`)
      const body = res.json<{ status: string, checks: { database: { status: string, busy: boolean } } }>()
      return body.checks.database.busy ? { res, body } : null
    }, 30_000, 100)
    t.equal(health.res.status, 200, 'a busy pool is a healthy instance')
    t.equal(health.body.status, 'healthy')
    t.equal(health.body.checks.database.status, 'ok')
  } finally {
    // Whatever happened above, the bookings and the lock holder end (or the file would wait for them until its timeout).
    release()
    await lock
    await Promise.all(waiting)
  }
})

t.test('a change made while another instance is not listening reaches it within 2 s of its re-LISTEN', async (t) => {
  const a = await startServer({ workers: 1, env: { DATABASE_URL: db.url } })
  t.teardown(a.cleanup)
  const b = await startServer({ workers: 1, env: { DATABASE_URL: db.url } })
  t.teardown(b.cleanup)
  const date = day(6)
  t.equal((await timed(a, '/api/create_table', { clinic_id: 963, days: { [date]: { capacity_total: 100 } } })).status, 200)
  const book = (server: TestServer, patient: string) => timed(server, '/api/patient_booking', { clinic_id: 963, name: 'مريض', phone: '+9647700000000', patient_id: patient, date, source: 'secretary_app' })
  t.equal((await book(a, 'P-L0')).status, 200)
  const count = async (server: TestServer): Promise<number> => {
    const res = await request(`${server.url}/api/booking_days?clinic_id=963`, { headers: appHeaders })
    return res.json<{ days: Record<string, { patients: unknown[] }> }>().days[date]?.patients.length ?? -1
  }
  await waitFor('B to see the first booking', async () => await count(b) === 1 ? true : null, 5000)
  const stream = await openStream(`${b.url}/api/booking_days?clinic_id=963&stream=true`, appHeaders)
  t.teardown(stream.close)
  await waitFor('the snapshot', async () => framesOf(stream.text()).some((f) => f.event === 'snapshot') ? true : null, 5000)

  // A gap that cannot close by itself: no new connection to the database is allowed while B's LISTEN backend is
  // terminated; A books on a connection it already has, and its NOTIFY reaches nobody at B.
  const admin = postgres(db.url.replace(/\/tabeby$/, '/postgres'), { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const instanceOf = async (server: TestServer): Promise<string> => (await request(`${server.url}/stats`)).json<{ instance: string }>().instance
  const bListen = `tabeby:${await instanceOf(b)}:listen`
  await admin`ALTER DATABASE tabeby WITH ALLOW_CONNECTIONS false`
  t.teardown(() => admin`ALTER DATABASE tabeby WITH ALLOW_CONNECTIONS true`)
  await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${bListen}`
  await waitFor('B to notice', async () => (await request(`${b.url}/stats`)).json<{ changes: { listening: boolean } }>().changes.listening ? null : true, 5000)
  t.equal((await book(a, 'P-L1')).status, 200, 'A books during B\'s gap')
  await sleep(500)
  t.equal(await count(b), 1, 'B still serves what it had cached: the NOTIFY was lost')

  await admin`ALTER DATABASE tabeby WITH ALLOW_CONNECTIONS true`
  const back = Date.now()
  await waitFor('B to serve the change', async () => await count(b) === 2 ? true : null, 5000, 50)
  const servedAfter = Date.now() - back
  await waitFor('B\'s subscriber to get the update', async () => framesOf(stream.text()).some((f) => f.event === 'update') ? true : null, 5000, 50)
  const pushedAfter = Date.now() - back
  t.ok(servedAfter <= 2000 + 1000, `B served it ${servedAfter} ms after connections were allowed again`)
  t.ok(pushedAfter <= 2000 + 1000, `B's SSE subscriber got it ${pushedAfter} ms after`)
  const changes = (await request(`${b.url}/stats`)).json<{ changes: { listening: boolean, resyncs: number, last_gap_ms: number } }>().changes
  t.match(changes, { listening: true, resyncs: 1 }, '/stats counts the resync')
  t.ok(changes.last_gap_ms > 0, `and the gap (${changes.last_gap_ms} ms)`)
  t.match(b.output(), /"msg":"LISTEN is back: resyncing/, 'and the log tells it')
})

// The postmaster and its backends: frozen with SIGSTOP, a database that accepts nothing and refuses nothing, the
// way a host behind a failed network path or a stalled VM looks to a client.
function postgresProcesses (): number[] {
  const postmaster = Number(readFileSync(join(db.dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0])
  const children = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]) === postmaster
    } catch {
      return false
    }
  })
  return [postmaster, ...children]
}

t.test('a frozen PostgreSQL: every request is answered 503 by its deadline, then service resumes', async (t) => {
  const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url, REQUEST_DEADLINE_MS: String(DEADLINE_MS) } })
  t.teardown(server.cleanup)
  const date = day(7)
  t.equal((await timed(server, '/api/create_table', { clinic_id: 964, days: { [date]: { capacity_total: 100 } } })).status, 200)
  const book = (i: number) => timed(server, '/api/patient_booking', { clinic_id: 964, name: `م ${i}`, phone: '+9647700000000', patient_id: `P-Z${i}`, date, source: 'secretary_app' })
  const frozen = postgresProcesses()
  for (const pid of frozen) process.kill(pid, 'SIGSTOP')
  let thawed = false
  const thaw = (): void => {
    if (thawed) return
    thawed = true
    for (const pid of frozen) { try { process.kill(pid, 'SIGCONT') } catch {} }
  }
  t.teardown(thaw)
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => book(i)))
  const health = await timed(server, '/health')
  thaw()
  t.comment(`answers: ${answers.map((a) => `${a.status} ${a.code ?? ''} ${a.ms}ms`).join(', ')}`)
  t.ok(answers.every((a) => a.status === 503 && a.retryAfter !== null), 'every booking got 503 with Retry-After')
  const slowest = Math.max(...answers.map((a) => a.ms))
  t.ok(slowest <= DEADLINE_MS + 1000, `none waited longer than the deadline + 1 s (slowest ${slowest} ms)`)
  t.equal(health.status, 503, '/health: the probe got no answer within its second')
  t.ok(health.ms <= 2000 + 1000, `and said so in ${health.ms} ms`)
  const again = await waitFor('a booking to succeed after the thaw', async () => { const a = await book(100); return a.status === 200 ? a : null }, 20_000, 100)
  t.equal(again.status, 200)
  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  await sleep(DEADLINE_MS) // whatever had begun before the freeze has finished by now
  const [stored] = await sql<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM bookings b JOIN booking_days d ON d.id = b.day_id WHERE d.clinic_id = 964 AND b.patient_id LIKE 'P-Z%' AND b.patient_id <> 'P-Z100'`
  t.equal(stored?.n, 0, 'none of the bookings answered 503 was made after all: past its deadline a booking takes no seat')
})
