import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../src/db/embedded.ts'
import { loadConfig } from '../src/config.ts'
import { CoordinatorClient } from '../workers/coordinator-client.ts'
import { RateLimits, clientAddress } from '../workers/rate-limit.ts'
import type { Request } from '../workers/http.ts'
import { request, startDatabase, startServer, tempDir, waitFor, type Response } from './helpers/server.ts'

// Limits exact across workers (and across instances with Redis), keyed by the client as far as trusted proxies
// say, answered with the v2 body and headers.

const db = await startDatabase()
t.teardown(db.destroy)
const limits = { RATE_LIMIT_AUTH: '10', RATE_LIMIT_BOOKING: '50', RATE_LIMIT_DEFAULT: '100' }
const secret = { 'Doctor-Secret': 'dev-secret' }

const checkPhone = (url: string, headers: Record<string, string> = {}): Promise<Response> =>
  request(`${url}/auth/check-phone?phone=%2B9647700000000`, { headers: { ...secret, ...headers } })

t.test('25 requests to an auth route over fresh connections on 2 workers: exactly 10 pass', async (t) => {
  const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url, ...limits } })
  t.teardown(server.cleanup)
  const answers = await Promise.all(Array.from({ length: 25 }, () => checkPhone(server.url)))
  const passed = answers.filter((a) => a.status !== 429)
  t.equal(passed.length, 10, `${passed.length} passed`)
  t.equal(answers.filter((a) => a.status === 429).length, 15)
  const spread = await waitFor('both workers to report their requests', async () => {
    const stats = (await request(`${server.url}/stats`)).json<{ workers: Array<{ requests: number }> }>()
    return stats.workers.length === 2 && stats.workers.every((w) => w.requests > 1) ? true : null
  }, 5000, 100).catch(() => false)
  t.ok(spread, 'both workers took requests')

  const limited = answers.find((a) => a.status === 429) as Response
  t.same(Object.keys(limited.json()), ['error', 'message', 'retry_after'])
  t.match(limited.json(), { error: 'Too many requests', message: 'أنت تقوم بإرسال طلبات كثيرة جداً. يرجى الانتظار قليلاً.', retry_after: Number })
  t.match(limited.headers['retry-after'], /^\d+$/)
  t.equal(limited.headers['x-ratelimit-remaining'], '0')
  const ok = passed[0] as Response
  t.equal(ok.headers['x-ratelimit-limit'], '10')
  t.match(ok.headers['x-ratelimit-reset'], /^\d{10}$/, 'reset as a Unix time')
  t.match(ok.headers['ratelimit-policy'], /^"auth";q=10;w=60$/)
  t.match(ok.headers.ratelimit, /^"auth";r=\d+;t=\d+$/)
  const remaining = passed.map((a) => Number(a.headers['x-ratelimit-remaining'])).sort((a, b) => a - b)
  t.same(remaining, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each passing request saw its own remaining count')

  t.test('tiers are counted apart; health checks are never limited', async (t) => {
    const health = await Promise.all(Array.from({ length: 120 }, () => request(`${server.url}/health`)))
    t.ok(health.every((a) => a.status === 200), '/health: 120 × 200')
    t.equal(health[0]?.headers['x-ratelimit-limit'], undefined, 'and carries no limit headers')
    const booking = await request(`${server.url}/api/booking_days?clinic_id=1`, { headers: secret })
    t.equal(booking.headers['x-ratelimit-limit'], '50', 'the booking routes have their own tier')
    const other = await request(`${server.url}/stats`)
    t.equal(other.headers['x-ratelimit-limit'], '100', 'everything else, the default tier')
    t.equal(other.status, 200)
  })
})

t.test('X-Forwarded-For counts only as far as TRUST_PROXY_HOPS: a spoofed entry resets nobody', async (t) => {
  const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url, ...limits, TRUST_PROXY_HOPS: '1' } })
  t.teardown(server.cleanup)
  // The proxy appends the real address; whatever the client wrote before it changes nothing.
  const spoofed = await Promise.all(Array.from({ length: 15 }, (_, i) => checkPhone(server.url, { 'X-Forwarded-For': `10.0.0.${i}, 203.0.113.7` })))
  t.equal(spoofed.filter((a) => a.status !== 429).length, 10, 'one bucket for 203.0.113.7 whatever the left entries say')
  const another = await checkPhone(server.url, { 'X-Forwarded-For': '203.0.113.8' })
  t.not(another.status, 429, 'another client has its own bucket')

  t.test('without trusted proxies the header is ignored entirely', async (t) => {
    const direct = await startServer({ workers: 1, env: { DATABASE_URL: db.url, ...limits } })
    t.teardown(direct.cleanup)
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => checkPhone(direct.url, { 'X-Forwarded-For': `198.51.100.${i}` })))
    t.equal(answers.filter((a) => a.status !== 429).length, 10)
  })
})

t.test('the client address: the socket, or the entry the outermost trusted proxy added', async (t) => {
  const at = (forwarded: string | undefined): Request => ({
    tier: 'default', method: 'GET', path: '/', query: new URLSearchParams(), params: [], ip: '127.0.0.1', body: Buffer.alloc(0),
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
  const req = (): Request => ({ tier: 'auth', method: 'GET', path: '/auth/x', query: new URLSearchParams(), params: [], ip: '192.0.2.1', body: Buffer.alloc(0), headers: new Map() })
  const answers = []
  for (let i = 0; i < 8; i++) answers.push(await limiter.check(req(), 'auth'))
  t.equal(answers.filter((a) => a === null).length, 5, 'ceil(10 / 2 workers) = 5 pass')
  t.equal(limiter.counters.local, 8, 'every check was answered locally')
})

t.test('with REDIS_URL the limit holds across two instances', async (t) => {
  const port = await freePort()
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  t.teardown(() => { redis.kill('SIGTERM') })
  await waitFor('redis', async () => {
    const { createConnection } = await import('node:net')
    return await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, '127.0.0.1').once('connect', () => { socket.end(); resolve(true) }).once('error', () => resolve(false))
    })
  }, 10_000)
  const env = { DATABASE_URL: db.url, ...limits, REDIS_URL: `redis://127.0.0.1:${port}` }
  const [a, b] = await Promise.all([startServer({ workers: 1, env }), startServer({ workers: 1, env })])
  t.teardown(async () => { await a.cleanup(); await b.cleanup() })
  const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => checkPhone(i % 2 === 0 ? a.url : b.url)))
  t.equal(answers.filter((x) => x.status !== 429).length, 10, 'exactly 10 pass over both instances')
  const stats = (await request(`${a.url}/stats`)).json<{ rate_limits: { store: string, fallbacks: number } }>()
  t.equal(stats.rate_limits.store, 'redis')
  t.equal(stats.rate_limits.fallbacks, 0)

  t.test('Redis gone: each instance falls back to its own exact counters instead of failing', async (t) => {
    redis.kill('SIGKILL')
    await sleep(300)
    const more = await Promise.all(Array.from({ length: 3 }, () => request(`${a.url}/api/clinics`, { headers: secret })))
    t.ok(more.every((x) => x.status === 200), 'requests still answered')
    const after = (await request(`${a.url}/stats`)).json<{ rate_limits: { fallbacks: number } }>()
    t.ok(after.rate_limits.fallbacks > 0, 'the fallback was counted')
  })
})

t.test('an address factor never pushes a limit past what the counters hold', async (t) => {
  const server = await startServer({ workers: 1, env: { DATABASE_URL: db.url, RATE_LIMIT_DEFAULT: '10000000', RATE_LIMIT_IP_FACTOR: '2' } })
  t.teardown(server.cleanup)
  const res = await request(`${server.url}/stats`)
  t.equal(res.status, 200, 'no 500 from a 20,000,000 limit')
  t.equal(res.headers['x-ratelimit-limit'], '16777215', 'clamped to the counters\' maximum')
})

t.test('the auth tier counts by address: fresh actor tokens buy no fresh attempts', async (t) => {
  const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url, ...limits } })
  t.teardown(server.cleanup)
  const tokens: string[] = []
  for (let i = 0; i < 12; i++) {
    const res = await request(`${server.url}/api/patient/register`, {
      method: 'POST',
      headers: { ...secret, 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_uid: `u${i}`, user_role: 'patient', phone_number: `+96477012300${10 + i}` })
    })
    tokens.push(res.json<{ access_token: string }>().access_token)
  }
  const answers = await Promise.all(tokens.map((token) => checkPhone(server.url, { Authorization: `Bearer ${token}` })))
  t.equal(answers.filter((a) => a.status !== 429).length, 10, 'ten pass, whatever the tokens')
})
