import t from 'tap'
import postgres from 'postgres'
import { setTimeout as sleep } from 'node:timers/promises'
import { Database } from '../src/db/pool.ts'
import { request, startDatabase, startServer, stats, waitFor } from './helpers/server.ts'
import { appHeaders, day } from './helpers/booking-api.ts'
import { startRelay, type RelayLink } from './helpers/pg-relay.ts'

// A connection that dies inside a transaction (a failover, a restart, pg_terminate_backend) costs that transaction
// and nothing else: no uncaught exception, no statement run outside the transaction, no answer handed to the wrong
// statement, no worker exit. postgres.js 3.4.9 got the first three wrong (upstream #1208 / #1154 / #1216, and the
// reset below); patches/postgres+3.4.9.patch fixes them, and these tests fail on the unpatched driver.

const db = await startDatabase()
t.teardown(db.destroy)
const admin = postgres(db.url, { max: 2, onnotice: () => {} })
t.teardown(() => admin.end())
await admin`CREATE TABLE fault_probe (n int)`

async function terminate (pid: number): Promise<void> {
  await admin`SELECT pg_terminate_backend(${pid})`
}

t.test('a backend terminated during a statement of a transaction: CONNECTION_CLOSED, and the pool serves on', async (t) => {
  const pool = new Database({ url: db.url, max: 2, applicationName: 'tabeby:unit:tx', queueTimeoutMs: 5000 })
  t.teardown(() => pool.close())
  for (let round = 1; round <= 3; round++) {
    let pid = 0
    const tx = pool.transaction(async (sql) => {
      const [row] = await sql<Array<{ pid: number }>>`SELECT pg_backend_pid() AS pid`
      pid = row?.pid ?? -1
      await sql`SELECT pg_sleep(5)`
    }).then(() => null, (e: unknown) => e as { code?: string })
    await waitFor('the transaction to start', async () => pid !== 0)
    await terminate(pid)
    const error = await tx
    t.equal(error?.code, 'CONNECTION_CLOSED', `round ${round}: the transaction is refused with CONNECTION_CLOSED`)
    // The ROLLBACK postgres.js sends for a failed transaction went out on a timer; let it fire.
    await sleep(100)
    const [after] = await pool.run((sql) => sql<Array<{ n: number }>>`SELECT 1 AS n`)
    t.equal(after?.n, 1, `round ${round}: the next query gets a fresh connection`)
  }
})

t.test('a backend terminated while its transaction waits between statements: the next statement runs nowhere', async (t) => {
  // max 1: the query queued behind the transaction makes the pool reconnect that very connection at once, which is
  // where the unpatched driver sent the transaction's next INSERT, outside any transaction, and committed it.
  const pool = new Database({ url: db.url, max: 1, applicationName: 'tabeby:unit:idle', queueTimeoutMs: 5000 })
  t.teardown(() => pool.close())
  let pid = 0
  let inserted: unknown = 'not tried'
  const tx = pool.transaction(async (sql) => {
    const [row] = await sql<Array<{ pid: number }>>`SELECT pg_backend_pid() AS pid`
    pid = row?.pid ?? -1
    await sleep(500)
    inserted = await sql`INSERT INTO fault_probe VALUES (1)`.then(() => 'inserted', (e: unknown) => (e as { code?: string }).code)
  }).then(() => null, (e: unknown) => e as { code?: string })
  await waitFor('the transaction to start', async () => pid !== 0)
  const queued = pool.sql`SELECT 42 AS n`.then((rows) => rows[0]?.n as number, (e: unknown) => (e as { code?: string }).code)
  await terminate(pid)
  t.equal((await tx)?.code, 'CONNECTION_CLOSED', 'the transaction is refused')
  await waitFor('the transaction body to finish', async () => inserted !== 'not tried', 5000)
  t.equal(inserted, 'CONNECTION_CLOSED', 'its later statement is refused, not sent')
  t.equal(await queued, 42, 'the query that waited behind it is served')
  const [count] = await admin<Array<{ n: number }>>`SELECT count(*)::int AS n FROM fault_probe`
  t.equal(count?.n, 0, 'nothing of the dead transaction was committed')
})

t.test('a connection reset while a transaction waits on a row lock: the next transaction gets its own answers', async (t) => {
  // A real reset (RST) between the pool and PostgreSQL, made by a loopback relay in between. The driver sees
  // 'error' (ECONNRESET) before 'close', and the failed transaction's ROLLBACK is queued on the dying connection in
  // between; the patched driver settles it at 'close'. Unsettled, it was carried to the reconnected backend, took the
  // next transaction's first answer, and left that transaction's statement waiting for an answer already consumed.
  const relay = await startRelay(db.url)
  t.teardown(relay.close)
  // max 1: the transaction after the reset runs on the very connection object that was reset.
  const pool = new Database({ url: relay.url, max: 1, applicationName: 'tabeby:unit:reset', queueTimeoutMs: 3000, deadlineMs: 3000 })
  t.teardown(() => pool.close())
  await admin`CREATE TABLE reset_row (id int PRIMARY KEY, n int)`
  await admin`INSERT INTO reset_row VALUES (1, 0)`

  for (let round = 1; round <= 3; round++) {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    let locked: () => void = () => {}
    const isLocked = new Promise<void>((resolve) => { locked = resolve })
    const holder = postgres(db.url, { max: 1, onnotice: () => {} })
    const lock = holder.begin(async (sql) => { await sql`SELECT 1 FROM reset_row WHERE id = 1 FOR UPDATE`; locked(); await held })
    await isLocked
    const waiting = pool.transaction(async (sql) => { await sql`UPDATE reset_row SET n = n + 1 WHERE id = 1` })
      .then(() => 'committed', (e: unknown) => String((e as { code?: unknown }).code ?? e))
    await waitFor('the transaction to wait on the row lock', async () =>
      (await admin`SELECT 1 FROM pg_stat_activity WHERE application_name = 'tabeby:unit:reset' AND wait_event_type = 'Lock'`).length === 1)
    const link = relay.links.at(-1) as RelayLink
    link.client.resetAndDestroy()
    link.upstream.destroy()
    t.equal(await waiting, 'CONNECTION_CLOSED', `round ${round}: the reset transaction is refused`)
    release()
    await lock
    await holder.end()

    const answers = await pool.transaction(async (sql) => {
      const [a] = await sql<Array<{ a: number }>>`SELECT ${10 * round}::int AS a`
      const [b] = await sql<Array<{ b: string }>>`SELECT 'second' AS b`
      return [a?.a, b?.b]
    }).catch((e: unknown) => String((e as { code?: unknown }).code ?? e))
    t.same(answers, [10 * round, 'second'], `round ${round}: the next transaction's statements get their own answers`)
  }
  const [row] = await admin<Array<{ n: number }>>`SELECT n FROM reset_row WHERE id = 1`
  t.equal(row?.n, 0, 'no reset transaction committed')
  const stuck = await admin`SELECT 1 FROM pg_stat_activity WHERE application_name = 'tabeby:unit:reset' AND state = 'idle in transaction'`
  t.equal(stuck.length, 0, 'no backend is left idle in a transaction')
})

t.test('bookings whose backends are terminated while they wait on a held day row: 503s, and no worker exits', async (t) => {
  const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url, DB_POOL_BUDGET: '12' } })
  t.teardown(server.cleanup)
  const before = await waitFor('two workers', async () => { const s = await stats(server); return s.workers.length === 2 ? s : null })
  const date = day(3)
  const post = (path: string, body: unknown) => request(`${server.url}${path}`, { method: 'POST', headers: appHeaders, body: JSON.stringify(body) })
  const created = await post('/api/create_table', { clinic_id: 951, days: { [date]: { capacity_total: 100 } } })
  t.equal(created.status, 200)

  // Another session holds the day row, so every booking waits inside its transaction on the reserving UPDATE.
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  const holder = postgres(db.url, { max: 1, onnotice: () => {} })
  t.teardown(() => holder.end())
  let locked: () => void = () => {}
  const isLocked = new Promise<void>((resolve) => { locked = resolve })
  const lock = holder.begin(async (sql) => {
    await sql`SELECT 1 FROM booking_days WHERE clinic_id = 951 FOR UPDATE`
    locked()
    await held
  })
  // The bookings go out only once the row is held: a booking sent earlier could take the row first, and the others
  // would then wait on that booking, which may commit between the look at pg_stat_activity and the termination.
  await isLocked
  const book = (i: number) => post('/api/patient_booking', { clinic_id: 951, name: `مريض ${i}`, phone: '+9647700000000', patient_id: `P-F${i}`, date, source: 'secretary_app' })
  const answers = Array.from({ length: 8 }, (_, i) => book(i))
  const waiting = await waitFor('bookings waiting on the row lock', async () => {
    const rows = await admin<Array<{ pid: number }>>`
      SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'tabeby:%:worker-%' AND wait_event_type = 'Lock'`
    return rows.length >= 2 ? rows : null
  }, 15_000)
  for (const { pid } of waiting) await terminate(pid)
  // pg_terminate_backend only sends the signal: the lock is released once those backends are gone, so none of them
  // can be granted the row and commit before it handles its termination.
  const pids = waiting.map((w) => w.pid)
  await waitFor('the terminated backends to exit', async () =>
    (await admin`SELECT 1 FROM pg_stat_activity WHERE pid = ANY(${pids})`).length === 0, 15_000)
  release()
  await lock
  const statuses = (await Promise.all(answers)).map((a) => a.status)
  t.ok(statuses.every((s) => s === 200 || s === 503), `only 200 or 503 (${statuses.join(',')})`)
  t.ok(statuses.filter((s) => s === 503).length >= waiting.length, `the ${waiting.length} terminated bookings were answered 503`)

  const after = await book(100)
  t.equal(after.status, 200, 'the next booking succeeds')
  const now = await stats(server)
  t.same(now.workers.map((w) => w.pid).sort(), before.workers.map((w) => w.pid).sort(), 'the same two workers: none exited')
  t.notMatch(server.output(), /exited, restarting|fatal: unhandled error/, 'the supervisor saw no crash')
  const [stored] = await admin<Array<{ n: number }>>`SELECT count(*)::int AS n FROM bookings b JOIN booking_days d ON d.id = b.day_id WHERE d.clinic_id = 951`
  t.equal(stored?.n, statuses.filter((s) => s === 200).length + 1, 'every 200 is a stored booking, and nothing else is')

  t.test('a worker that dies anyway is logged as an error, with how it died', async (t) => {
    const victim = now.workers[0] as { pid: number }
    process.kill(victim.pid, 'SIGKILL')
    const line = await waitFor('the supervisor to log the exit', async () =>
      server.output().split('\n').find((l) => l.includes('"msg":"worker exited, restarting"')), 10_000)
    t.match(JSON.parse(line), { level: 'error', pid: Number, signal: 'SIGKILL' })
  })
})
