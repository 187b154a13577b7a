import t from 'tap'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { alive, request, startServer, tempDir, waitFor } from './helpers/server.ts'
import { appHeaders, day } from './helpers/booking-api.ts'

// One server per DATA_DIR: a second start on a live one leaves with code 2 and says who holds it, and the first
// keeps its database; a directory whose server died (SIGKILL) is taken over, its orphaned PostgreSQL stopped.

const dataDir = tempDir('tabeby-shared-data-')
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))

t.test('a second server on a live DATA_DIR exits 2 and names the owner; the first keeps serving', async (t) => {
  const first = await startServer({ workers: 1, env: { DATA_DIR: dataDir } })
  t.teardown(first.cleanup)
  const lock = JSON.parse(readFileSync(join(dataDir, 'tabeby.lock'), 'utf8')) as { pid: number }
  t.equal(lock.pid, first.child.pid, 'the first server holds the lock')

  const second = await startServer({ workers: 1, waitForReady: false, env: { DATA_DIR: dataDir } })
  t.teardown(second.cleanup)
  const { code } = await second.exited
  t.equal(code, 2, 'exit code 2')
  t.match(second.output(), `DATA_DIR ${dataDir} is in use by pid ${first.child.pid}`, 'says which directory and which pid')
  t.notMatch(second.output(), /embedded postgres|orphaned/, 'before touching the database')

  const health = await request(`${first.url}/health`)
  t.equal(health.status, 200, 'the first server still has its database')
  const date = day(2)
  const post = (path: string, body: unknown) => request(`${first.url}${path}`, { method: 'POST', headers: appHeaders, body: JSON.stringify(body) })
  t.equal((await post('/api/create_table', { clinic_id: 971, days: { [date]: { capacity_total: 5 } } })).status, 200)
  t.equal((await post('/api/patient_booking', { clinic_id: 971, name: 'مريض', phone: '+9647700000000', patient_id: 'P-1', date, source: 'secretary_app' })).status, 200, 'and books')
  t.ok(existsSync(join(dataDir, 'tabeby.lock')), 'the second left the first one\'s lock in place')

  t.test('SIGTERM releases the lock', async (t) => {
    const { code } = await first.stop()
    t.equal(code, 0)
    t.notOk(existsSync(join(dataDir, 'tabeby.lock')), 'the lock file is gone')
  })
})

t.test('a DATA_DIR whose server was killed with SIGKILL is taken over, its orphaned database stopped', async (t) => {
  const first = await startServer({ workers: 1, env: { DATA_DIR: dataDir } })
  t.teardown(first.cleanup)
  const postmaster = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0])
  first.child.kill('SIGKILL')
  await first.exited
  t.ok(alive(postmaster), 'the killed server left its PostgreSQL running')
  t.ok(existsSync(join(dataDir, 'tabeby.lock')), 'and its lock file')

  const next = await startServer({ workers: 1, env: { DATA_DIR: dataDir } })
  t.teardown(next.cleanup)
  t.match(next.output(), /stopping an orphaned embedded postgres/, 'the orphan is recognised as one')
  await waitFor('the orphan to be gone', async () => !alive(postmaster), 10_000)
  const health = await request(`${next.url}/health`)
  t.equal(health.status, 200, 'the new server serves on the same data')
  const days = await request(`${next.url}/api/booking_days?clinic_id=971`, { headers: appHeaders })
  t.equal(days.status, 200, 'with what the earlier server stored')
  t.equal((JSON.parse(readFileSync(join(dataDir, 'tabeby.lock'), 'utf8')) as { pid: number }).pid, next.child.pid, 'and holds the lock')
})
