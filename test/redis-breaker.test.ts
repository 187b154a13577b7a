import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { createConnection } from 'node:net'
import { freePort } from '../src/db/embedded.ts'
import { request, startDatabase, startServer, waitFor, type TestServer } from './helpers/server.ts'

// Rate limits in a real redis-server that dies or freezes (SIGSTOP) under a running server: the first check that
// finds Redis silent pays the command timeout, every later one is answered from memory at once, and the limits go
// back to Redis by themselves when it answers again. Counted, not timed: `redisFailures` is the number of checks
// that waited for Redis in vain.

const db = await startDatabase()
t.teardown(db.destroy)
const port = await freePort()
const secret = { 'Doctor-Secret': 'dev-secret' }

function startRedis (): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
}

async function redisUp (): Promise<void> {
  await waitFor('redis', async () => await new Promise<boolean>((resolve) => {
    const socket = createConnection(port, '127.0.0.1').once('connect', () => { socket.end(); resolve(true) }).once('error', () => resolve(false))
  }), 10_000)
}

interface Limits { store: string, breaker: string, fallbacks: number, redisFailures: number, breakerOpened: number }
async function limits (server: TestServer): Promise<Limits> {
  return (await request(`${server.url}/stats`)).json<{ rate_limits: Limits }>().rate_limits
}

async function sequentially (server: TestServer, count: number): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < count; i++) statuses.push((await request(`${server.url}/api/clinics`, { headers: secret })).status)
  return statuses
}

let redis = startRedis()
t.teardown(() => { redis.kill('SIGCONT'); redis.kill('SIGKILL') })
await redisUp()
const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url, REDIS_URL: `redis://127.0.0.1:${port}` } })
t.teardown(server.cleanup)

t.test('a frozen Redis costs one check the timeout, then the breaker answers from memory', async (t) => {
  t.equal((await limits(server)).breaker, 'closed')
  redis.kill('SIGSTOP')
  const statuses = await sequentially(server, 40)
  t.ok(statuses.every((s) => s === 200), 'every request answered')
  const frozen = await limits(server)
  t.equal(frozen.breaker, 'open', 'the breaker is open')
  t.ok(frozen.redisFailures >= 1 && frozen.redisFailures <= 2, `${frozen.redisFailures} check(s) waited for Redis, not one per request`)
  t.ok(frozen.fallbacks >= 38, `${frozen.fallbacks} checks answered from memory`)

  redis.kill('SIGCONT')
  const back = await waitFor('the breaker to close', async () => { const l = await limits(server); return l.breaker === 'closed' ? l : null }, 10_000, 200)
  t.equal(back.breakerOpened, 1)
  await sequentially(server, 5)
  const after = await limits(server)
  t.equal(after.fallbacks, back.fallbacks, 'checks are counted in Redis again')
})

t.test('a dead Redis: the same, and a restarted one is used again', async (t) => {
  redis.kill('SIGKILL')
  await new Promise((resolve) => redis.once('exit', resolve))
  const before = await limits(server)
  const statuses = await sequentially(server, 40)
  t.ok(statuses.every((s) => s === 200), 'every request answered')
  const dead = await limits(server)
  t.equal(dead.breaker, 'open')
  t.ok(dead.redisFailures - before.redisFailures <= 2, `${dead.redisFailures - before.redisFailures} check(s) tried Redis`)

  redis = startRedis()
  await redisUp()
  const back = await waitFor('the breaker to close', async () => { const l = await limits(server); return l.breaker === 'closed' ? l : null }, 15_000, 200)
  await sequentially(server, 5)
  t.equal((await limits(server)).fallbacks, back.fallbacks, 'checks are counted in Redis again')
})
