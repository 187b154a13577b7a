import t from 'tap'
import type { Response, Target } from './helpers/client.ts'
import { waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'

// Limits exact across the workers of an instance: the counters are the coordinator's, whichever worker the kernel
// hands a connection to. The rest of the limiter's behaviour runs in-process (rate-limit.test.ts).

const limits = { RATE_LIMIT_AUTH: '10', RATE_LIMIT_BOOKING: '50', RATE_LIMIT_DEFAULT: '100' }
const secret = { 'Doctor-Secret': 'dev-secret' }
const { app: server } = await startStack(t, { mode: 'cluster', workers: 2, env: limits })

const checkPhone = (target: Target, headers: Record<string, string> = {}): Promise<Response> =>
  target.request('/auth/check-phone?phone=%2B9647700000000', { headers: { ...secret, ...headers } })

t.test('25 requests to an auth route over fresh connections on 2 workers: exactly 10 pass', async (t) => {
  const answers = await Promise.all(Array.from({ length: 25 }, () => checkPhone(server)))
  const passed = answers.filter((a) => a.status !== 429)
  t.equal(passed.length, 10, `${passed.length} passed`)
  t.equal(answers.filter((a) => a.status === 429).length, 15)
  const spread = await waitFor('both workers to report their requests', async () => {
    const stats = (await server.request('/stats')).json<{ workers: Array<{ requests: number }> }>()
    return stats.workers.length === 2 && stats.workers.every((w) => w.requests > 1) ? true : null
  }, 15_000, 100).catch(() => false)
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
    const health = await Promise.all(Array.from({ length: 120 }, () => server.request('/health')))
    t.ok(health.every((a) => a.status === 200), '/health: 120 × 200')
    t.equal(health[0]?.headers['x-ratelimit-limit'], undefined, 'and carries no limit headers')
    const booking = await server.request('/api/booking_days?clinic_id=1', { headers: secret })
    t.equal(booking.headers['x-ratelimit-limit'], '50', 'the booking routes have their own tier')
    const other = await server.request('/stats')
    t.equal(other.headers['x-ratelimit-limit'], '100', 'everything else, the default tier')
    t.equal(other.status, 200)
  })
})
