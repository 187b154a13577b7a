import t from 'tap'
import type { Target } from './helpers/client.ts'
import { redisMissing, startRedis } from './helpers/redis.ts'
import { waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'

// Rate limits in a real redis-server that dies or freezes (SIGSTOP) under a running server: the first check that
// finds Redis silent pays the command timeout, every later one is answered from memory at once, and the limits go
// back to Redis by themselves when it answers again. Counted, not timed: `redis_failures` is the number of checks
// that waited for Redis in vain. The limiter is the coordinator's, so the app runs in-process, coordinator and all.

const secret = { 'Doctor-Secret': 'dev-secret' }

interface Limits { store: string, breaker: string, fallbacks: number, redis_failures: number, breaker_opened: number }
async function limits (server: Target): Promise<Limits> {
  return (await server.request('/stats')).json<{ rate_limits: Limits }>().rate_limits
}

async function sequentially (server: Target, count: number): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < count; i++) statuses.push((await server.request('/api/clinics', { headers: secret })).status)
  return statuses
}

if (redisMissing !== false) t.plan(0, redisMissing)
else {
  let redis = await startRedis(t)
  const { app: server } = await startStack(t, { mode: 'in-process', env: { REDIS_URL: redis.url } })
  // Counted from the first check that reaches Redis, not from one made before the coordinator's connection is up.
  await waitFor('the coordinator connected to Redis', async () => await redis.clients() >= 1)

  t.test('a frozen Redis costs one check the timeout, then the breaker answers from memory', async (t) => {
    t.equal((await limits(server)).breaker, 'closed')
    redis.kill('SIGSTOP')
    const statuses = await sequentially(server, 40)
    t.ok(statuses.every((s) => s === 200), 'every request answered')
    const frozen = await limits(server)
    t.equal(frozen.breaker, 'open', 'the breaker is open')
    t.ok(frozen.redis_failures >= 1 && frozen.redis_failures <= 2, `${frozen.redis_failures} check(s) waited for Redis, not one per request`)
    t.ok(frozen.fallbacks >= 38, `${frozen.fallbacks} checks answered from memory`)

    redis.kill('SIGCONT')
    const back = await waitFor('the breaker to close', async () => { const l = await limits(server); return l.breaker === 'closed' ? l : null }, 10_000, 200)
    t.equal(back.breaker_opened, 1)
    await sequentially(server, 5)
    const after = await limits(server)
    t.equal(after.fallbacks, back.fallbacks, 'checks are counted in Redis again')
  })

  t.test('a dead Redis: the same, and a restarted one is used again', async (t) => {
    redis.kill('SIGKILL')
    await redis.exited
    const before = await limits(server)
    const statuses = await sequentially(server, 40)
    t.ok(statuses.every((s) => s === 200), 'every request answered')
    const dead = await limits(server)
    t.equal(dead.breaker, 'open')
    t.ok(dead.redis_failures - before.redis_failures <= 2, `${dead.redis_failures - before.redis_failures} check(s) tried Redis`)

    redis = await startRedis(t, { port: redis.port })
    const back = await waitFor('the breaker to close', async () => { const l = await limits(server); return l.breaker === 'closed' ? l : null }, 15_000, 200)
    await sequentially(server, 5)
    t.equal((await limits(server)).fallbacks, back.fallbacks, 'checks are counted in Redis again')
  })
}
