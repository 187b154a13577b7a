import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.ts'
import { MAX_LIMIT, RateLimiter } from '../src/rate-limit/windows.ts'
import { startStack } from './helpers/stack.ts'

// RATE_LIMIT_* up to 10,000,000 and beyond (16,777,215), or `off`: for an instance behind a gateway that limits, or
// a load test from one address. Ordinary limits keep the small-integer windows whose memory
// scripts/bench-limiter-memory.ts measures; only a window that counts past 32,767 takes the wide form.

const MINUTE = 60_000

function clock (start = 0): { now: () => number, advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

t.test('RATE_LIMIT_* takes any positive integer up to 16,777,215, or off', async (t) => {
  const config = loadConfig({ RATE_LIMIT_AUTH: '10000000', RATE_LIMIT_BOOKING: 'off', RATE_LIMIT_DEFAULT: 'OFF' })
  t.equal(config.rateLimitAuth, 10_000_000)
  t.equal(config.rateLimitBooking, null, 'off')
  t.equal(config.rateLimitDefault, null, 'OFF, in any case')
  t.equal(loadConfig({ RATE_LIMIT_AUTH: String(MAX_LIMIT) }).rateLimitAuth, 16_777_215)
  t.equal(loadConfig({}).rateLimitBooking, 50, 'the defaults stay')
  for (const value of ['0', '16777216', '-5', '1e6', 'none', '10 000']) {
    t.throws(() => loadConfig({ RATE_LIMIT_DEFAULT: value }), ConfigError, `"${value}" is refused`)
  }
})

t.test('a window counts exactly past 32,767 and up to its limit', async (t) => {
  const c = clock(5_000)
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 100, now: c.now })
  let passed = 0
  for (let i = 0; i < 40_000; i++) if (limiter.hit('ip:gateway', 35_000).allowed) passed++
  t.equal(passed, 35_000, '35,000 of 40,000 pass under a limit of 35,000')
  t.match(limiter.hit('ip:gateway', 35_000), { allowed: false, remaining: 0 })

  t.match(limiter.hit('ip:load', 10_000_000, 9_999_990), { allowed: true, remaining: 10 })
  c.advance(30_000)
  let more = 0
  for (let i = 0; i < 15; i++) if (limiter.hit('ip:load', 10_000_000).allowed) more++
  t.equal(more, 10, 'the last 10 of 10,000,000 pass, then none')
  t.match(limiter.hit('ip:load', 10_000_000), { allowed: false, remaining: 0, resetMs: 30_000 }, 'the window kept its start')

  c.advance(45_000) // the slot has turned: both windows now live in the older generation, and have ended
  t.match(limiter.hit('ip:load', 10_000_000), { allowed: true, remaining: 9_999_999, resetMs: MINUTE }, 'a new window after the old one ended')
  t.match(limiter.hit('ip:gateway', 35_000), { allowed: true, remaining: 34_999 })
})

t.test('a wide window is kept across a slot turn and evicted like any other', async (t) => {
  const c = clock(0)
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 2, now: c.now })
  limiter.hit('wide', 100_000, 50_000)
  c.advance(40_000)
  limiter.hit('small', 100)
  c.advance(30_000) // the slot turns: 'wide' (started at 0) has ended, 'small' (at 40 s) lives on in `previous`
  t.match(limiter.hit('small', 100), { remaining: 98 })
  limiter.hit('third', 100) // at the bound: the oldest window goes
  t.equal(limiter.size(), 2)
  t.match(limiter.hit('small', 100), { remaining: 97 }, 'the live window was kept')
})

t.test('a tier that is off is not counted and carries no limit headers; a high one is served', async (t) => {
  const { app } = await startStack(t, { mode: 'in-process', env: { RATE_LIMIT_DEFAULT: 'off', RATE_LIMIT_AUTH: '10000000' } })
  const answers = await Promise.all(Array.from({ length: 60 }, () => app.request('/stats')))
  t.ok(answers.every((a) => a.status === 200), '60 × 200')
  t.equal(answers[0]?.headers['x-ratelimit-limit'], undefined, 'no limit headers on a tier that is off')
  const auth = await app.request('/auth/check-phone?phone=%2B9647700000000', { headers: { 'Doctor-Secret': 'dev-secret' } })
  t.equal(auth.headers['x-ratelimit-limit'], '10000000')
  t.equal(auth.headers['ratelimit-policy'], '"auth";q=10000000;w=60')
})
