import t from 'tap'
import v8 from 'node:v8'
import vm from 'node:vm'
import { RateLimiter, localShare, MAX_LIMIT } from '../src/rate-limit/windows.ts'

const MINUTE = 60_000

function clock (start = 0): { now: () => number, advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

t.test('exactly N of N + 15 requests pass in one window', async (t) => {
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 100, now: clock().now })
  for (const limit of [10, 50, 100]) {
    let passed = 0
    for (let i = 0; i < limit + 15; i++) if (limiter.hit(`ip:10.0.0.${limit}`, limit).allowed) passed++
    t.equal(passed, limit, `${limit}/min`)
  }
  t.same(limiter.stats(), { keys: 3, checks: 160 + 45, allowed: 160, denied: 45, evicted: 0 })
})

t.test('remaining and resetMs count down within the window', async (t) => {
  const c = clock(1_000_000)
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 100, now: c.now })
  t.same(limiter.hit('user:1', 3), { allowed: true, limit: 3, remaining: 2, resetMs: 60_000 })
  c.advance(1_500)
  t.same(limiter.hit('user:1', 3), { allowed: true, limit: 3, remaining: 1, resetMs: 58_500 })
  c.advance(500)
  t.same(limiter.hit('user:1', 3), { allowed: true, limit: 3, remaining: 0, resetMs: 58_000 })
  c.advance(45_000)
  t.same(limiter.hit('user:1', 3), { allowed: false, limit: 3, remaining: 0, resetMs: 13_000 })
})

t.test('the window resets windowMs after its first request', async (t) => {
  const c = clock()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 100, now: c.now })
  for (let i = 0; i < 10; i++) limiter.hit('ip:1', 10)
  c.advance(MINUTE - 1)
  t.equal(limiter.hit('ip:1', 10).allowed, false, '1 ms before the reset')
  c.advance(1)
  t.same(limiter.hit('ip:1', 10), { allowed: true, limit: 10, remaining: 9, resetMs: MINUTE })
  let passed = 1
  for (let i = 0; i < 20; i++) if (limiter.hit('ip:1', 10).allowed) passed++
  t.equal(passed, 10, 'a full allowance again, no more')
})

t.test('each key has its own window, started by its own first request', async (t) => {
  const c = clock()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 100, now: c.now })
  limiter.hit('a', 1)
  c.advance(30_000)
  limiter.hit('b', 1)
  t.equal(limiter.hit('a', 1).allowed, false)
  c.advance(30_000)
  t.equal(limiter.hit('a', 1).allowed, true, 'a started at 0 and has reset')
  t.same(limiter.hit('b', 1), { allowed: false, limit: 1, remaining: 0, resetMs: 30_000 }, 'b started at 30 s')
})

t.test('a denied request consumes nothing and does not push the reset out', async (t) => {
  const c = clock()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 100, now: c.now })
  t.match(limiter.hit('k', 5, 3), { allowed: true, remaining: 2 })
  t.match(limiter.hit('k', 5, 3), { allowed: false, remaining: 2 }, 'a cost of 3 does not fit in 2')
  t.match(limiter.hit('k', 5, 2), { allowed: true, remaining: 0 }, 'the 2 left are still there')
  for (let i = 0; i < 1_000; i++) limiter.hit('k', 5)
  c.advance(MINUTE)
  t.same(limiter.hit('k', 5), { allowed: true, limit: 5, remaining: 4, resetMs: MINUTE }, 'hammering while blocked changed nothing')
})

t.test('a request costing more than the limit is denied without opening a window', async (t) => {
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 100, now: clock().now })
  t.same(limiter.hit('k', 2, 3), { allowed: false, limit: 2, remaining: 2, resetMs: MINUTE })
  t.same(limiter.hit('blocked', 0), { allowed: false, limit: 0, remaining: 0, resetMs: MINUTE })
  t.equal(limiter.size(), 0)
})

t.test('sweep drops ended windows a generation at a time, at most one window length late', async (t) => {
  const c = clock()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 100, now: c.now })
  for (let i = 0; i < 10; i++) {
    limiter.hit(`k${i}`, 5)
    c.advance(1_000)
  }
  t.equal(limiter.sweep(), 0, 'nothing has ended yet')
  c.advance(MINUTE - 10_000 + 4_000)
  t.equal(limiter.sweep(), 0, 'k0..k4 have ended, but their generation still holds live windows')
  t.equal(limiter.size(), 10)
  t.match(limiter.hit('k0', 5), { remaining: 4, resetMs: MINUTE }, 'an ended window is never counted')
  t.match(limiter.hit('k5', 5), { remaining: 3 }, 'a live one keeps its count across the slot turn')
  c.advance(MINUTE)
  t.equal(limiter.sweep(), 9, 'the whole older generation: k1..k9 (k0 had moved on with its new window)')
  t.equal(limiter.size(), 1)
  t.equal(limiter.sweep(), 0)
})

t.test('after two idle windows a sweep drops everything', async (t) => {
  const c = clock()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 100, now: c.now })
  for (let i = 0; i < 10; i++) limiter.hit(`k${i}`, 5)
  c.advance(5 * MINUTE)
  t.equal(limiter.sweep(), 10)
  t.equal(limiter.size(), 0)
  t.match(limiter.hit('k0', 5), { remaining: 4, resetMs: MINUTE })
})

t.test('a window keeps its count and reset across the slot boundary it straddles', async (t) => {
  const c = clock()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 100, now: c.now })
  c.advance(59_000)
  limiter.hit('k', 5)
  c.advance(2_000)
  t.same(limiter.hit('k', 5), { allowed: true, limit: 5, remaining: 3, resetMs: 58_000 })
  c.advance(57_999)
  t.same(limiter.hit('k', 5), { allowed: true, limit: 5, remaining: 2, resetMs: 1 })
  c.advance(1)
  t.same(limiter.hit('k', 5), { allowed: true, limit: 5, remaining: 4, resetMs: MINUTE })
  c.advance(MINUTE - 1)
  t.same(limiter.hit('k', 5), { allowed: true, limit: 5, remaining: 3, resetMs: 1 }, 'and the renewed one too')
})

t.test('a window renewed after its reset goes behind older live windows in the eviction order', async (t) => {
  const c = clock()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 2, now: c.now })
  limiter.hit('a', 5)
  c.advance(30_000)
  limiter.hit('b', 5)
  c.advance(30_000)
  limiter.hit('a', 5)
  limiter.hit('c', 5)
  t.equal(limiter.stats().evicted, 1)
  t.match(limiter.hit('a', 5), { remaining: 3 }, 'renewed a was kept')
  t.match(limiter.hit('b', 5), { remaining: 4 }, 'b, started before a renewed, was evicted')
})

t.test('at maxKeys the oldest window is evicted, and its client just gets a fresh window', async (t) => {
  const c = clock()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 3, now: c.now })
  for (const key of ['a', 'b', 'c']) {
    limiter.hit(key, 5)
    limiter.hit(key, 5)
    c.advance(1_000)
  }
  limiter.hit('d', 5)
  t.equal(limiter.size(), 3)
  t.equal(limiter.stats().evicted, 1)
  t.match(limiter.hit('b', 5), { remaining: 2 }, 'b was not the oldest')
  t.match(limiter.hit('a', 5), { allowed: true, remaining: 4, resetMs: MINUTE }, 'a starts over')
  t.equal(limiter.stats().evicted, 2)
  t.match(limiter.hit('b', 5), { remaining: 4 }, 'a coming back evicted b: the oldest window, even though just used')
  t.match(limiter.hit('d', 5), { remaining: 3 }, 'd is still counted')
})

t.test('an expired window removed at maxKeys is not counted as evicted', async (t) => {
  const c = clock()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 1, now: c.now })
  limiter.hit('a', 5)
  c.advance(MINUTE)
  limiter.hit('b', 5)
  t.match(limiter.stats(), { keys: 1, evicted: 0 })
})

t.test('eviction keeps the bound and the order under long churn', async (t) => {
  const c = clock()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 1_000, now: c.now })
  for (let i = 0; i < 50_000; i++) {
    limiter.hit(`k${i}`, 5)
    if (i % 100 === 0) c.advance(1)
  }
  t.equal(limiter.size(), 1_000)
  t.equal(limiter.stats().evicted, 49_000)
  t.match(limiter.hit('k49000', 5), { remaining: 3 }, 'the newest 1,000 are the ones kept')
  t.match(limiter.hit('k48999', 5), { remaining: 4 }, 'the one before them was evicted')
})

t.test('bad arguments are refused', async (t) => {
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 10, now: clock().now })
  t.throws(() => limiter.hit('k', MAX_LIMIT + 1), RangeError)
  t.throws(() => limiter.hit('k', 1.5), RangeError)
  t.throws(() => limiter.hit('k', 10, 0), RangeError)
  t.throws(() => new RateLimiter({ windowMs: 0, maxKeys: 10 }), RangeError)
  t.throws(() => new RateLimiter({ windowMs: MINUTE, maxKeys: 0 }), RangeError)
  t.equal(limiter.stats().checks, 0)
})

t.test('localShare rounds a limit up over the workers', async (t) => {
  t.equal(localShare(100, 4), 25)
  t.equal(localShare(50, 3), 17)
  t.equal(localShare(10, 16), 1, 'never 0 while the limit is not')
  t.equal(localShare(10, 1), 10)
  t.equal(localShare(0, 4), 0)
  t.throws(() => localShare(10, 0), RangeError)
})

// Needs a real GC to read a settled heap; --expose-gc cannot be passed through tap's node-arg for one file only.
v8.setFlagsFromString('--expose-gc')
const gc: unknown = vm.runInNewContext('gc')
function settledHeap (): number {
  if (typeof gc === 'function') {
    gc()
    gc()
  }
  return process.memoryUsage().heapUsed
}

// Flat strings, as msgpackr decodes them off the IPC socket; `ip:${a}.${b}` concatenations would each carry an
// extra cons-string header (measured ~117 MB instead of ~66 MB for the same million keys).
function clientKey (net: number, n: number): string {
  return Buffer.from(`ip:${net}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, 'latin1').toString('latin1')
}

t.test('1,000,000 distinct keys stay within a bounded heap, and past maxKeys it stays bounded', async (t) => {
  const MB = 1024 * 1024
  const before = settledHeap()
  const limiter = new RateLimiter({ windowMs: MINUTE, maxKeys: 1_000_000 })
  for (let i = 0; i < 1_000_000; i++) limiter.hit(clientKey(100, i), 100)
  const full = settledHeap()
  const growth = (full - before) / MB
  t.comment(`heap growth for 1,000,000 keys (windows and key strings): ${growth.toFixed(1)} MB`)
  t.equal(limiter.size(), 1_000_000)
  t.ok(growth < 200, `${growth.toFixed(1)} MB < 200 MB`)

  for (let i = 0; i < 500_000; i++) limiter.hit(clientKey(172, i), 100)
  const churned = (settledHeap() - before) / MB
  t.comment(`after 500,000 more keys at maxKeys: ${churned.toFixed(1)} MB`)
  t.equal(limiter.size(), 1_000_000)
  t.equal(limiter.stats().evicted, 500_000)
  t.ok(churned < 200, `${churned.toFixed(1)} MB < 200 MB`)
})
