import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { alive, getJson, request, startServer, stats, waitFor } from './helpers/server.ts'
import { coordinatorAllocator, execArgvFor } from '../src/supervisor.ts'

t.test('npm start with nothing set serves the API on an embedded PostgreSQL', async (t) => {
  const server = await startServer({ workers: 2 })
  t.teardown(server.cleanup)

  t.match(server.output(), /Tabeby API listening on http:\/\/127\.0\.0\.1:\d+/, 'prints where it listens')
  t.ok(existsSync(join(server.dataDir, 'pg', 'PG_VERSION')), 'the database files live in DATA_DIR')

  t.test('GET / answers the legacy banner', async (t) => {
    const { status, body } = await getJson(`${server.url}/`)
    t.equal(status, 200)
    t.same(body, {
      message: 'Tabeby API v2.0.0 is running',
      status: 'optimized for 10K+ concurrent users',
      docs: '/docs',
      health: '/health',
      stats: '/stats'
    })
  })

  t.test('/health has the v2 shape with real figures and names the native engine', async (t) => {
    const { status, body } = await getJson<{
      status: string, version: string, timestamp: string, engine: { name: string, native: boolean },
      checks: { database: { status: string, message: string } },
      performance: { connection_pool: Record<string, number> }
    }>(`${server.url}/health`)
    t.equal(status, 200)
    t.equal(body.status, 'healthy')
    t.match(body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    t.same(body.engine.name, 'uWebSockets.js')
    t.equal(body.engine.native, true)
    t.has(body.checks.database, { status: 'ok', message: 'Database connection successful' }, 'database check ran')
    const pool = body.performance.connection_pool
    t.equal(pool.total_capacity, 40, 'the capacity is DB_POOL_BUDGET')
    for (const key of ['pool_size', 'checked_in', 'checked_out', 'overflow']) t.type(pool[key], 'number', key)
  })

  t.test('/healthz answers with row counts', async (t) => {
    const { status, body } = await getJson<{ status: string, statistics: { database: Record<string, number> } }>(`${server.url}/healthz`)
    t.equal(status, 200)
    t.equal(body.status, 'healthy')
    t.equal(body.statistics.database.booking_days, 0)
  })

  t.test('/stats lists the coordinator and every worker with real processes', async (t) => {
    const body = await waitFor('both workers to report', async () => {
      const s = await stats(server)
      return s.workers.length === 2 ? s : null
    })
    t.ok(body.coordinator !== null && alive(body.coordinator.pid), 'coordinator pid is a live process')
    // Its small young generation (src/supervisor.ts: dead buffers collected every few seconds, not every half
    // minute); the workers keep V8's default.
    const argv = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    t.ok(argv(body.coordinator?.pid ?? 0).includes('--max-semi-space-size=1'), 'the coordinator runs with a 1 MB semi-space')
    const pids = body.workers.map((w) => w.pid)
    for (const pid of pids) t.notOk(argv(pid).some((arg) => arg.startsWith('--max-semi-space-size')), `worker ${pid} keeps the default`)
    // The heaps' growing factor (HEAP_GROWING_PERCENT, 40 by default), for both roles, and no heap limit.
    for (const pid of [body.coordinator?.pid ?? 0, ...pids]) {
      t.ok(argv(pid).includes('--heap-growing-percent=40'), `process ${pid} collects when its heap has grown by 40 %`)
      t.notOk(argv(pid).some((arg) => arg.startsWith('--max-old-space-size')), `process ${pid} keeps V8's heap limit`)
    }
    t.same(execArgvFor('worker', null, ['--import', 'tsx']), ['--import', 'tsx'], 'HEAP_GROWING_PERCENT=0: V8 chooses')
    t.same(execArgvFor('coordinator', 25, []), ['--max-semi-space-size=1', '--heap-growing-percent=25'])
    // Its freed memory returned to the system wherever it lies (src/supervisor.ts): jemalloc where it is installed.
    const environ = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
    const jemalloc = coordinatorAllocator()
    t.equal(coordinatorAllocator(['/nonexistent/libjemalloc.so.2']), null, 'no library, no preload')
    if (jemalloc === null) {
      t.notOk(environ(body.coordinator?.pid ?? 0).some((v) => v.startsWith('LD_PRELOAD=')), 'no libjemalloc2 here: the coordinator keeps glibc malloc')
    } else {
      t.ok(environ(body.coordinator?.pid ?? 0).includes(`LD_PRELOAD=${jemalloc}`), 'the coordinator runs on jemalloc')
      const maps = readFileSync(`/proc/${body.coordinator?.pid ?? 0}/maps`, 'utf8')
      t.ok(maps.includes(jemalloc), 'and jemalloc is loaded in it')
    }
    for (const pid of pids) t.notOk(environ(pid).some((v) => v.startsWith('LD_PRELOAD=')), `worker ${pid} keeps glibc malloc`)
    t.equal(new Set(pids).size, 2, 'two distinct worker processes')
    for (const pid of pids) t.ok(alive(pid), `worker ${pid} is alive`)
    t.same(body.workers.map((w) => w.id), [1, 2])
    t.same(body.database.budget, { total: 40, coordinator: 2, per_worker: 19 })
    t.ok(body.memory.total_rss > 0)
  })

  t.test('fresh connections are spread over both workers sharing the port', async (t) => {
    const before = await stats(server)
    for (let i = 0; i < 60; i++) await request(`${server.url}/`)
    const after = await waitFor('stats to include the new requests', async () => {
      const s = await stats(server)
      const served = s.workers.map((w) => w.requests - (before.workers.find((b) => b.id === w.id)?.requests ?? 0))
      return served.reduce((a, b) => a + b, 0) >= 60 ? served : null
    })
    t.ok(after.every((n) => n > 0), `every worker served some requests (${after.join(', ')})`)
  })

  t.test('an unknown route is a JSON 404, bad input never a 500', async (t) => {
    const res = await request(`${server.url}/no/such/route`)
    t.equal(res.status, 404)
    t.same(res.json(), { detail: 'Not Found', code: 'not_found' })
    const post = await request(`${server.url}/no/such/route`, { method: 'POST', body: '{not json' })
    t.equal(post.status, 404)
  })

  t.test('/openapi.json documents the routes from the schemas that validate them', async (t) => {
    const { status, body } = await getJson<{ openapi: string, paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>> }>(`${server.url}/openapi.json`)
    t.equal(status, 200)
    t.equal(body.openapi, '3.1.0')
    const booking = body.paths['/api/patient_booking']?.post
    t.ok(booking?.requestBody?.content['application/json']?.schema.properties.clinic_id, 'the booking body schema is there')
    t.ok(body.paths['/api/booking_archives/{clinic_id}'], 'path parameters in OpenAPI form')
    const docs = await getJson<{ routes: string[] }>(`${server.url}/docs`, { Accept: 'application/json' })
    t.ok(docs.body.routes.includes('POST /api/patient_booking'))
  })

  t.test('SIGTERM stops everything, the embedded database included, and exits 0', async (t) => {
    const s = await stats(server)
    const pids = [s.coordinator?.pid ?? 0, ...s.workers.map((w) => w.pid)]
    const started = Date.now()
    const { code } = await server.stop()
    t.equal(code, 0, 'exit code 0')
    t.ok(Date.now() - started < 10_000, 'within 10 s')
    for (const pid of pids) t.notOk(alive(pid), `child ${pid} is gone`)
    t.notOk(existsSync(join(server.dataDir, 'pg', 'postmaster.pid')), 'postgres shut down cleanly')
  })
})
