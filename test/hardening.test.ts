import t from 'tap'
import { connect } from 'node:net'
import { request as httpRequest } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Response } from './helpers/client.ts'
import { waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'
import { inBatches } from './helpers/booking-api.ts'
import { startFirebase } from './helpers/firebase.ts'

// What a hostile or broken client can do to a worker, and what it gets back (issue: hardening; contract.md §2).
//
// What uWebSockets.js v20.30 (the @trufflesuite/uws-js-unofficial build we run) enforces by itself, measured here:
// - Idle sockets: a connection gets 10 s (HTTP_IDLE_TIMEOUT_S; uSockets' timers tick every 4 s, so 8-12 s) to
//   complete a request head. Partial header bytes do not re-arm it, so a slowloris client is cut like an idle one.
//   A body gets the same 10 s once the handler returned with onData attached, re-armed only by 16 KB/s of
//   progress (HTTP_RECEIVE_THROUGHPUT_BYTES): our 64 KiB bodies must arrive within that window.
// - Head size: MAX_FALLBACK_SIZE, 4 KiB, only for a head split over several reads; it closes the socket without an
//   answer. A head that arrives in one read is handed on whole, a 100 KB URL included: hence MAX_URL_BYTES (414)
//   and MAX_HEADER_BYTES (431) in workers/http.ts.
// - Header count: at most 48 header lines, Host included (a 50-slot table that also holds the request line and
//   an end mark); with a 49th the head is never parsed, nothing is answered, and the idle timeout closes the socket.
// - A malformed Content-Length, a bad chunk size, an unknown or lower-case method: the socket is closed at once,
//   without an answer (this build has no 400 responses of its own).
// - Chunked request bodies are decoded; onData sees the payload, not the chunk framing.
// - No pipelining: a request that arrives while the previous answer on its connection is pending closes it.

const DOCTOR_PROFILE_SECRET = 'doctor-secret-hardening-3f9e1c7a5b'
const JWT_SECRET = 'jwt-signing-key-hardening-8d4b2f6e0a9c1e3d5f7b'
const ADMIN_EMAIL = 'root@tabeby.test'
const ADMIN_PASSWORD = 'admin-password-hardening-6c2a9e4f'
const WRONG_PASSWORD = 'wrong-password-hardening-1b7d3f5e'
const MAX_BODY_BYTES = 64 * 1024
// "At once", for a busy shared machine: well under uWS's idle timeout (8-12 s), which is what a socket left open, a
// client left waiting behind a hostile one, or a parse gone quadratic would show instead.
const AT_ONCE_MS = 5000

// Limits far out of the way: the dashboard sweep below sends hundreds of requests as one admin from one address.
const firebase = await startFirebase()
t.teardown(() => firebase.close())
const { app: server } = await startStack(t, {
  mode: 'cluster',
  env: { DOCTOR_PROFILE_SECRET, JWT_SECRET, ADMIN_EMAIL, ADMIN_PASSWORD, RATE_LIMIT_AUTH: '30000', RATE_LIMIT_DEFAULT: '30000', ...firebase.env }
})

const app = { 'Doctor-Secret': DOCTOR_PROFILE_SECRET, 'Content-Type': 'application/json' }

interface Exchange {
  text: string
  // How long after connecting the server closed the socket; null if it was still open when we gave up.
  closedAfterMs: number | null
}

// How many whole answers (head and Content-Length body) the text holds.
function wholeAnswers (text: string): number {
  let count = 0
  for (let at = 0; ;) {
    const end = text.indexOf('\r\n\r\n', at)
    if (end < 0) return count
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(at, end))?.[1] ?? 0)
    if (text.length < end + 4 + length) return count
    count++
    at = end + 4 + length
  }
}

// A client that speaks bytes, not HTTP: it writes each string or buffer, sleeps each number (ms), and reports what
// came back and when the server closed the connection. With `answers`, it stops as soon as that many whole answers
// arrived (closedAfterMs null: the connection was still open), instead of waiting for a close that is not coming.
async function exchange (parts: Array<string | Buffer | number>, giveUpMs = 8000, answers?: number): Promise<Exchange> {
  return await new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1')
    const started = Date.now()
    let text = ''
    let settled = false
    const settle = (closedAfterMs: number | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ text, closedAfterMs })
    }
    const timer = setTimeout(() => settle(null), giveUpMs)
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      if (answers !== undefined && wholeAnswers(text) >= answers) settle(null)
    })
    socket.on('error', () => {})
    socket.on('close', () => settle(Date.now() - started))
    socket.on('connect', () => {
      void (async () => {
        // Stops with the exchange: a slowloris script sleeps for a minute, and its timers would keep this process
        // alive long after the test is done with it.
        for (const part of parts) {
          if (settled) return
          if (typeof part === 'number') await sleep(part)
          else if (!socket.destroyed) socket.write(part)
        }
      })()
    })
  })
}

const statusOf = (text: string): number => Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0)
const bodyOf = (text: string): string => text.slice(text.indexOf('\r\n\r\n') + 4)

// A POST through node:http: with `chunked` it sends Transfer-Encoding: chunked and no Content-Length.
async function upload (path: string, body: Buffer, chunked: boolean): Promise<Response> {
  return await new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...app }
    if (!chunked) headers['Content-Length'] = String(body.length)
    const req = httpRequest(`${server.url}${path}`, { method: 'POST', headers, agent: false, timeout: 45_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T })
      })
    })
    req.on('timeout', () => req.destroy(new Error(`timeout: POST ${path}`)))
    req.on('error', reject)
    for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.subarray(at, at + 16 * 1024))
    req.end()
  })
}

interface WorkerFigures { id: number, pid: number, in_flight: number, errors_5xx: number }

async function workers (): Promise<WorkerFigures[]> {
  return await waitFor('both workers in /stats', async () => {
    const body = (await server.request('/stats')).json<{ workers: WorkerFigures[] }>()
    return body.workers.length === 2 ? body.workers : null
  })
}

const pidsOf = (list: WorkerFigures[]): number[] => list.map((w) => w.pid).sort((a, b) => a - b)
const errors5xx = (list: WorkerFigures[]): number => list.reduce((n, w) => n + w.errors_5xx, 0)

const initialPids = pidsOf(await workers())

t.test('a body over MAX_BODY_BYTES is refused with a JSON 413, and the worker keeps serving', async (t) => {
  const oversized = Buffer.from(JSON.stringify({ clinic_id: 1, name: 'x'.repeat(100 * 1024) }))
  const expected = { detail: `request body exceeds ${MAX_BODY_BYTES} bytes`, code: 'body_too_large' }

  const declared = await upload('/api/patient_booking', oversized, false)
  t.equal(declared.status, 413, 'with a declared Content-Length')
  t.same(declared.json(), expected)
  t.match(declared.headers['content-type'], /^application\/json/)

  const chunked = await upload('/api/patient_booking', oversized, true)
  t.equal(chunked.status, 413, 'chunked, without Content-Length')
  t.same(chunked.json(), expected)

  const megabyte = await upload('/api/patient_booking', Buffer.alloc(1024 * 1024, 'x'), true)
  t.equal(megabyte.status, 413, 'a chunked megabyte: read to its end and thrown away, so the client reads the 413')

  // Far past the limit the answer goes out at once and the connection closes instead of reading it all.
  const huge = await exchange([`POST /api/patient_booking HTTP/1.1\r\nHost: x\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n{"a":`])
  t.equal(statusOf(huge.text), 413, 'a declared 50 MB body is refused before it is sent')
  t.ok(huge.closedAfterMs !== null && huge.closedAfterMs < AT_ONCE_MS, `and the connection is closed (${huge.closedAfterMs} ms)`)

  // After a 413 within the drain allowance, the same keep-alive connection serves the next request. (Sent once
  // the first is answered: uWS closes a connection that pipelines a request while an answer is pending.)
  const body = 'x'.repeat(100 * 1024)
  const reused = await exchange([
    `POST /api/patient_booking HTTP/1.1\r\nHost: x\r\nDoctor-Secret: ${DOCTOR_PROFILE_SECRET}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    1000,
    'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
  ], 8000, 2)
  const answers = [...reused.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
  t.same(answers, [413, 200], 'the connection carries on after the 413')

  const fits = await upload('/api/patient_booking', Buffer.from(JSON.stringify({ clinic_id: 1, name: 'x'.repeat(60 * 1024) })), false)
  t.ok(fits.status !== 413 && fits.status < 500, `a body just under the limit is read and judged on its content (${fits.status})`)

  const after = await workers()
  t.same(pidsOf(after), initialPids, 'no worker was replaced')
  t.equal((await server.request('/health')).status, 200)
})

// A 100 KB head crosses the loopback in more than one segment. When the worker's first read gets only part of it,
// uWS's own limit for a head in several reads (4 KiB, above) closes the socket before our code sees the request, and
// the client reads a reset; a head that arrives in one read gets our 414. Which one happens is timing (it shows on a
// busy machine), so the request is sent again until a head arrives whole, accepting only that reset meanwhile.
async function wholeHead (path: string, headers: Record<string, string> = {}): Promise<{ res: Response, resets: number }> {
  for (let resets = 0; ; resets++) {
    try {
      return { res: await server.request(path, { headers }), resets }
    } catch (error) {
      if ((error as { code?: string }).code !== 'ECONNRESET' || resets >= 20) throw error
    }
  }
}

t.test('URL and header limits: 414 and 431 in JSON, a closed socket where uWS refuses, and nobody else waits', async (t) => {
  const { res: longPath, resets: pathResets } = await wholeHead(`/api/${'a'.repeat(100_000)}`)
  t.equal(longPath.status, 414, `a 100 KB path (${pathResets} earlier sockets closed by uWS)`)
  t.same(longPath.json(), { detail: 'request path and query exceed 8192 bytes', code: 'url_too_long' })

  const { res: longQuery, resets: queryResets } = await wholeHead(`/api/booking_days?clinic_id=1&pad=${'a'.repeat(100_000)}`, app)
  t.equal(longQuery.status, 414, `a 100 KB query (${queryResets} earlier sockets closed by uWS)`)

  const nearLimit = await server.request(`/api/booking_days?clinic_id=1&pad=${'a'.repeat(7000)}`, { headers: app })
  t.ok(nearLimit.status !== 414 && nearLimit.status < 500, `a 7 KB URL is served (${nearLimit.status})`)

  const bigHeader = await server.request('/', { headers: { 'X-Padding': 'b'.repeat(10_000) } })
  t.equal(bigHeader.status, 431, 'a 10 KB header')
  t.same(bigHeader.json(), { detail: 'request headers exceed 8192 bytes', code: 'headers_too_large' })

  const manySmall: Record<string, string> = {}
  for (let i = 0; i < 40; i++) manySmall[`X-Filler-${i}`] = 'c'.repeat(250)
  t.equal((await server.request('/', { headers: manySmall })).status, 431, 'forty 250-byte headers add up to 431')

  // uWS's own limits, which never reach our code: a head split over reads past 4 KiB, and more than 48 headers.
  // A second apart, so the worker surely reads the first part alone, however busy the machine.
  const split = await exchange([`GET /${'a'.repeat(3000)}`, 1000, `${'a'.repeat(2000)} HTTP/1.1\r\nHost: x\r\n\r\n`])
  t.equal(split.text, '', 'a 5 KB head in two reads gets no answer from uWS')
  t.ok(split.closedAfterMs !== null && split.closedAfterMs < 1000 + AT_ONCE_MS, `and its socket is closed at once (${split.closedAfterMs} ms)`)

  let headers = ''
  for (let i = 0; i < 60; i++) headers += `X-H${i}: v\r\n`
  const tooMany = exchange([`GET / HTTP/1.1\r\nHost: x\r\n${headers}\r\n`], 20_000)
  const served: number[] = []
  for (let i = 0; i < 10; i++) {
    const started = Date.now()
    t.equal((await server.request('/')).status, 200)
    served.push(Date.now() - started)
    await sleep(200)
  }
  const many = await tooMany
  t.equal(many.text, '', '60 headers: uWS never parses the head, so nothing is answered')
  t.ok(many.closedAfterMs !== null && many.closedAfterMs <= 15_000, `the socket is closed by the idle timeout (${many.closedAfterMs} ms)`)
  t.ok(Math.max(...served) < AT_ONCE_MS, `other clients were served meanwhile (slowest ${Math.max(...served)} ms)`)

  t.same(pidsOf(await workers()), initialPids, 'no worker was replaced')
})

t.test('idle, slowloris and stalled-body clients are cut within 15 s; 50 of them do not stop anyone else', async (t) => {
  const head = `POST /api/patient_booking HTTP/1.1\r\nHost: x\r\nDoctor-Secret: ${DOCTOR_PROFILE_SECRET}\r\nContent-Type: application/json\r\n`
  const slowloris = (): Array<string | number> => {
    const bytes = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1'
    return [...bytes].flatMap((byte) => [byte, 2000]) // one byte every 2 s, never the blank line
  }
  const kinds = {
    idle: (): Array<string | number> => [],
    slowloris,
    'stalled body': (): Array<string | number> => [`${head}Content-Length: 200\r\n\r\n{"clinic_id": 1, "name": "`],
    'stalled chunked body': (): Array<string | number> => [`${head}Transfer-Encoding: chunked\r\n\r\n10\r\n{"clinic_id": 1,`]
  }
  const names = Object.keys(kinds) as Array<keyof typeof kinds>
  const hostile = Array.from({ length: 52 }, (_, i) => {
    const kind = names[i % names.length] as keyof typeof kinds
    return exchange(kinds[kind](), 25_000).then((result) => ({ kind, ...result }))
  })

  // Meanwhile an ordinary client keeps asking, over fresh connections, and posting small bodies.
  const latencies: number[] = []
  const statuses = new Set<number>()
  const deadline = Date.now() + 13_000
  while (Date.now() < deadline) {
    const started = Date.now()
    statuses.add((await server.request('/')).status)
    statuses.add((await server.request('/api/patient_booking', { method: 'POST', headers: app, body: '{}' })).status)
    latencies.push(Date.now() - started)
    await sleep(100)
  }
  const results = await Promise.all(hostile)
  t.same([...statuses].sort(), [200, 422], 'every ordinary request was answered (200 for GET /, 422 for the empty booking)')
  t.ok(Math.max(...latencies) < AT_ONCE_MS, `within ${AT_ONCE_MS / 1000} s each (slowest ${Math.max(...latencies)} ms over ${latencies.length} rounds)`)

  for (const name of names) {
    const ofKind = results.filter((r) => r.kind === name)
    const slowest = Math.max(...ofKind.map((r) => r.closedAfterMs ?? Infinity))
    t.ok(slowest <= 15_000, `${ofKind.length} ${name} sockets were closed by the server, the last after ${slowest} ms`)
    t.ok(ofKind.every((r) => r.text === ''), `${name}: nothing was answered`)
  }

  // A request whose body was cut must end on the server too, not hold a place in the drain on SIGTERM.
  const settled = await waitFor('no request left in flight', async () => {
    const list = await workers()
    return list.reduce((n, w) => n + w.in_flight, 0) <= 1 ? list : null // the /stats request itself
  }, 5000, 200)
  t.same(pidsOf(settled), initialPids, 'no worker was replaced')
})

t.test('a slow but steady body is still read', async (t) => {
  const body = JSON.stringify({ clinic_id: 'not-a-number' })
  const third = Math.ceil(body.length / 3)
  const slow = await exchange([
    `POST /api/patient_booking HTTP/1.1\r\nHost: x\r\nDoctor-Secret: ${DOCTOR_PROFILE_SECRET}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    body.slice(0, third), 1500, body.slice(third, 2 * third), 1500, body.slice(2 * third)
  ], 10_000, 1)
  t.equal(statusOf(slow.text), 422, 'pieces 1.5 s apart make one body, judged on its content')
  t.match(JSON.parse(bodyOf(slow.text)), { detail: [{ loc: ['body', 'clinic_id'] }] })
})

t.test('JSON nesting is refused past 32 levels; a huge flat array is bounded by the body limit', async (t) => {
  const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels)
  const typeOf = (res: Response): string | undefined => res.json<{ detail: Array<{ type: string }> }>().detail[0]?.type

  const at32 = await server.request('/api/patient_booking', { method: 'POST', headers: app, body: nested(32) })
  t.equal(at32.status, 422)
  t.not(typeOf(at32), 'json_too_deep', '32 levels parse, then fail the schema like any wrong shape')

  const at33 = await server.request('/api/patient_booking', { method: 'POST', headers: app, body: nested(33) })
  t.equal(at33.status, 422)
  t.same(at33.json(), { detail: [{ loc: ['body'], msg: 'JSON nested deeper than 32 levels', type: 'json_too_deep' }] })

  const deep = await server.request('/api/patient_booking', { method: 'POST', headers: app, body: nested(20_000) })
  t.equal(deep.status, 422, '20 000 levels: the same answer, and no stack overflow')
  t.equal(typeOf(deep), 'json_too_deep')

  const flat = (bytes: number): string => `[${'0,'.repeat(Math.floor((bytes - 3) / 2))}0]`
  const started = Date.now()
  const wide = await server.request('/api/patient_booking', { method: 'POST', headers: app, body: flat(MAX_BODY_BYTES - 16) })
  t.equal(wide.status, 422, `an array of ${Math.floor((MAX_BODY_BYTES - 19) / 2) + 1} zeros, just inside the limit, is a plain 422`)
  t.ok(Date.now() - started < AT_ONCE_MS, `answered in ${Date.now() - started} ms`)
  const wider = await server.request('/api/patient_booking', { method: 'POST', headers: app, body: flat(MAX_BODY_BYTES + 16) })
  t.equal(wider.status, 413, 'one just past it is a 413')
})

t.test('hostile input never gets a 5xx, a stack trace or SQL, and no worker dies', async (t) => {
  const before = await workers()
  const logBefore = server.output().length
  const leaks = [/\bat .*:\d+:\d+/, /postgres/i, /\bSELECT\b/i, /\bINSERT\b/, /node_modules/, /\.ts\b/, /Error:/, /\bstack\b/i, /syntax error/i]

  const bytes = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))
  const posts: Array<[string, string | Buffer]> = [
    ['invalid UTF-8 in a string', bytes('{"clinic_id": 1, "name": "', [0xff, 0xfe, 0xc3], '", "phone": "07701234567"}')],
    ['invalid UTF-8 as a key', bytes('{"', [0xc0, 0xaf], '": 1}')],
    ['1e400', '{"clinic_id": 1e400, "name": "a", "phone": "07701234567", "source": "patient_app"}'],
    ['-1e400 and 1e-400', '{"clinic_id": -1e400, "token": 1e-400}'],
    ['a 400-digit integer', `{"clinic_id": ${'9'.repeat(400)}}`],
    ['__proto__', '{"__proto__": {"isAdmin": true, "clinic_id": 1}, "clinic_id": 1, "name": "a", "phone": "07701234567"}'],
    ['constructor.prototype', '{"constructor": {"prototype": {"polluted": true}}, "clinic_id": 1}'],
    ['duplicated keys', '{"clinic_id": 1, "clinic_id": "x", "clinic_id": {"a": 1}}'],
    ['not JSON', '{"clinic_id": '],
    ['a bare string', '"hello"'],
    ['null', 'null'],
    ['an escaped NUL', '{"clinic_id": 1, "name": "a\\u0000b"}'],
    ['a lone surrogate', '{"clinic_id": 1, "name": "\\ud800", "phone": "07701234567"}'],
    ['a wrong type everywhere', '{"clinic_id": [], "name": {}, "phone": true, "date": 7, "source": null}']
  ]
  const answers: Array<[string, Response]> = []
  const idToken = await firebase.idToken()
  for (const [name, body] of posts) {
    answers.push([`POST patient_booking: ${name}`, await server.request('/api/patient_booking', { method: 'POST', headers: app, body })])
    answers.push([`POST golden_patient_payment: ${name}`, await server.request('/api/golden_patient_payment', { method: 'POST', headers: app, body })])
    answers.push([`POST reopen_table: ${name}`, await server.request('/api/reopen_table', { method: 'POST', headers: app, body })])
    for (const path of [
      '/api/create_clinic_ad', '/api/update_ad', '/api/toggle_ad_status', '/api/delete_ad', '/api/ads', '/patients', '/api/update_ad_with_image',
      '/api/display_keys', '/api/display_keys/revoke', '/api/patient/device'
    ]) {
      answers.push([`POST ${path}: ${name}`, await server.request(path, { method: 'POST', headers: app, body })])
    }
    const login = { ...app, Authorization: `Bearer ${idToken}` }
    answers.push([`POST after-phone-login: ${name}`, await server.request('/auth/after-phone-login', { method: 'POST', headers: login, body })])
  }
  const forms: Array<[string, string, string | Buffer]> = [
    ['no boundary', 'multipart/form-data', '--x\r\n'],
    ['a boundary that never comes', 'multipart/form-data; boundary=abc', 'garbage without the boundary'],
    ['a part cut short', 'multipart/form-data; boundary=abc', '--abc\r\nContent-Disposition: form-data; name="ad_ID"\r\n\r\nx'],
    ['a part without a name', 'multipart/form-data; boundary=abc', '--abc\r\nContent-Disposition: form-data\r\n\r\nx\r\n--abc--\r\n'],
    ['a NUL in a field', 'multipart/form-data; boundary=abc', '--abc\r\nContent-Disposition: form-data; name="ad_ID"\r\n\r\na\u0000b\r\n--abc--\r\n'],
    ['urlencoded', 'application/x-www-form-urlencoded', 'ad_ID=%E0%A4%A&image=%FF'],
    ['a strange charset', 'multipart/form-data; boundary=abc; charset=utf-7', '--abc\r\nContent-Disposition: form-data; name="ad_ID"\r\n\r\n+AGE-\r\n--abc--\r\n']
  ]
  for (const [name, type, body] of forms) {
    answers.push([`POST update_ad_with_image, ${name}`, await server.request('/api/update_ad_with_image', { method: 'POST', headers: { ...app, 'Content-Type': type }, body })])
  }
  for (const token of ['', 'e30.e30.AAAA', '%'.repeat(500), `${idToken.slice(0, -4)}AAAA`, `${idToken}.${idToken}`, 'a'.repeat(9000)]) {
    answers.push([`after-phone-login with bearer ${token.slice(0, 20)}`, await server.request('/auth/after-phone-login', { method: 'POST', headers: { Authorization: `Bearer ${token}` } })])
  }
  const gets = [
    '/api/patient/profile/%E0%A4%A', '/api/patient/profile/%00', '/api/patient/profile/P-1e400', '/api/patient/%E0%A4%A',
    '/api/doctors/%E0%A4%A', '/api/doctors/1e400', '/api/doctors/99999999999999999999999', '/api/doctors/-1', '/api/doctors/0x10',
    '/api/booking_days?clinic_id=1&clinic_id=2', '/api/booking_days?clinic_id=%E0%A4%A', '/api/booking_days?clinic_id[]=1',
    '/api/booking_days?clinic_id=1e400', '/api/booking_days?clinic_id=1&stream=maybe&timeout=1e400&heartbeat=-1',
    '/api/booking_archives/%E0%A4%A', '/doctor/profile/by-user/%E0%A4%A', '/api/doctors?page=-1&limit=1e400',
    '/api/ads/%E0%A4%A', '/api/ads/1e400', '/api/ads/-1', '/api/ads/by-clinic/%00', '/api/ads/images/%00', '/api/ads/images/..%2F..%2Fetc',
    `/api/ads/images/${'f'.repeat(64)}`, '/api/get_ad_image?clinic_id=1e400', '/api/get_ad_image?ad_ID=%00', '/api/get_ad_image?ad_ID=%E0%A4%A',
    '/api/get_ad_image?clinic_id=-1', '/api/get_all_ads?x[]=1', '/api/clinic_ads', '/api/clinic_ads_all', '/patients',
    '/api/queue/now_serving?clinic_id=%E0%A4%A', '/api/queue/now_serving?clinic_id=1e400&date=9999-99-99', '/api/queue/now_serving?clinic_id=1&lane[]=x',
    '/api/queue/now_serving?clinic_id=1&date=%00', '/api/queue/position?booking_id=%E0%A4%A', '/api/queue/position?booking_id=%00',
    `/api/queue/position?booking_id=${'B'.repeat(5000)}`, "/api/queue/position?booking_id=B-1-20250101-001'%20OR%201=1--",
    '/api/queue/position?booking_id=B-1-20250101-001&stream=maybe&timeout=1e400', '/api/display_keys?clinic_id=%E0%A4%A',
    '/api/display_keys?clinic_id=-1', '/display/%E0%A4%A', '/display/1e400?key=x', '/display/1?key=%00', `/display/1?key=${'k'.repeat(5000)}`,
    '/display/-1/feed?key=x&stream=true', '/display/1/feed?key[]=x', '/display/%00/feed'
  ]
  for (const path of gets) answers.push([`GET ${path}`, await server.request(path, { headers: app })])
  for (const method of ['HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']) {
    for (const path of ['/', '/api/patient_booking', '/api/doctors/1']) {
      answers.push([`${method} ${path}`, await server.request(path, { method, headers: app })])
    }
  }
  answers.push(['a forged bearer token', await server.request('/auth/me', { headers: { Authorization: 'Bearer e30.e30.AAAA' } })])
  answers.push(['a bearer token that is not base64', await server.request('/auth/me', { headers: { Authorization: `Bearer ${'%'.repeat(500)}.{.}` } })])

  // The FastAPI-style routes answer the 422 list; the ads routes their own 400, checked in test/ads.test.ts.
  const invalidUtf8 = answers.filter(([name]) => name.includes('invalid UTF-8') && /^POST (patient_booking|golden_patient_payment)/.test(name))
  for (const [name, res] of invalidUtf8) {
    t.same([res.status, res.json<{ detail: Array<{ type: string }> }>().detail[0]?.type], [422, 'utf8_invalid'], `${name}: refused, not stored with U+FFFD`)
  }
  // (update_ad_with_image reads a form, not JSON, and after-phone-login no body: they refuse it otherwise.)
  for (const [name, res] of answers.filter(([name]) => name.includes('a lone surrogate') && !/update_ad_with_image|after-phone-login/.test(name))) {
    t.same([res.status, res.json<{ code: string }>().code], [400, 'unpaired_surrogate'], `${name}: refused, not stored with U+FFFD`)
  }
  for (const [name, res] of answers) {
    t.ok(res.status >= 200 && res.status < 500, `${name}: ${res.status}`)
    const leaked = leaks.find((pattern) => pattern.test(res.text))
    t.equal(leaked, undefined, `${name}: the body gives nothing away`)
  }

  // HEAD gets the headers and no body: a body would be read as the start of the next answer on a kept-alive line.
  const head = await exchange(['HEAD / HTTP/1.1\r\nHost: x\r\n\r\n', 1000, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'], 8000, 2)
  const lines = [...head.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
  t.same(lines, [200, 200], 'HEAD / answers without a body, so the next answer starts cleanly')

  // What uWS refuses by itself (see the top of this file): the socket closes at once, with nothing written.
  const refusedByUws = [
    'BREW / HTTP/1.1\r\nHost: x\r\n\r\n',
    'get / HTTP/1.1\r\nHost: x\r\n\r\n',
    'POST /api/patient_booking HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}',
    'POST /api/patient_booking HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}',
    'POST /api/patient_booking HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    'POST /api/patient_booking HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'
  ]
  for (const raw of refusedByUws) {
    const answer = await exchange([raw], 3000)
    const line = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n/g, ' | ')
    t.ok(answer.text === '' || (statusOf(answer.text) >= 400 && statusOf(answer.text) < 500), `${line}: no answer or a 4xx`)
    t.ok(answer.closedAfterMs !== null, `${line}: the socket is closed`)
  }

  const after = await workers()
  t.same(pidsOf(after), pidsOf(before), 'the same worker processes before and after')
  t.equal(errors5xx(after), errors5xx(before), 'no 5xx was counted')
  t.notMatch(server.output().slice(logBefore), /"msg":"unhandled error"/, 'nothing reached the unhandled-error path')
})

// The admin dashboard's routes (issue 9): every body, path id and query a hostile client sends gets an answer below 500, as an admin,
// as a staff member and with the app secret, and nothing reaches the unhandled-error path.
t.test('the dashboard routes answer hostile input, never with a 5xx, and no worker dies', async (t) => {
  const before = await workers()
  const logBefore = server.output().length
  const leaks = [/\bat .*:\d+:\d+/, /postgres/i, /\bSELECT\b/i, /\bINSERT\b/, /node_modules/, /\.ts\b/, /Error:/, /\bstack\b/i, /syntax error/i]
  const json = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    await server.request(path, { method, headers: { ...app, ...headers }, body: body === undefined ? undefined : JSON.stringify(body) })
  // A super-admin of its own: a hostile body may be a valid change of the caller's own name or e-mail.
  const root = (await json('POST', '/auth/admin/auth', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).json<{ accessToken: string }>()
  const rootAuth = { Authorization: `Bearer ${root.accessToken}` }
  const created = await json('POST', '/auth/admin/create', { name: 'Sweep', email: 'sweep-admin@tabeby.test', password: 'sweep-admin-password' }, rootAuth)
  t.equal((await json('POST', `/admins/${String(created.json<{ admin: { id: number } }>().admin.id)}/promote`, undefined, rootAuth)).status, 200)
  const login = (await json('POST', '/auth/admin/auth', { email: 'sweep-admin@tabeby.test', password: 'sweep-admin-password' })).json<{ accessToken: string }>()
  const admin = { Authorization: `Bearer ${login.accessToken}` }
  t.equal((await json('POST', '/staff', { email: 'sweep@tabeby.test', password: 'sweep-password', role: 'manager' }, rootAuth)).status, 201)
  const staffLogin = (await json('POST', '/staff/login', { email: 'sweep@tabeby.test', password: 'sweep-password' })).json<{ data: { accessToken: string } }>()
  const staff = { Authorization: `Bearer ${staffLogin.data.accessToken}` }

  const bytes = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))
  const bodies: Array<[string, string | Buffer, string?]> = [
    ['invalid UTF-8', bytes('{"email": "', [0xff, 0xfe], '@x.y", "name": "', [0xc3], '"}')],
    ['1e400 everywhere', '{"email": 1e400, "password": 1e400, "name": 1e400, "permissions": 1e400, "staff_id": 1e400, "budget": 1e400, "page": 1e400}'],
    ['a 400-digit id', `{"role_id": ${'9'.repeat(400)}, "manager_id": ${'9'.repeat(400)}, "staff_id": ${'9'.repeat(400)}}`],
    ['__proto__', '{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"polluted": true}}, "name": "x"}'],
    ['wrong types', '{"email": [], "password": {}, "name": true, "role": 5, "permissions": {"a": 1}, "status": [], "type": 1, "title": [], "token": {}, "is_active": "yes", "active": "no", "revoke_all_sessions": []}'],
    ['an escaped NUL', '{"email": "a\\u0000@b.c", "name": "a\\u0000b", "title": "\\u0000", "token": "\\u0000"}'],
    ['a lone surrogate', '{"name": "\\ud800", "email": "\\udfff@x.y", "title": "\\ud800"}'],
    ['huge strings', JSON.stringify({ name: 'x'.repeat(60_000) })],
    ['not JSON', '{"email": '],
    ['a bare array', '[1, 2, 3]'],
    ['null', 'null'],
    ['a bad form', '%ZZ=%E0%A4%A&email=%FF', 'application/x-www-form-urlencoded'],
    ['a form of a thousand fields', Array.from({ length: 1000 }, (_, i) => `f${i}=1`).join('&'), 'application/x-www-form-urlencoded'],
    ['a multipart without its boundary', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na\r\n--x--', 'multipart/form-data'],
    ['a multipart with a file', bytes('--b\r\nContent-Disposition: form-data; name="password"; filename="p.bin"\r\n\r\n', [0, 1, 2], '\r\n--b--\r\n'), 'multipart/form-data; boundary=b']
  ]
  const routes: Array<[string, string]> = [
    ['PATCH', '/roles/{id}/permissions'], ['POST', '/staff/login'], ['POST', '/staff/password'], ['POST', '/staff/me/change-password'],
    ['POST', '/staff'], ['PATCH', '/staff/{id}'], ['POST', '/staff/{id}/set-password'], ['POST', '/api/staff/create'], ['POST', '/api/staff/status'],
    ['PATCH', '/api/staff/{id}'], ['POST', '/departments'], ['PATCH', '/departments/{id}'], ['PATCH', '/users/me'], ['PATCH', '/users/me/security'],
    ['POST', '/activity'], ['PATCH', '/admins/{id}'], ['POST', '/auth/forgot-password'], ['POST', '/auth/reset-password'],
    ['POST', '/auth/recovery-login'], ['POST', '/auth/refresh'], ['POST', '/auth/change-password']
  ]
  const ids = ['%E0%A4%A', '1e400', '-1', '0', '99999999999999999999', '0x10', 'abc', '%00', '1.5']
  const idRoutes: Array<[string, string]> = [
    ...routes.filter(([, path]) => path.includes('{id}')),
    ['GET', '/staff/{id}'], ['DELETE', '/staff/{id}'], ['POST', '/staff/{id}/activate'], ['POST', '/staff/{id}/deactivate'], ['GET', '/departments/{id}'],
    ['DELETE', '/departments/{id}'], ['POST', '/departments/{id}/activate'], ['POST', '/admins/{id}/promote'], ['DELETE', '/admins/{id}'],
    ['DELETE', '/users/me/sessions/{id}']
  ]
  const gets = [
    '/staff?page=1e400&limit=-1&search=%E0%A4%A', '/staff?search=%00', '/staff?limit=99999999999999999999', '/staff/count?active_only=%00',
    '/departments?sort_by=name;DROP%20TABLE%20staff&sort_order=%00', '/departments?status[]=active&page=0x10', '/departments?search=%25%5F%5C',
    '/users/me/activity?since=9999-99-99&types=%00&page_size=1e400', '/users/me/activity?since=2025-02-30T25:61:00Z', '/users/me/activity?order[]=asc',
    '/auth/reset-password/verify?token=%E0%A4%A', '/auth/reset-password/verify?token=' + 'f'.repeat(5000), '/users/me/sessions',
    '/permissions', '/roles', '/staff/me', '/users/me', '/users/me/export', '/users/me/security', '/users/me/recovery-codes', '/backend/me',
    '/backend/users/profile', '/admins/', '/departments/stats', '/api/staff/all'
  ]
  const send = async (method: string, path: string, body: string | Buffer | undefined, headers: Record<string, string>): Promise<Response> =>
    await server.request(path, { method, headers: { 'Doctor-Secret': DOCTOR_PROFILE_SECRET, ...headers }, body })
  const calls: Array<{ label: string, send: () => Promise<Response> }> = []
  for (const identity of [admin, staff]) {
    const who = identity === admin ? 'admin' : 'staff'
    for (const [method, template] of routes) {
      for (const [name, body, contentType] of bodies) {
        const path = template.replace('{id}', '424242')
        calls.push({ label: `${who} ${method} ${path}: ${name}`, send: () => send(method, path, body, { ...identity, 'Content-Type': contentType ?? 'application/json' }) })
      }
    }
    for (const [method, template] of idRoutes) {
      for (const id of ids) {
        const path = template.replace('{id}', id)
        calls.push({ label: `${who} ${method} ${path}`, send: () => send(method, path, method === 'GET' || method === 'DELETE' ? undefined : '{}', { ...identity, 'Content-Type': 'application/json' }) })
      }
    }
    for (const path of gets) calls.push({ label: `${who} GET ${path}`, send: () => send('GET', path, undefined, identity) })
  }
  for (const token of ['e30.e30.AAAA', 'a'.repeat(3000), `${login.accessToken}x`]) {
    calls.push({ label: `a forged token on /users/me/sessions: ${token.slice(0, 12)}`, send: () => send('GET', '/users/me/sessions', undefined, { Authorization: `Bearer ${token}` }) })
  }
  const answers = await inBatches(calls.map((call) => async () => ({ label: call.label, res: await call.send() })), 16)
  for (const { label, res } of answers) {
    // Not a 429 either: the sweep must reach the routes. (A body that only leaves optional fields out, `null` or
    // `{"__proto__": …}` on PATCH /users/me/security, is a legitimate no-op: 200.)
    t.ok(res.status < 500 && res.status !== 429, `${label}: ${res.status}`)
    t.equal(leaks.find((pattern) => pattern.test(res.text)), undefined, `${label}: the body gives nothing away`)
  }
  t.ok(answers.length > 900, `${answers.length} hostile requests`)
  t.equal((await json('GET', '/users/me', undefined, admin)).status, 200, 'the admin is still signed in: no hostile body ended a session')

  const after = await workers()
  t.same(pidsOf(after), pidsOf(before), 'the same worker processes before and after')
  t.equal(errors5xx(after), errors5xx(before), 'no 5xx was counted')
  t.notMatch(server.output().slice(logBefore), /"msg":"unhandled error"/, 'nothing reached the unhandled-error path')
})

t.test('secrets and issued tokens never reach the log, through logins, bookings, errors and a shutdown', async (t) => {
  const tokens = new Set<string>()
  // Every string under a key that names a token, wherever it sits in an answer.
  const collect = (value: unknown, key = ''): void => {
    if (typeof value === 'string' && /token/i.test(key) && value.length >= 16) tokens.add(value)
    else if (Array.isArray(value)) value.forEach((item) => collect(item, key))
    else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) collect(v, k)
  }
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> => {
    const res = await server.request(path, { method, headers: { ...app, ...headers }, body: body === undefined ? undefined : JSON.stringify(body) })
    try {
      collect(res.json())
    } catch {
      // not every answer is JSON, and one that is not carries no token
    }
    return res
  }

  t.equal((await call('POST', '/auth/admin/auth', { email: ADMIN_EMAIL, password: WRONG_PASSWORD })).status, 401, 'a wrong password')
  const login = await call('POST', '/auth/admin/auth', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })
  t.equal(login.status, 200, 'the right one')
  const { accessToken: first, refreshToken } = login.json<{ accessToken: string, refreshToken: string }>()
  t.equal((await call('GET', '/auth/me', undefined, { Authorization: `Bearer ${first}` })).status, 200)
  t.equal((await call('POST', '/auth/refresh', { refreshToken })).status, 200, 'a refresh')
  t.equal((await call('POST', '/auth/refresh', { refreshToken })).status, 401, 'the same refresh token again (logged as reuse)')
  // The reuse ended that session, its access tokens included: the rest goes on in a new one.
  const { accessToken } = (await call('POST', '/auth/admin/auth', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).json<{ accessToken: string }>()
  const bearer = { Authorization: `Bearer ${accessToken}` }
  const change = await call('POST', '/auth/change-password', { current_password: WRONG_PASSWORD, new_password: `${WRONG_PASSWORD}-new` }, bearer)
  t.equal(change.status, 400, 'a password change with the wrong current password')
  await call('GET', '/auth/me', undefined, { Authorization: `Bearer ${accessToken}x` })
  await call('POST', '/auth/register', { phone_number: '+9647701234567', user_role: 'patient', user_uid: 'uid-hardening' })

  const date = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10)
  t.equal((await call('POST', '/api/create_table', { clinic_id: 900, days: { [date]: { capacity_total: 5 } } })).status, 200)
  t.equal((await call('POST', '/api/patient_booking', { clinic_id: 900, name: 'مراجع', phone: '+9647701234567', source: 'secretary_app', date })).status, 200)
  await call('POST', '/api/patient_booking', { clinic_id: 900, name: 'x' }, { 'Doctor-Secret': `${DOCTOR_PROFILE_SECRET}-wrong` })
  await call('POST', '/auth/logout', undefined, bearer)
  t.ok(tokens.size >= 3, `${tokens.size} issued tokens collected`)

  const { code } = await server.stop()
  t.equal(code, 0, 'the server shut down cleanly')
  const output = server.output()
  t.ok(output.includes('"msg":"stopped"'), 'the output covers the whole run, shutdown included')
  for (const [name, secret] of Object.entries({ DOCTOR_PROFILE_SECRET, JWT_SECRET, ADMIN_PASSWORD, 'the wrong password': WRONG_PASSWORD })) {
    t.notOk(output.includes(secret), `${name} is not in the output`)
  }
  const logged = [...tokens].filter((token) => output.includes(token))
  t.same(logged, [], 'no issued access or refresh token is in the output')
})
