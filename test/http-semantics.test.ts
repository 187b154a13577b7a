import t from 'tap'
import { wireBool } from '../src/domain/booleans.ts'
import { chooseEncoding, etagMatches } from '../workers/negotiate.ts'
import { startStack } from './helpers/stack.ts'
import { today } from './helpers/booking-api.ts'

// HTTP as clients and proxies really speak it (issue 12, item 13): a wrong method on a known path is a 405 that
// says which methods the path takes, HEAD and OPTIONS are answered, If-None-Match compares weakly, Accept-Encoding
// weights are obeyed, and booleans are read in every spelling the legacy server's pydantic accepted.

const { api, sql } = await startStack(t, { mode: 'in-process' })

t.test('a wrong method on a known path is a 405 naming the methods it takes, the /backend mirror too', async (t) => {
  for (const path of ['/users/me', '/backend/users/me']) {
    const res = await api.send('DELETE', path)
    t.equal(res.status, 405, `DELETE ${path}`)
    t.equal(res.headers['allow'], 'GET, HEAD, PATCH, OPTIONS', 'Allow lists every method of the path')
    t.same(res.json(), { detail: 'Method Not Allowed', code: 'method_not_allowed' }, 'the catalogue body')
  }
  const put = await api.send('PUT', '/api/booking_days?clinic_id=1')
  t.same([put.status, put.headers['allow']], [405, 'GET, HEAD, OPTIONS'])
  // A parameter segment: the path is known through its pattern.
  const post = await api.post('/api/doctors/7', {})
  t.equal(post.status, 405, 'POST /api/doctors/7')
  t.match(post.headers['allow'], /^GET, HEAD, .*OPTIONS$/)

  const unknown = await api.send('DELETE', '/api/no_such_route')
  t.same([unknown.status, unknown.json()], [404, { detail: 'Not Found', code: 'not_found' }], 'an unknown path is still a 404')
  t.equal((await api.send('OPTIONS', '/api/no_such_route')).status, 404, 'OPTIONS there too')

  const options = await api.send('OPTIONS', '/users/me')
  t.same([options.status, options.headers['allow'], options.text], [204, 'GET, HEAD, PATCH, OPTIONS', ''], 'OPTIONS on a known path')
  const head = await api.send('HEAD', '/api/booking_days?clinic_id=1')
  t.same([head.status, head.text], [404, ''], 'HEAD runs the GET route (no such clinic: its 404), without a body')
})

t.test('If-None-Match uses the weak comparison, lists and *', async (t) => {
  t.ok(etagMatches('"a1"', '"a1"'))
  t.ok(etagMatches('W/"a1"', '"a1"'), 'a weakened tag matches')
  t.ok(etagMatches('"x", W/"a1"', '"a1"'), 'a list')
  t.ok(etagMatches(' * ', '"a1"'), '*')
  t.notOk(etagMatches('"a2", W/"a3"', '"a1"'))
  t.notOk(etagMatches('a1', '"a1"'), 'an unquoted tag is not the tag')
  t.notOk(etagMatches(undefined, '"a1"'))

  await sql`INSERT INTO clinics (id, receiving_patients) VALUES (1201, 20)`
  t.equal((await api.post('/api/create_table', { clinic_id: 1201, days: { [today]: { capacity_total: 20 } } })).status, 200)
  const first = await api.get('/api/booking_days?clinic_id=1201')
  const etag = first.headers['etag'] as string
  t.match(etag, /^"/, 'a strong ETag')
  for (const sent of [etag, `W/${etag}`, `"nope", W/${etag}`, '*']) {
    const res = await api.get('/api/booking_days?clinic_id=1201', { headers: { 'If-None-Match': sent } })
    t.same([res.status, res.text], [304, ''], `If-None-Match: ${sent}`)
  }
  const other = await api.get('/api/booking_days?clinic_id=1201', { headers: { 'If-None-Match': 'W/"nope"' } })
  t.equal(other.status, 200, 'another tag: the body')
  const missing = await api.get('/api/ads/images/' + 'a'.repeat(64), { headers: { 'If-None-Match': '*' } })
  t.equal(missing.status, 404, '* on an image that does not exist is no 304')
})

t.test('Accept-Encoding weights are obeyed', async (t) => {
  const both = { br: true, gzip: true }
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'identity'], ['', 'identity'], ['gzip, deflate, br', 'br'], ['br;q=0, gzip', 'gzip'], ['gzip;q=0, br;q=0', 'identity'],
    ['*;q=0', 'identity'], ['identity', 'identity'], ['*', 'br'], ['gzip;q=0.5, br;q=0.4', 'gzip'], ['br;q=0, *', 'gzip'],
    ['BR;Q=1', 'br'], ['gzip;q=0.8', 'gzip'], ['identity;q=1, gzip;q=0.5', 'identity'], ['br;q=abc, gzip', 'gzip']
  ]
  for (const [header, coding] of cases) t.equal(chooseEncoding(header, both), coding, `Accept-Encoding: ${String(header)}`)
  t.equal(chooseEncoding('br', { br: false, gzip: true }), 'identity', 'br asked, only gzip on offer')

  // A body past the compression threshold: a day with a queue.
  await sql`INSERT INTO clinics (id, receiving_patients) VALUES (1202, 30)`
  t.equal((await api.post('/api/create_table', { clinic_id: 1202, days: { [today]: { capacity_total: 30 } } })).status, 200)
  for (let i = 0; i < 12; i++) {
    const booked = await api.post('/api/patient_booking', { clinic_id: 1202, date: today, name: `مريض ${i}`, phone: '+9647701234567', source: 'secretary_app' })
    t.equal(booked.status, 200)
  }
  const plain = (await api.get('/api/booking_days?clinic_id=1202')).text
  t.ok(plain.length > 1024, 'the body is compressed when asked')
  const read = async (acceptEncoding: string): Promise<[string | undefined, string]> => {
    const res = await api.get('/api/booking_days?clinic_id=1202', { headers: { 'Accept-Encoding': acceptEncoding } })
    return [res.headers['content-encoding'] as string | undefined, res.text]
  }
  t.equal((await read('br;q=0, gzip'))[0], 'gzip', 'br;q=0: gzip')
  t.equal((await read('gzip;q=0, br'))[0], 'br', 'gzip;q=0: br')
  t.equal((await read('*;q=0'))[0], undefined, '*;q=0: unencoded')
  const identity = await read('identity')
  t.same(identity, [undefined, plain], 'identity: the plain body')
})

t.test('?stream= takes the spellings FastAPI took; body booleans those pydantic took', async (t) => {
  await sql`INSERT INTO clinics (id, receiving_patients) VALUES (1203, 20)`
  t.equal((await api.post('/api/create_table', { clinic_id: 1203, days: { [today]: { capacity_total: 20 } } })).status, 200)
  for (const spelling of ['True', 'true', 'yes', 'on', '1', 'Y', 't']) {
    const stream = await api.openStream(`/api/booking_days?clinic_id=1203&stream=${spelling}`, { 'Doctor-Secret': 'dev-secret' })
    t.match(stream.headers['content-type'], /^text\/event-stream/, `stream=${spelling}: SSE`)
    stream.close()
  }
  for (const spelling of ['False', 'false', 'no', 'off', '0', 'n', 'F']) {
    const res = await api.get(`/api/booking_days?clinic_id=1203&stream=${spelling}`)
    t.match([res.status, res.headers['content-type']], [200, /^application\/json/], `stream=${spelling}: JSON`)
  }
  const headOfStream = await api.send('HEAD', '/api/booking_days?clinic_id=1203&stream=true')
  t.same([headOfStream.status, headOfStream.headers['content-type'], headOfStream.text], [200, 'text/event-stream', ''],
    'HEAD of a stream: its headers, and no stream')
  const maybe = await api.get('/api/booking_days?clinic_id=1203&stream=maybe')
  t.equal(maybe.status, 422, 'stream=maybe is refused')
  t.match(maybe.json<{ detail: Array<{ loc: string[], msg: string }> }>().detail[0], { loc: ['query', 'stream'], msg: /stream must be a boolean/ })

  const accepted: Array<[unknown, boolean]> = [[true, true], [1, true], [1.0, true], ['TRUE', true], ['yes', true], ['on', true], ['t', true],
    ['y', true], [false, false], [0, false], ['0', false], ['OFF', false], ['f', false], ['n', false], ['no', false]]
  for (const [sent, meant] of accepted) {
    t.equal(wireBool(sent), meant, `${JSON.stringify(sent)}`)
    const res = await api.post('/api/close_clinic', { clinic_id: 1203, is_closed: sent })
    t.same([res.status, res.json()], [200, { clinic_id: 1203, is_closed: meant }], `is_closed: ${JSON.stringify(sent)}`)
  }
  for (const sent of [2, '2', 1.5, null, ' true ', 'enable', '', [], {}]) {
    t.equal(wireBool(sent), undefined, `${JSON.stringify(sent)} spells no boolean`)
    const res = await api.post('/api/close_clinic', { clinic_id: 1203, is_closed: sent })
    t.equal(res.status, 422, `is_closed: ${JSON.stringify(sent)} is refused`)
  }
})
