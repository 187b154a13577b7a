import t from 'tap'
import postgres from 'postgres'
import { Database } from '../src/db/pool.ts'
import { ApiError } from '../src/errors.ts'
import { getJson, request, startDatabase, startServer, waitFor } from './helpers/server.ts'

const db = await startDatabase()
t.teardown(db.destroy)

async function connectionsOf (pattern: string): Promise<Record<string, number>> {
  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  try {
    const rows = await sql<Array<{ name: string, count: string }>>`
      SELECT application_name AS name, count(*) AS count FROM pg_stat_activity
      WHERE application_name LIKE ${pattern} GROUP BY application_name`
    return Object.fromEntries(rows.map((row) => [row.name, Number(row.count)]))
  } finally {
    await sql.end()
  }
}

// Samples pg_stat_activity every `everyMs` on one connection of its own, one probe at a time; stop() waits for the
// probe in flight and closes the connection, so nothing of it outlives the test (or a database stopped after it).
function watchConnections (pattern: string, everyMs: number): { peak: Record<string, number>, stop: () => Promise<void> } {
  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  const peak: Record<string, number> = {}
  let inFlight: Promise<void> | null = null
  const timer = setInterval(() => {
    if (inFlight !== null) return
    inFlight = sql<Array<{ name: string, count: string }>>`
      SELECT application_name AS name, count(*) AS count FROM pg_stat_activity
      WHERE application_name LIKE ${pattern} GROUP BY application_name`
      .then((rows) => { for (const row of rows) peak[row.name] = Math.max(peak[row.name] ?? 0, Number(row.count)) }, () => {})
      .finally(() => { inFlight = null })
  }, everyMs)
  return {
    peak,
    stop: async () => {
      clearInterval(timer)
      await inFlight
      await sql.end()
    }
  }
}

t.test('a saturated pool makes work wait a bounded time, then answers 503 with Retry-After', async (t) => {
  const pool = new Database({ url: db.url, max: 2, applicationName: 'tabeby:unit:pool', queueTimeoutMs: 200 })
  t.teardown(() => pool.close())
  // The slow ones hold their connections for 3 s: far longer than the 200 ms wait, even on a busy machine.
  const slow = Array.from({ length: 2 }, () => pool.run((sql) => sql`SELECT pg_sleep(3)`))
  const started = Date.now()
  const error = await pool.run((sql) => sql`SELECT 1`).then(() => null, (e: unknown) => e)
  const waited = Date.now() - started
  t.ok(error instanceof ApiError, 'the third unit of work is refused')
  t.equal((error as ApiError).status, 503)
  t.equal((error as ApiError).headers['Retry-After'], '1')
  t.ok(waited >= 180 && waited < 2000, `after waiting ${waited} ms, not until the slow ones finish`)
  await Promise.all(slow)
  t.equal(pool.stats().timeouts, 1)
})

t.test('a pool never opens more connections than its share, whatever the load', async (t) => {
  const pool = new Database({ url: db.url, max: 3, applicationName: 'tabeby:unit:share', queueTimeoutMs: 5000 })
  t.teardown(() => pool.close())
  const watcher = watchConnections('tabeby:unit:share', 20)
  await Promise.all(Array.from({ length: 40 }, () => pool.run((sql) => sql`SELECT pg_sleep(0.05)`)))
  await watcher.stop()
  const peak = watcher.peak['tabeby:unit:share'] ?? 0
  t.ok(peak >= 1 && peak <= 3, `at most 3 connections seen in pg_stat_activity (peak ${peak})`)
})

t.test('the cluster on an external DATABASE_URL: budget divided, 503 when the database is down, recovery', async (t) => {
  const server = await startServer({
    workers: 2,
    env: { DATABASE_URL: db.url, DB_POOL_BUDGET: '8', DB_QUEUE_TIMEOUT_MS: '300', DB_STATEMENT_TIMEOUT_MS: '1000' }
  })
  t.teardown(server.cleanup)
  t.notMatch(server.output(), /embedded postgres started/, 'with DATABASE_URL set, no embedded database is started')
  t.match(server.output(), /"msg":"connection budget","budget":8,"coordinator":2,"perWorker":3/, 'the shares are logged')

  t.test('under a burst held up by a lock, each worker stays within its share and nobody gets a 500', async (t) => {
    const locker = postgres(db.url, { max: 1, onnotice: () => {} })
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    const lock = locker.begin(async (tx) => {
      await tx`LOCK TABLE secretaries IN ACCESS EXCLUSIVE MODE`
      await held
    })
    await waitFor('the lock', async () => (await connectionsOf('%')) !== null)
    const watcher = watchConnections('tabeby:%', 25)
    const peak = watcher.peak
    const started = Date.now()
    let answers: Awaited<ReturnType<typeof request>>[]
    try {
      answers = await Promise.all(Array.from({ length: 30 }, () => request(`${server.url}/healthz`, { timeoutMs: 10_000 })))
    } finally {
      await watcher.stop()
      release()
      await lock
      await locker.end()
    }
    const took = Date.now() - started

    t.ok(answers.every((a) => a.status === 200 || a.status === 503), `only 200 or 503 (${answers.map((a) => a.status).join(',')})`)
    const gaveUp = answers.filter((a) => a.json<{ statistics: { database: unknown } }>().statistics.database === null).length
    t.ok(gaveUp > 0, `${gaveUp} requests gave up on the blocked counts (queue or statement timeout) instead of hanging`)
    // The lock is held until every answer is in: a request that waited for it would run into its own 10 s timeout.
    t.ok(took < 8000, `every request was answered in ${took} ms although the lock was held`)
    const workers = Object.entries(peak).filter(([name]) => name.includes(':worker-'))
    t.ok(workers.length >= 1, `worker connections were seen (${JSON.stringify(peak)})`)
    for (const [name, count] of workers) t.ok(count <= 3, `${name} held at most its share of 3 (peak ${count})`)
    const total = Object.values(peak).reduce((a, b) => a + b, 0)
    t.ok(total <= 8, `the instance held at most DB_POOL_BUDGET=8 (peak sum ${total})`)
  })

  t.test('/health answers 503 while the database is down and 200 again when it returns', async (t) => {
    await db.stop()
    const down = await waitFor('/health to notice', async () => {
      const res = await request(`${server.url}/health`)
      return res.status === 503 ? res : null
    }, 30_000, 200)
    const body = down.json<{ status: string, checks: { database: { status: string } } }>()
    t.equal(body.status, 'unhealthy')
    t.equal(body.checks.database.status, 'error')
    t.equal(down.headers['retry-after'], '5')
    const healthz = await request(`${server.url}/healthz`)
    t.equal(healthz.status, 503, '/healthz too')
    const banner = await getJson(`${server.url}/`)
    t.equal(banner.status, 200, 'routes that need no database keep answering')

    await db.restart()
    const up = await waitFor('/health to recover by itself', async () => {
      const res = await request(`${server.url}/health`)
      return res.status === 200 ? res : null
    }, 60_000, 250)
    t.equal(up.json<{ status: string }>().status, 'healthy')
  })
})
