import t from 'tap'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request, startServer } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'
import { freePort } from '../src/db/embedded.ts'

// Issue 12 item 14: one server per PORT. The workers listen with SO_REUSEPORT, which let a second, unrelated server
// bind the same port and take part of the first one's traffic; now the second leaves with code 2 before it starts
// anything, naming the port and, when it is one of ours, the pid that holds it.

const { db, app: first } = await startStack(t, { mode: 'cluster', workers: 1 })

t.test('a second server on the same PORT exits 2 and names the first; the first serves every request', async (t) => {
  const second = await startServer({ workers: 1, waitForReady: false, env: { DATABASE_URL: db.url, PORT: String(first.port) } })
  t.teardown(second.cleanup)
  const { code } = await second.exited
  t.equal(code, 2, 'exit code 2')
  t.match(second.output(), `PORT ${first.port} is in use by pid ${first.child.pid}`, 'names the port and the pid')
  t.notMatch(second.output(), /worker listening/, 'no worker of the second ever listened')

  const answers = await Promise.all(Array.from({ length: 20 }, () => request(`${first.url}/health`)))
  t.same([...new Set(answers.map((a) => a.status))], [200], 'the first server answers all of them')
})

t.test('a port another program listens on is refused; a stale lock of a dead server is taken over', async (t) => {
  const port = await freePort()
  const other = createServer()
  await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve))
  const refused = await startServer({ workers: 1, waitForReady: false, env: { DATABASE_URL: db.url, PORT: String(port) } })
  t.teardown(refused.cleanup)
  t.equal((await refused.exited).code, 2)
  t.match(refused.output(), `PORT ${port} is in use by another process`)
  await new Promise<void>((resolve) => other.close(() => resolve()))

  // What a server killed with SIGKILL leaves: its lock, naming a pid that no longer runs.
  writeFileSync(join(tmpdir(), `tabeby-port-${port}.lock`), JSON.stringify({ pid: 4_194_000, started: null }))
  const next = await startServer({ workers: 1, env: { DATABASE_URL: db.url, PORT: String(port) } })
  t.teardown(next.cleanup)
  t.equal((await request(`http://127.0.0.1:${port}/health`)).status, 200, 'starts and serves on the port')
})
