import t from 'tap'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadConfig } from '../src/config.ts'
import { CoordinatorClient } from '../workers/coordinator-client.ts'
import { RateLimits, clientAddress } from '../workers/rate-limit.ts'
import type { Request } from '../workers/http.ts'
import type { Response, Target } from './helpers/client.ts'
import { redisMissing, startRedis } from './helpers/redis.ts'
import { tempDir, waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'

// Limits keyed by the client as far as trusted proxies say, across instances with Redis, answered with the v2 body
// and headers. Each test has an app of its own, so its counters start at zero. (Exact across the workers of one
// instance: rate-limit-workers.test.ts.)

const limits = { RATE_LIMIT_AUTH: '10', RATE_LIMIT_BOOKING: '50', RATE_LIMIT_DEFAULT: '100' }
const secret = { 'Doctor-Secret': 'dev-secret' }
const { launch } = await startStack(t, { mode: 'in-process', env: limits })

const checkPhone = (target: Target, headers: Record<string, string> = {}): Promise<Response> =>
  target.request('/auth/check-phone?phone=%2B9647700000000', { headers: { ...secret, ...headers } })

t.test('X-Forwarded-For counts only as far as TRUST_PROXY_HOPS: a spoofed entry resets nobody', async (t) => {
  const server = await launch(t, { TRUST_PROXY_HOPS: '1' })
  // The proxy appends the real address; whatever the client wrote before it changes nothing.
  const spoofed = await Promise.all(Array.from({ length: 15 }, (_, i) => checkPhone(server, { 'X-Forwarded-For': `10.0.0.${i}, 203.0.113.7` })))
  t.equal(spoofed.filter((a) => a.status !== 429).length, 10, 'one bucket for 203.0.113.7 whatever the left entries say')
  const another = await checkPhone(server, { 'X-Forwarded-For': '203.0.113.8' })
  t.not(another.status, 429, 'another client has its own bucket')

  t.test('without trusted proxies the header is ignored entirely', async (t) => {
    const direct = await launch(t)
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => checkPhone(direct, { 'X-Forwarded-For': `198.51.100.${i}` })))
    t.equal(answers.filter((a) => a.status !== 429).length, 10)
  })
})

t.test('the client address: the socket, or the entry the outermost trusted proxy added', async (t) => {
  const at = (forwarded: string | undefined): Request => ({
    id: 'test', tier: 'default', method: 'GET', path: '/', query: new URLSearchParams(), params: [], ip: '127.0.0.1', body: Buffer.alloc(0),
    headers: new Map(forwarded === undefined ? [] : [['x-forwarded-for', forwarded]])
  })
  t.equal(clientAddress(at('1.1.1.1, 2.2.2.2'), 0), '127.0.0.1')
  t.equal(clientAddress(at('1.1.1.1, 2.2.2.2'), 1), '2.2.2.2')
  t.equal(clientAddress(at('1.1.1.1, 2.2.2.2, 3.3.3.3'), 2), '2.2.2.2')
  t.equal(clientAddress(at('2.2.2.2'), 2), '2.2.2.2', 'fewer entries than hops: the leftmost')
  t.equal(clientAddress(at(undefined), 1), '127.0.0.1')
})

t.test('without the coordinator a worker enforces its share of each limit on its own', async (t) => {
  const config = { ...loadConfig({ RATE_LIMIT_AUTH: '10', WEB_CONCURRENCY: '2' }) }
  const client = new CoordinatorClient({ socketPath: join(tempDir(), 'nobody-listens.sock'), timeoutMs: 50 })
  client.connect()
  t.teardown(() => client.close())
  const limiter = new RateLimits(config, client)
  const req = (): Request => ({ id: 'test', tier: 'auth', method: 'GET', path: '/auth/x', query: new URLSearchParams(), params: [], ip: '192.0.2.1', body: Buffer.alloc(0), headers: new Map() })
  const answers = []
  for (let i = 0; i < 8; i++) answers.push(await limiter.check(req(), 'auth'))
  t.equal(answers.filter((a) => a === null).length, 5, 'ceil(10 / 2 workers) = 5 pass')
  t.equal(limiter.counters.local, 8, 'every check was answered locally')
})

t.test('with REDIS_URL the limit holds across two instances', { skip: redisMissing }, async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await Promise.all([launch(t, { REDIS_URL: redis.url }), launch(t, { REDIS_URL: redis.url })])
  // An in-process app starts in milliseconds, before its coordinator's Redis connection is up; until then each one
  // counts on its own (the fallback below), which is not what this test is about.
  await waitFor('both instances connected to Redis', async () => await redis.clients() >= 2)
  const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => checkPhone(i % 2 === 0 ? a : b)))
  t.equal(answers.filter((x) => x.status !== 429).length, 10, 'exactly 10 pass over both instances')
  const stats = (await a.request('/stats')).json<{ rate_limits: { store: string, fallbacks: number } }>()
  t.equal(stats.rate_limits.store, 'redis')
  t.equal(stats.rate_limits.fallbacks, 0)

  t.test('Redis gone: each instance falls back to its own exact counters instead of failing', async (t) => {
    redis.kill('SIGKILL')
    await sleep(300)
    const more = await Promise.all(Array.from({ length: 3 }, () => a.request('/api/clinics', { headers: secret })))
    t.ok(more.every((x) => x.status === 200), 'requests still answered')
    const after = (await a.request('/stats')).json<{ rate_limits: { fallbacks: number } }>()
    t.ok(after.rate_limits.fallbacks > 0, 'the fallback was counted')
  })
})

t.test('an address factor never pushes a limit past what the counters hold', async (t) => {
  const server = await launch(t, { RATE_LIMIT_DEFAULT: '10000000', RATE_LIMIT_IP_FACTOR: '2' })
  const res = await server.request('/stats')
  t.equal(res.status, 200, 'no 500 from a 20,000,000 limit')
  t.equal(res.headers['x-ratelimit-limit'], '16777215', 'clamped to the counters\' maximum')
})

t.test('the auth tier counts by address: fresh actor tokens buy no fresh attempts', async (t) => {
  const server = await launch(t, { TRUST_PROXY_HOPS: '1' })
  // Registration mints the tokens, and is in the auth tier itself (issue 12): minted from addresses of their own
  // here, so that what is measured below is only what the tokens buy.
  const tokens: string[] = []
  for (let i = 0; i < 12; i++) {
    const res = await server.request('/api/patient/register', {
      method: 'POST',
      headers: { ...secret, 'Content-Type': 'application/json', 'X-Forwarded-For': `198.51.100.${i}` },
      body: JSON.stringify({ user_uid: `u${i}`, user_role: 'patient', phone_number: `+96477012300${10 + i}` })
    })
    tokens.push(res.json<{ access_token: string }>().access_token)
  }
  const answers = await Promise.all(tokens.map((token) => checkPhone(server, { Authorization: `Bearer ${token}`, 'X-Forwarded-For': '203.0.113.9' })))
  t.equal(answers.filter((a) => a.status !== 429).length, 10, 'ten pass, whatever the tokens')
})
