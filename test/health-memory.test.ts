import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from './helpers/client.ts'
import { waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'

// /health answered from a state a background check keeps fresh (workers/health.ts): many health requests cost a
// probe a second per worker, not one each; and with a real PostgreSQL stopped, /health still says 503 within 2 s.

const { app: server, db } = await startStack(t, { mode: 'cluster', workers: 2 })

interface Stats { hot_paths: { coordinator_round_trips: { by_op: Record<string, number> } }, workers: unknown[] }

async function probes (): Promise<number> {
  await sleep(1300) // every worker has pushed its figures since
  const stats = await waitFor('both workers\' figures', async () => {
    const body = (await request(`${server.url}/stats`)).json<Stats>()
    return body.workers.length === 2 ? body : null
  }, 15_000, 200)
  return stats.hot_paths.coordinator_round_trips.by_op['db.probe'] ?? 0
}

t.test('300 health requests in about a second and a half cost a few probes, not 300', async (t) => {
  // Warm both workers' loops (fresh connections land on either).
  for (let i = 0; i < 10; i++) t.equal((await request(`${server.url}/health`)).status, 200)
  const before = await probes()
  const started = performance.now()
  const answers = []
  for (let batch = 0; batch < 10; batch++) answers.push(...await Promise.all(Array.from({ length: 30 }, () => request(`${server.url}/health`))))
  const seconds = (performance.now() - started) / 1000
  t.ok(answers.every((a) => a.status === 200), '300 × 200')
  t.equal(answers[0]?.json<{ status: string }>().status, 'healthy')
  const used = await probes() - before
  // /stats probes once per call (2 calls) and each worker's loop once a second, over the requests and the waits.
  const bound = Math.ceil((seconds + 2 * 1.3 + 1) * 2) + 2
  t.ok(used <= bound, `${used} probes for 300 health requests in ${seconds.toFixed(1)} s (at most ${bound})`)
})

t.test('PostgreSQL stopped: /health says 503 within 2 s while it is polled, and 200 again once it is back', async (t) => {
  // Both workers' loops running, as under a load balancer's polling.
  for (let i = 0; i < 20; i++) {
    t.equal((await request(`${server.url}/health`)).status, 200)
    await sleep(50)
  }
  await db.stop()
  const stoppedAt = Date.now()
  const down = await waitFor('/health to say 503', async () => {
    const res = await request(`${server.url}/health`)
    return res.status === 503 ? res : null
  }, 10_000, 100)
  const downAfter = Date.now() - stoppedAt
  t.ok(downAfter < 2000 + 1000, `/health went 503 ${downAfter} ms after the database stopped (2 s, and 1 s for a loaded machine)`)
  t.equal(down.headers['retry-after'], '5')
  t.equal(down.json<{ checks: { database: { status: string } } }>().checks.database.status, 'error')
  // Every worker says so: ten fresh connections, all 503.
  await sleep(1500)
  const all = await Promise.all(Array.from({ length: 10 }, () => request(`${server.url}/health`)))
  t.same(all.map((a) => a.status), Array(10).fill(503), 'on every worker')

  await db.restart()
  const startedAt = Date.now()
  await waitFor('/health to say 200', async () => (await request(`${server.url}/health`)).status === 200 ? true : null, 10_000, 100)
  t.ok(Date.now() - startedAt < 2000 + 1000, `200 again ${Date.now() - startedAt} ms after the database was back`)
})
