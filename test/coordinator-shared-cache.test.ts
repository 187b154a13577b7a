import t from 'tap'
import { SharedCache } from '../coordinator/shared-cache.ts'
import type { CachedResponse, Lease } from '../src/ipc/messages.ts'

// The coordinator's single flight and version rules, without processes around them.

const entry = (version: number): CachedResponse => ({ body: Buffer.from(`{"v":${version}}`), version, etag: `"v${version}"`, contentType: 'application/json' })
const newCache = (): SharedCache => new SharedCache({ ttlMs: 60_000, maxEntries: 100, maxBytes: 1_000_000 })
const fillToken = (lease: Lease | Promise<Lease>): number => {
  if (lease instanceof Promise || lease.state !== 'fill') throw new Error('expected a fill lease')
  return lease.token
}

t.test('one loader per key; the others wait for its fill and get it', async (t) => {
  const cache = newCache()
  const token = fillToken(cache.lease('days:regular:7:', -1))
  const waiters = [cache.lease('days:regular:7:', -1), cache.lease('days:regular:7:', -1)]
  t.ok(waiters.every((w) => w instanceof Promise), 'later readers wait')
  cache.fill('days:regular:7:', 'regular:7', entry(5), token)
  for (const lease of await Promise.all(waiters)) t.same(lease, { state: 'hit', value: entry(5) })
  t.same(cache.lease('days:regular:7:', 5), { state: 'hit', value: null }, 'a reader holding version 5 gets no bytes')
})

t.test('a fill rendered before a newer change is refused, and its waiters load for themselves', async (t) => {
  const cache = newCache()
  const token = fillToken(cache.lease('days:regular:7:', -1))
  const waiter = cache.lease('days:regular:7:', -1)
  cache.apply({ topic: 'regular', clinicId: 7, version: 9 })
  t.same(await waiter, { state: 'miss' }, 'the change cancelled the flight')
  const again = fillToken(cache.lease('days:regular:7:', -1))
  cache.fill('days:regular:7:', 'regular:7', entry(8), token)
  t.notOk(cache.store.get('days:regular:7:'), 'the old flight\'s fill was dropped')
  cache.fill('days:regular:7:', 'regular:7', entry(8), again)
  t.notOk(cache.store.get('days:regular:7:'), 'a fill older than the change is refused')
  const last = fillToken(cache.lease('days:regular:7:', -1))
  cache.fill('days:regular:7:', 'regular:7', entry(9), last)
  t.equal(cache.store.get('days:regular:7:')?.version, 9)
})

t.test('a fill nobody leased (a lease of a coordinator since restarted) is never stored', async (t) => {
  const cache = newCache()
  cache.fill('days:golden:3:', 'golden:3', entry(4), 12345)
  t.notOk(cache.store.get('days:golden:3:'))
})

t.test('a clinic change drops its profile and every directory listing', async (t) => {
  const cache = newCache()
  for (const key of ['clinic:7:profile:n', 'clinics:list:{}', 'clinic:8:profile:n']) {
    cache.fill(key, key.startsWith('clinics') ? 'clinics' : 'clinic:x', entry(1), fillToken(cache.lease(key, -1)))
  }
  cache.apply({ topic: 'clinic', clinicId: 7, version: 2 })
  t.notOk(cache.store.get('clinic:7:profile:n'))
  t.notOk(cache.store.get('clinics:list:{}'))
  t.ok(cache.store.get('clinic:8:profile:n'), 'another clinic\'s profile stays')
})

t.test('a change heard twice (from its worker and from NOTIFY) is applied once', async (t) => {
  const cache = newCache()
  t.equal(cache.apply({ topic: 'regular', clinicId: 7, version: 10 }), true)
  const token = fillToken(cache.lease('days:regular:7:', -1))
  cache.fill('days:regular:7:', 'regular:7', entry(10), token)
  t.equal(cache.apply({ topic: 'regular', clinicId: 7, version: 10 }), false, 'the second time is a no-op')
  t.equal(cache.store.get('days:regular:7:')?.version, 10, 'and keeps the entry rendered after it')
  t.equal(cache.apply({ topic: 'regular', clinicId: 7, version: 11 }), true)
  t.notOk(cache.store.get('days:regular:7:'))
})
