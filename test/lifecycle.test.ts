import t from 'tap'
import { connect, createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../src/db/embedded.ts'
import { alive, startServer, stats, waitFor, type TestServer } from './helpers/server.ts'
import { request } from './helpers/client.ts'
import { startStack } from './helpers/stack.ts'

// Each test kills real processes of a running cluster and watches what a client sees. The clusters share the file's
// database (DATABASE_URL) rather than each initialising an embedded one: what is killed here is the server's
// processes; the embedded database's own start and stop are cluster.test.ts's.

const { db } = await startStack(t, { mode: 'database' })

interface Load {
  ok: number
  failed: number
  stop: () => Promise<void>
}

// A client that keeps asking, one fresh connection per request, as phones do. A request fails when its connection
// does, not when a busy machine is slow to answer it.
function keepAsking (server: TestServer, path = '/'): Load {
  let running = true
  const load: Load = { ok: 0, failed: 0, stop: async () => { running = false; await loop } }
  const loop = (async () => {
    while (running) {
      try {
        const res = await server.request(path, { timeoutMs: 15_000 })
        if (res.status === 200) load.ok++
        else load.failed++
      } catch {
        load.failed++
      }
    }
  })()
  return load
}

// What the supervisor logged when a child exited: when, and how long it waited before starting the next one.
function restartsOf (server: TestServer): Array<{ pid: number, at: number, delay: number }> {
  return server.output().split('\n').filter((line) => line.includes('exited, restarting')).map((line) => {
    const entry = JSON.parse(line) as { t: string, childPid: number, restartInMs: number }
    return { pid: entry.childPid, at: Date.parse(entry.t), delay: entry.restartInMs }
  })
}

t.test('a worker killed with SIGKILL is replaced at once while the others keep serving', async (t) => {
  const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url } })
  t.teardown(server.cleanup)
  const before = await waitFor('two workers', async () => { const s = await stats(server); return s.workers.length === 2 ? s : null })
  const victim = before.workers[0] as { id: number, pid: number }

  const load = keepAsking(server)
  await sleep(300)
  const killedAt = Date.now()
  process.kill(victim.pid, 'SIGKILL')
  const okAtKill = load.ok
  // A busy machine may take seconds to start a process; the supervisor's part is to start it at once.
  const replacement = await waitFor('a new worker in slot 1', async () => {
    const s = await stats(server)
    const slot = s.workers.find((w) => w.id === victim.id)
    return slot !== undefined && slot.pid !== victim.pid ? slot : null
  }, 60_000, 20)
  const replacedIn = Date.now() - killedAt
  const servedMeanwhile = load.ok - okAtKill
  await sleep(200)
  await load.stop()

  const restart = restartsOf(server).find((r) => r.pid === victim.pid)
  t.ok(restart !== undefined && restart.delay <= 100 && replacedIn < 90_000,
    `restarted after ${restart?.delay} ms (at most the first back-off), serving again ${replacedIn} ms after the kill`)
  t.ok(alive(replacement.pid), 'the replacement is a live process')
  t.notOk(alive(victim.pid), 'the victim is gone')
  t.ok(servedMeanwhile > 0, `${servedMeanwhile} requests were served while the slot was empty`)
  t.ok(load.failed <= 2, `at most the requests in flight on the killed worker failed (${load.failed} of ${load.ok + load.failed})`)
})

t.test('a killed coordinator is restarted; workers keep serving meanwhile and reconnect', async (t) => {
  const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url } })
  t.teardown(server.cleanup)
  const before = await waitFor('coordinator and workers', async () => {
    const s = await stats(server)
    return s.coordinator !== null && s.coordinator.workers_connected === 2 ? s : null
  })
  const oldPid = before.coordinator?.pid as number

  const load = keepAsking(server, '/health')
  await sleep(200)
  process.kill(oldPid, 'SIGKILL')
  // Straight after the kill the workers answer on their own: /health stays 200, /stats has no coordinator.
  const health = await server.request('/health')
  t.equal(health.status, 200, '/health still answers 200 without the coordinator')

  const after = await waitFor('a new coordinator with both workers reconnected', async () => {
    const s = await stats(server)
    // A reconnected worker pushes its figures at once, but the push may land a moment after the connection shows.
    return s.coordinator !== null && s.coordinator.pid !== oldPid && s.coordinator.workers_connected === 2 && s.workers.length === 2 ? s : null
  }, 60_000)
  await load.stop()
  t.ok(alive(after.coordinator?.pid as number), 'the new coordinator is alive')
  t.equal(load.failed, 0, `no request failed (${load.ok} served)`)
  t.equal(after.workers.length, 2, 'both workers push their figures to the new coordinator')
})

t.test('SIGTERM drains the request in flight, refuses new connections, and exits 0 within 10 s', async (t) => {
  const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url } })
  t.teardown(server.cleanup)

  // A request whose body is still arriving when the signal comes: it must be answered, not cut.
  const socket = connect(server.port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  let answer = ''
  socket.on('data', (chunk) => { answer += chunk.toString() })
  const closed = new Promise((resolve) => socket.once('close', resolve))
  socket.write('POST /drain/probe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a":')
  await sleep(300)

  const signalledAt = Date.now()
  server.child.kill('SIGTERM')
  // The workers close their listening sockets when the primary's word reaches them; until then a new request may
  // still get in (and be answered 503 shutting_down). Within the drain window, with the request above still held.
  let refused = false
  for (const deadline = Date.now() + 5000; !refused && Date.now() < deadline; await sleep(100)) {
    refused = await request(`${server.url}/`, { timeoutMs: 2000 }).then(() => false, () => true)
  }
  socket.end('"xyz"}')
  await closed
  const { code } = await server.exited
  const tookMs = Date.now() - signalledAt

  t.match(answer, /^HTTP\/1\.1 404 /, 'the in-flight request got its answer')
  t.ok(refused, 'a new connection after SIGTERM is refused')
  t.equal(code, 0, 'exit code 0')
  t.ok(tookMs < 10_000, `stopped in ${tookMs} ms`)
})

t.test('a crash loop backs off instead of spinning, and recovers when the cause goes away', async (t) => {
  // Something else takes the port without SO_REUSEPORT once the primary has checked it (a second server on a port in
  // use is refused at start: test/port-lock.test.ts), so every worker fails to listen and exits. The primary logs
  // its connection budget after the check and before it forks; a worker takes far longer to load than the squatter
  // to bind, and if the squatter ever lost that race the test says so rather than waiting for restarts.
  const port = await freePort()
  const server = await startServer({ workers: 1, waitForReady: false, env: { DATABASE_URL: db.url, PORT: String(port) } })
  t.teardown(server.cleanup)
  await waitFor('the primary to pass its port check', async () => server.output().includes('"msg":"connection budget"'), 60_000, 5)
  const squatter = createServer()
  await new Promise<void>((resolve, reject) => {
    squatter.once('error', reject)
    squatter.listen({ port, host: '127.0.0.1', exclusive: true }, resolve)
  })

  // Wait for four restarts however slow the machine is, then look at their spacing.
  const restarts = (): Array<{ at: number, delay: number }> => [...server.output().matchAll(/"t":"([^"]+)"[^\n]*"msg":"worker exited, restarting".*?"restartInMs":(\d+)/g)]
    .map((m) => ({ at: Date.parse(m[1] ?? ''), delay: Number(m[2]) }))
  const seen = await waitFor('four restarts', async () => restarts().length >= 4 ? restarts() : null, 40_000, 100)
  const delays = seen.map((r) => r.delay)
  t.same(delays.slice(0, 4), [100, 200, 400, 800], 'the wait before each restart doubles')
  for (let i = 1; i < 4; i++) {
    const gap = (seen[i]?.at ?? 0) - (seen[i - 1]?.at ?? 0)
    t.ok(gap >= (seen[i - 1]?.delay ?? 0), `restart ${i + 1} came ${gap} ms after the previous exit, not before its back-off`)
  }
  await new Promise((resolve) => squatter.close(resolve))
  const health = await waitFor('the worker to come back once the port is free', async () => {
    const res = await request(`http://127.0.0.1:${port}/health`, { timeoutMs: 1000 })
    return res.status === 200 ? res : null
  }, 60_000, 200)
  t.equal(health.status, 200, 'serving again without anyone restarting it by hand')
})

t.test('the server refuses to start on the pure-JS uWebSockets.js fallback', async (t) => {
  const server = await startServer({ waitForReady: false, env: { UWS_USE_FALLBACK: '1' } })
  t.teardown(server.cleanup)
  const { code } = await server.exited
  t.equal(code, 2, 'exit code 2')
  t.match(server.output(), /fallback is not allowed/, 'says why')
  t.notMatch(server.output(), /embedded postgres started/, 'before starting a database for nothing')
})
