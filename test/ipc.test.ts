import t from 'tap'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { codec, frame, FrameReader, Kind, type Message } from '../src/ipc/protocol.ts'
import type { ClusterStats, WorkerStats } from '../src/ipc/messages.ts'
import { IpcServer, type Handlers } from '../coordinator/ipc-server.ts'
import { CoordinatorClient, CoordinatorUnavailable } from '../workers/coordinator-client.ts'
import { tempDir, waitFor } from './helpers/server.ts'

const emptyCluster: ClusterStats = {
  coordinator: { pid: 1, startedAt: 0, rss: 0, heapUsed: 0, workersConnected: 0, restarts: 0 },
  primary: { pid: 0, rss: null },
  limiter: { store: 'memory', keys: 0, checks: 0, allowed: 0, denied: 0, evicted: 0, fallbacks: 0 },
  cache: { size: 0, bytes: 0, hits: 0, misses: 0, evictions: 0, expired: 0, hit_rate: '0.00%', max_size: 1, max_bytes: 1, usage: '0.0%' },
  changes: { listening: true, resyncs: 0, lastGapMs: null, gapSinceMs: null, notifications: 0 },
  workers: []
}

function handlers (overrides: Partial<Handlers> = {}): Handlers {
  return {
    ping: () => ({ pid: process.pid, at: Date.now() }),
    'stats.push': () => null,
    'stats.read': () => emptyCluster,
    'change.publish': () => null,
    'cache.lease': () => ({ state: 'miss' }),
    'cache.fill': () => null,
    'cache.stats': () => emptyCluster.cache,
    'cache.clear': () => ({ cleared: 0 }),
    'limit.hit': ({ limit }) => ({ allowed: true, limit, remaining: limit - 1, resetMs: 60_000 }),
    'limit.take': ({ limit }) => ({ allowed: true, limit, remaining: limit - 1, resetMs: 60_000, granted: 0, window: 0 }),
    'limit.return': () => null,
    'days.full': () => null,
    'db.probe': () => ({ reachable: true, latencyMs: 0, error: null }),
    'sessions.revoke': () => null,
    'sessions.list': () => [],
    'lockout.check': () => ({ retryMs: 0 }),
    'lockout.fail': () => ({ retryMs: 0, locked: false }),
    'standing.read': () => ({ entries: [] }),
    'standing.publish': () => null,
    'metrics.read': () => ({ text: '', workers: [] }),
    'metrics.report': () => null,
    ...overrides
  }
}

t.test('frames survive any split of the byte stream, and many frames share one chunk', async (t) => {
  const sender = codec()
  const receiver = codec()
  const messages = Array.from({ length: 50 }, (_, i) => [Kind.Call, i + 1, 'stats.push', { id: i, text: 'ب'.repeat(i) }] as const)
  const bytes = frame(messages.map((m) => sender.pack([...m])))
  const reader = new FrameReader()
  const seen: unknown[] = []
  // Feed it in irregular pieces, including 1-byte ones that split the length prefix.
  for (let offset = 0, step = 1; offset < bytes.length; offset += step, step = (step * 7) % 23 + 1) {
    reader.push(bytes.subarray(offset, offset + step), (payload) => seen.push(receiver.unpack(payload)))
  }
  t.same(seen, messages.map((m) => [...m]))
})

// Issue 16's soak: the coordinator's RSS grew while its JS heap did not. These are the two ways the wire kept large
// native buffers alive (src/ipc/protocol.ts).
t.test('a packed message owns exactly its bytes, however large the messages packed before it', async (t) => {
  const sender = codec()
  const receiver = codec()
  const body = (bytes: number, fill: number): Buffer => Buffer.alloc(bytes, fill)
  const sent: Message[] = [[Kind.Call, 1, 'ping', null]]
  for (const [i, bytes] of [124_000, 20_000, 300_000, 200_000].entries()) {
    sent.push([Kind.Call, 10 + i, 'cache.fill', { key: `days:regular:${i}:`, channel: `regular:${i}`, value: { body: body(bytes, i + 1), version: i, etag: `"${i}"`, contentType: 'application/json' }, token: i }])
    for (let k = 0; k < 50; k++) sent.push([Kind.Ok, 100 + k, 'limit.take', { allowed: true, limit: 60, remaining: k, resetMs: 1000, granted: 0, window: 0 }])
  }
  const packed = sent.map((message) => sender.pack(message))
  // Left to msgpackr, every message after the 124 KB one was a view of a 488 KB buffer (later of a 1.2 MB one). A
  // large message is an allocation of its own size; a small one may share Node's buffer pool, no more.
  const oversized = packed
    .map((bytes, i) => ({ message: i, bytes: bytes.length, buffer: bytes.buffer.byteLength }))
    .filter(({ bytes, buffer }) => bytes > Buffer.poolSize / 2 ? buffer !== bytes : buffer > Buffer.poolSize)
  t.same(oversized, [], `none of ${packed.length} messages is a view of a larger buffer`)
  t.same(packed.map((bytes) => receiver.unpack(bytes)), sent, 'and each one reads back as sent, in order')
})

t.test('a binary value read off the wire does not pin the chunk or the frame it came in', async (t) => {
  const sender = codec()
  const receiver = codec()
  const body = Buffer.alloc(150_000, 7)
  const small = Buffer.alloc(300, 8)
  const bytes = frame([
    sender.pack([Kind.Call, 1, 'cache.fill', { key: 'a', channel: 'regular:1', value: { body: small, version: 1, etag: '"1"', contentType: 'application/json' }, token: 1 }]),
    sender.pack([Kind.Call, 2, 'cache.fill', { key: 'b', channel: 'regular:2', value: { body, version: 2, etag: '"2"', contentType: 'application/json' }, token: 2 }])
  ])
  const reader = new FrameReader()
  const values: Array<{ body: Uint8Array }> = []
  // Socket reads of at most 64 KB, as a Unix socket delivers them: the large frame spans three.
  for (let offset = 0; offset < bytes.length; offset += 65_536) {
    reader.push(bytes.subarray(offset, offset + 65_536), (payload) => {
      const [, , , request] = receiver.unpack(payload) as [Kind, number, string, { value: { body: Uint8Array } }]
      values.push(request.value)
    })
  }
  t.equal(values.length, 2, 'both frames read, the large one once')
  t.same(values.map((v) => Buffer.from(v.body)), [small, body], 'bytes intact')
  for (const value of values) t.equal(value.body.buffer.byteLength, value.body.byteLength, `a ${value.body.byteLength} B body owns its memory`)
})

t.test('a worker and the coordinator talk over a Unix socket', async (t) => {
  const socketPath = join(tempDir('tabeby-ipc-'), 'c.sock')
  let dataEvents = 0
  const server = new IpcServer(socketPath, handlers({ 'stats.push': (stats: WorkerStats) => { void stats; return null } }))
  await server.listen()
  const events: unknown[] = []
  // Time enough for a thousand replies on a busy machine: the timeout is the next test's subject, not this one's.
  const client = new CoordinatorClient({ socketPath, timeoutMs: 10_000, onEvent: (name, payload) => events.push([name, payload]) })
  t.teardown(() => { client.close(); server.close() })

  t.rejects(client.call('ping', null), CoordinatorUnavailable, 'a call before the connection is up falls back at once')
  client.connect()
  await waitFor('connection', async () => client.connected)
  for (const peer of server.peers) peer.socket.on('data', () => { dataEvents++ })

  const pong = await client.call('ping', null)
  t.equal(pong.pid, process.pid, 'request and reply matched by id')

  dataEvents = 0
  const replies = await Promise.all(Array.from({ length: 1000 }, () => client.call('ping', null)))
  t.equal(replies.length, 1000)
  t.ok(dataEvents <= 3, `1000 calls made in one turn arrived in ${dataEvents} read(s): one write`)

  server.broadcast('hello', { pid: 42 })
  await waitFor('the event', async () => events.length > 0)
  t.same(events[0], ['hello', { pid: 42 }], 'the coordinator pushes events to workers')
})

t.test('a call the coordinator does not answer in time falls back instead of hanging', async (t) => {
  const socketPath = join(tempDir('tabeby-ipc-'), 'c.sock')
  const server = new IpcServer(socketPath, handlers({ 'stats.read': () => new Promise<ClusterStats>(() => {}) }))
  await server.listen()
  const client = new CoordinatorClient({ socketPath, timeoutMs: 100 })
  t.teardown(() => { client.close(); server.close() })
  client.connect()
  await waitFor('connection', async () => client.connected)

  const started = Date.now()
  await t.rejects(client.call('stats.read', null), CoordinatorUnavailable)
  const waited = Date.now() - started
  // 100 ms and the sweep's tick; the bound leaves a busy machine room, and is still no hang.
  t.ok(waited >= 90 && waited < 2000, `gave up after ${waited} ms`)
  t.equal(client.counters.timeouts, 1)
})

t.test('a worker reconnects by itself when the coordinator comes back', async (t) => {
  const socketPath = join(tempDir('tabeby-ipc-'), 'c.sock')
  let server = new IpcServer(socketPath, handlers())
  await server.listen()
  const client = new CoordinatorClient({ socketPath, timeoutMs: 200 })
  t.teardown(() => { client.close(); server.close() })
  client.connect()
  await waitFor('connection', async () => client.connected)
  await client.call('ping', null)

  server.close()
  await waitFor('the client to notice', async () => !client.connected)
  await t.rejects(client.call('ping', null), CoordinatorUnavailable, 'while it is away, calls fall back')
  await sleep(100)

  server = new IpcServer(socketPath, handlers())
  await server.listen()
  await waitFor('reconnection', async () => client.connected, 5000)
  const pong = await client.call('ping', null)
  t.equal(pong.pid, process.pid, 'calls work again on the new connection (fresh shared structures)')
})

t.test('written() ends for every send, whether or not the socket buffer ever filled', async (t) => {
  // A change's 200 waits until the coordinator's broadcast is in each worker's socket (coordinator/start.ts). That
  // wait once listened for 'drain', which a socket emits only after a write found its buffer full: with a few bytes
  // still queued it never came, and the call hung until the worker's timeout.
  const socketPath = join(tempDir('tabeby-ipc-'), 'c.sock')
  const server = new IpcServer(socketPath, handlers())
  await server.listen()
  const client = new CoordinatorClient({ socketPath, timeoutMs: 10_000, onEvent: () => {} })
  t.teardown(() => { client.close(); server.close() })
  client.connect()
  await waitFor('connection', async () => client.connected && server.peers.size === 1)
  const [peer] = [...server.peers]
  let stuck = 0
  for (let i = 0; i < 3000; i++) {
    peer?.send([Kind.Event, 0, 'hello', { pid: i, pad: 'x'.repeat(i % 400) }])
    const outcome = await Promise.race([peer?.written().then(() => 'written'), sleep(2000).then(() => 'stuck')])
    if (outcome === 'stuck') stuck++
    if (stuck > 0) break
  }
  t.equal(stuck, 0, 'every wait ended')
  t.equal(peer?.socket.listenerCount('drain'), 0, 'and left no listener behind')
})
