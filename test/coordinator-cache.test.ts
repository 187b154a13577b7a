import t from 'tap'
import { ResponseCache } from '../coordinator/cache.ts'
import type { CachedResponse } from '../coordinator/cache.ts'

function response (bodyBytes: number, extra: { gzip?: number; br?: number } = {}): CachedResponse {
  const value: CachedResponse = {
    body: new Uint8Array(bodyBytes),
    version: 1,
    etag: '"v1"',
    contentType: 'application/json; charset=utf-8'
  }
  if (extra.gzip !== undefined) value.gzip = new Uint8Array(extra.gzip)
  if (extra.br !== undefined) value.br = new Uint8Array(extra.br)
  return value
}

function clock (start = 0): { now: () => number, advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

t.test('an entry is served until its TTL, then it is a miss and is gone', async (t) => {
  const c = clock()
  const cache = new ResponseCache({ ttlMs: 30_000, maxEntries: 10, maxBytes: 10_000, now: c.now })
  const value = response(10)
  cache.set('days:regular:7:', value)
  c.advance(29_999)
  t.equal(cache.get('days:regular:7:'), value, 'still fresh 1 ms before the TTL')
  c.advance(1)
  t.equal(cache.get('days:regular:7:'), undefined, 'expired at the TTL')
  t.match(cache.stats(), { size: 0, bytes: 0, hits: 1, misses: 1, expired: 1, evictions: 0 })
})

t.test('a TTL passed to set overrides the default one', async (t) => {
  const c = clock()
  const cache = new ResponseCache({ ttlMs: 30_000, maxEntries: 10, maxBytes: 10_000, now: c.now })
  cache.set('short', response(1), 1_000)
  cache.set('long', response(1), 60_000)
  c.advance(30_000)
  t.equal(cache.get('short'), undefined)
  t.ok(cache.get('long'))
  t.equal(cache.set('never', response(1), 0), false, 'a TTL of 0 stores nothing')
  t.equal(cache.get('never'), undefined)
})

t.test('sweep removes the expired entries and only those', async (t) => {
  const c = clock()
  const cache = new ResponseCache({ ttlMs: 1_000, maxEntries: 10, maxBytes: 10_000, now: c.now })
  cache.set('a', response(10))
  cache.set('b', response(10), 5_000)
  cache.set('c', response(10))
  c.advance(1_000)
  t.equal(cache.sweep(), 2)
  t.equal(cache.sweep(), 0, 'nothing left to sweep')
  t.match(cache.stats(), { size: 1, bytes: 11, expired: 2 })
  t.ok(cache.get('b'))
})

t.test('the least recently used entry is evicted first, and a hit makes an entry recent', async (t) => {
  const cache = new ResponseCache({ ttlMs: 60_000, maxEntries: 3, maxBytes: 10_000, now: clock().now })
  cache.set('a', response(1))
  cache.set('b', response(1))
  cache.set('c', response(1))
  cache.get('a')
  cache.set('d', response(1))
  t.equal(cache.get('b'), undefined, 'b was the least recently used')
  t.ok(cache.get('a'))
  cache.set('e', response(1))
  t.equal(cache.get('c'), undefined, 'then c')
  t.same(['a', 'd', 'e'].map((k) => cache.get(k) !== undefined), [true, true, true])
  t.equal(cache.stats().evictions, 2)
})

t.test('the entry bound holds: 250 inserts into 100 slots keep the newest 100', async (t) => {
  const cache = new ResponseCache({ ttlMs: 60_000, maxEntries: 100, maxBytes: 1_000_000, now: clock().now })
  for (let i = 0; i < 250; i++) cache.set(`k${i}`, response(1))
  t.match(cache.stats(), { size: 100, evictions: 150, usage: '100.0%' })
  t.equal(cache.get('k149'), undefined)
  t.ok(cache.get('k150'))
  t.ok(cache.get('k249'))
})

t.test('the byte bound counts body, gzip, br and key, and evicts until the new value fits', async (t) => {
  const cache = new ResponseCache({ ttlMs: 60_000, maxEntries: 100, maxBytes: 100, now: clock().now })
  cache.set('k1', response(20, { gzip: 10, br: 8 }))
  t.equal(cache.stats().bytes, 2 + 20 + 10 + 8)
  cache.set('k2', response(38))
  t.equal(cache.stats().bytes, 80)
  cache.set('k3', response(28))
  t.equal(cache.get('k1'), undefined, 'k1 made room for k3')
  t.match(cache.stats(), { size: 2, bytes: 70, evictions: 1 })

  cache.set('k2', response(8))
  t.equal(cache.stats().bytes, 40, 'replacing a key accounts its bytes once')
  t.equal(cache.stats().size, 2)
})

t.test('a value larger than maxBytes is not stored, and the older value under its key is dropped', async (t) => {
  const cache = new ResponseCache({ ttlMs: 60_000, maxEntries: 100, maxBytes: 100, now: clock().now })
  cache.set('other', response(10))
  cache.set('big', response(10))
  t.equal(cache.set('big', response(99)), false, '2 + 99 bytes > 100')
  t.equal(cache.get('big'), undefined)
  t.ok(cache.get('other'), 'nothing else was evicted for it')
  t.match(cache.stats(), { size: 1, bytes: 15, evictions: 0 })
  t.equal(cache.set('fits', response(96)), true, '4 + 96 bytes is exactly the bound')
  t.equal(cache.get('other'), undefined)
})

t.test('deleting by prefix drops clinic 7 and leaves clinics 70 and 17 alone', async (t) => {
  const cache = new ResponseCache({ ttlMs: 60_000, maxEntries: 100, maxBytes: 10_000, now: clock().now })
  const keys = [
    'days:regular:7:',
    'days:regular:7:from=2025-10-18',
    'days:regular:70:',
    'days:regular:70:from=2025-10-18',
    'days:regular:17:',
    'days:golden:7:',
  ]
  for (const key of keys) cache.set(key, response(1))
  t.equal(cache.deleteByPrefix('days:regular:7:'), 2)
  t.same(keys.map((k) => cache.get(k) !== undefined), [false, false, true, true, true, true])
  t.equal(cache.deleteByPrefix('days:regular:7:'), 0, 'nothing left under that prefix')

  cache.set('days:regular:7:', response(1))
  t.equal(cache.deleteByPrefix('days:regular:7:'), 1, 'a key set again is found again')
  t.equal(cache.deleteByPrefix('days:'), 4, 'a lane-wide prefix')
  t.equal(cache.stats().size, 0)
  t.equal(cache.stats().bytes, 0)
})

t.test('a prefix that does not end at a `:` still works as startsWith', async (t) => {
  const cache = new ResponseCache({ ttlMs: 60_000, maxEntries: 100, maxBytes: 10_000, now: clock().now })
  for (const key of ['days:regular:7:', 'days:regular:70:', 'days:golden:7:']) cache.set(key, response(1))
  t.equal(cache.deleteByPrefix('days:g'), 1)
  t.equal(cache.deleteByPrefix('days:regular:7'), 2, 'without the `:`, 70 matches too')
  t.equal(cache.stats().size, 0)
})

t.test('evicted, expired and deleted keys leave the prefix index too', async (t) => {
  const c = clock()
  const cache = new ResponseCache({ ttlMs: 1_000, maxEntries: 2, maxBytes: 10_000, now: c.now })
  cache.set('days:regular:1:', response(1))
  cache.set('days:regular:2:', response(1))
  cache.set('days:regular:3:', response(1))
  t.equal(cache.deleteByPrefix('days:regular:1:'), 0, 'evicted')
  c.advance(1_000)
  cache.get('days:regular:2:')
  t.equal(cache.deleteByPrefix('days:regular:2:'), 0, 'expired on read')
  cache.delete('days:regular:3:')
  t.equal(cache.deleteByPrefix('days:'), 0, 'deleted')
})

t.test('stats count hits and misses and format hit_rate and usage like the legacy v2 note', async (t) => {
  const cache = new ResponseCache({ ttlMs: 60_000, maxEntries: 10_000, maxBytes: 1_000_000, now: clock().now })
  t.match(cache.stats(), { hits: 0, misses: 0, hit_rate: '0.00%', usage: '0.0%' }, 'no lookups yet')
  for (let i = 0; i < 150; i++) cache.set(`k${i}`, response(1))
  for (let i = 0; i < 4; i++) cache.get('k1')
  cache.get('missing')
  t.same(cache.stats(), {
    size: 150,
    bytes: 150 * 1 + [...Array(150).keys()].reduce((sum, i) => sum + `k${i}`.length, 0),
    hits: 4,
    misses: 1,
    evictions: 0,
    expired: 0,
    hit_rate: '80.00%',
    max_size: 10_000,
    max_bytes: 1_000_000,
    usage: '1.5%'
  })
  cache.get('k2')
  cache.get('k3')
  t.equal(cache.stats().hit_rate, '85.71%', 'two decimals: 6 of 7')
})

t.test('clear drops every entry and keeps the counters', async (t) => {
  const cache = new ResponseCache({ ttlMs: 60_000, maxEntries: 10, maxBytes: 10_000, now: clock().now })
  cache.set('days:regular:7:', response(10))
  cache.get('days:regular:7:')
  cache.clear()
  t.match(cache.stats(), { size: 0, bytes: 0, hits: 1 })
  t.equal(cache.get('days:regular:7:'), undefined)
  t.equal(cache.deleteByPrefix('days:'), 0)
  for (let i = 0; i < 12; i++) cache.set(`k${i}`, response(1))
  t.equal(cache.stats().size, 10, 'eviction still works after a clear')
})

t.test('an entry that expired before it was evicted counts as expired, not evicted', async (t) => {
  const c = clock()
  const cache = new ResponseCache({ ttlMs: 1_000, maxEntries: 1, maxBytes: 10_000, now: c.now })
  cache.set('a', response(1))
  c.advance(1_000)
  cache.set('b', response(1))
  t.match(cache.stats(), { size: 1, evictions: 0, expired: 1 })
})

t.test('LRU order stays exact under heavy churn', async (t) => {
  const cache = new ResponseCache({ ttlMs: 60_000, maxEntries: 1_000, maxBytes: 10_000_000, now: clock().now })
  const live: string[] = []
  for (let i = 0; i < 20_000; i++) {
    const key = `k${i}`
    cache.set(key, response(1))
    live.push(key)
    // touch an older key so recency order differs from insertion order
    if (i % 3 === 0 && live.length > 10) {
      const touched = live.splice(live.length - 10, 1)[0]
      if (touched !== undefined && cache.get(touched) !== undefined) live.push(touched)
    }
    if (live.length > 1_000) live.splice(0, live.length - 1_000)
  }
  t.equal(cache.stats().size, 1_000)
  t.ok(live.every((k) => cache.get(k) !== undefined), 'the 1,000 most recently used are the ones kept')
})

t.test('bad options are refused', async (t) => {
  t.throws(() => new ResponseCache({ ttlMs: 0, maxEntries: 1, maxBytes: 1 }), RangeError)
  t.throws(() => new ResponseCache({ ttlMs: 1, maxEntries: 0, maxBytes: 1 }), RangeError)
  t.throws(() => new ResponseCache({ ttlMs: 1, maxEntries: 1, maxBytes: 0 }), RangeError)
})
