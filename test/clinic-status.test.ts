import t from 'tap'
import { digests, sendAll } from './helpers/legacy-client.ts'
import { startStack } from './helpers/stack.ts'

const { sql, api } = await startStack(t, { mode: 'in-process' })

const DEFAULT_MESSAGE = 'نعتذر عن هذا التوقف في السيرفر, لاغراض الصيانة, سوف يتم اعادة العمل خلال مدة قصيرة جدا.. شكرا لتفهمكم.'

t.test('a clinic is open until it is closed, and reopens', async (t) => {
  t.same((await api.get('/api/close_clinic?clinic_id=40')).json(), { clinic_id: 40, is_closed: false }, 'never closed means open')

  const closed = await api.post('/api/close_clinic', { clinic_id: 40, is_closed: true })
  t.equal(closed.status, 200)
  t.same(closed.json(), { clinic_id: 40, is_closed: true })
  t.same((await api.get('/api/close_clinic?clinic_id=40')).json(), { clinic_id: 40, is_closed: true })
  const [row] = await sql<Array<{ is_closed: boolean }>>`SELECT is_closed FROM clinics WHERE id = 40`
  t.equal(row?.is_closed, true, 'kept on the clinic row, where booking reads it')

  t.same((await api.post('/api/close_clinic', { clinic_id: '40', is_closed: 'false' })).json(), { clinic_id: 40, is_closed: false },
    'numbers and booleans may come as strings')
  t.same((await api.get('/api/close_clinic?clinic_id=40')).json(), { clinic_id: 40, is_closed: false })
})

t.test('closing a clinic that has a profile keeps the profile', async (t) => {
  const profile = { general_info: { clinic_id: 41, doctor_name: 'د. ليث', receiving_patients: '٢٥' } }
  await sql`INSERT INTO clinics (id, name, profile, receiving_patients) VALUES (41, 'د. ليث', ${sql.json(profile)}, 25)`
  t.equal((await api.post('/api/close_clinic', { clinic_id: 41, is_closed: true })).status, 200)
  const [row] = await sql<Array<{ name: string, profile: unknown, receiving_patients: number, is_closed: boolean }>>`
    SELECT name, profile, receiving_patients, is_closed FROM clinics WHERE id = 41`
  t.same(row, { name: 'د. ليث', profile, receiving_patients: 25, is_closed: true })
})

t.test("the platform's contact info is 404 until clinic 1 exists", async (t) => {
  const read = await api.get('/api/clinic/info')
  t.equal(read.status, 404)
  t.match(read.json(), { detail: 'العيادة غير موجودة' })
  const write = await api.post('/api/clinic/info', { clinic_name: 'Tabeby' })
  t.equal(write.status, 404)
  t.match(write.json(), { detail: 'العيادة غير موجودة' })
  const [row] = await sql<Array<{ n: string }>>`SELECT count(*) AS n FROM clinics WHERE id = 1`
  t.equal(Number(row?.n), 0, 'a refused save does not create clinic 1')
})

t.test("the platform's contact info is saved piece by piece and read with blanks for what was never set", async (t) => {
  await sql`INSERT INTO clinics (id, name, profile) VALUES (1, 'Tabeby', ${sql.json({ general_info: { clinic_id: 1 } })})`
  t.same((await api.get('/api/clinic/info')).json(), { clinic_id: 1, clinic_name: '', address: '', email: '', phone: '', website: '' })

  const first = await api.post('/api/clinic/info', { clinic_name: 'Tabeby', phone: '+9647755841', ignored: 'x' })
  t.equal(first.status, 200)
  t.same(first.json(), { success: true, message: 'تم حفظ معلومات العيادة بنجاح', clinic_info: { clinic_name: 'Tabeby', phone: '+9647755841' } })

  const second = await api.post('/api/clinic/info', { address: 'بغداد، الكرادة', email: 'contact@tabeby.app' })
  t.same(second.json<{ clinic_info: unknown }>().clinic_info,
    { clinic_name: 'Tabeby', phone: '+9647755841', address: 'بغداد، الكرادة', email: 'contact@tabeby.app' }, 'earlier keys are kept')

  t.same((await api.get('/api/clinic/info')).json(), {
    clinic_id: 1, clinic_name: 'Tabeby', address: 'بغداد، الكرادة', email: 'contact@tabeby.app', phone: '+9647755841', website: ''
  })
  const [row] = await sql<Array<{ profile: { general_info: unknown } }>>`SELECT profile FROM clinics WHERE id = 1`
  t.same(row?.profile.general_info, { clinic_id: 1 }, 'the rest of the profile is untouched')
})

t.test('two partial saves at the same moment keep both', async (t) => {
  await Promise.all([
    api.post('/api/clinic/info', { website: 'https://tabeby.app' }),
    api.post('/api/clinic/info', { phone: '+9647700000000' })
  ])
  t.match((await api.get('/api/clinic/info')).json(), { website: 'https://tabeby.app', phone: '+9647700000000' })
})

t.test('the maintenance banner is off until toggled, and carries a message', async (t) => {
  t.same((await api.get('/api/maintenance/status')).json(), { server_disable: false, message: '' })

  const on = await api.post('/api/maintenance/toggle', { server_disable: true })
  t.equal(on.status, 200)
  t.same(on.json(), { server_disable: true, message: DEFAULT_MESSAGE }, 'the legacy apology when no message is sent')
  t.same((await api.get('/api/maintenance/status')).json(), { server_disable: true, message: DEFAULT_MESSAGE })

  t.same((await api.post('/api/maintenance/toggle', { server_disable: true, message: 'تحديث قصير' })).json(),
    { server_disable: true, message: 'تحديث قصير' })
  t.same((await api.post('/api/maintenance/toggle', { server_disable: false, message: null })).json(),
    { server_disable: false, message: '' }, 'an explicit null clears the message')
  t.same((await api.get('/api/maintenance/status')).json(), { server_disable: false, message: '' })
  const [row] = await sql<Array<{ n: string }>>`SELECT count(*) AS n FROM maintenance`
  t.equal(Number(row?.n), 1, 'one row, however often it is toggled')
})

t.test('every route here refuses a request without the app secret', async (t) => {
  const before = await digests(sql, ['clinics', 'maintenance'])
  const calls: Array<[string, string, unknown]> = [
    ['POST', '/api/close_clinic', { clinic_id: 40, is_closed: true }],
    ['GET', '/api/close_clinic?clinic_id=40', undefined],
    ['POST', '/api/clinic/info', { clinic_name: 'hijacked' }],
    ['GET', '/api/clinic/info', undefined],
    ['POST', '/api/maintenance/toggle', { server_disable: true }],
    ['GET', '/api/maintenance/status', undefined]
  ]
  for (const [method, path, body] of calls) {
    for (const secret of [null, 'wrong']) {
      const res = await api.send(method, path, body, { secret })
      t.equal(res.status, 403, `${method} ${path} (${secret === null ? 'no' : 'a wrong'} secret)`)
      t.match(res.json(), { detail: 'forbidden' })
    }
  }
  t.same(await digests(sql, ['clinics', 'maintenance']), before, 'nothing changed')
})

t.test('close_clinic is mirrored under /backend; clinic info and maintenance are not', async (t) => {
  t.same((await api.post('/backend/api/close_clinic', { clinic_id: 42, is_closed: true })).json(), { clinic_id: 42, is_closed: true })
  t.same((await api.get('/backend/api/close_clinic?clinic_id=42')).json(), { clinic_id: 42, is_closed: true })
  for (const path of ['/backend/api/clinic/info', '/backend/api/maintenance/status']) {
    t.equal((await api.get(path)).status, 404, path)
  }
  t.equal((await api.post('/backend/api/maintenance/toggle', { server_disable: true })).status, 404)
})

t.test('a burst of malformed requests is answered 4xx and changes nothing', async (t) => {
  const before = await digests(sql, ['clinics', 'maintenance'])
  const common = ['{not json', '[]', '"x"', '7', '{"a":', '{"a":' + '['.repeat(100) + ']'.repeat(100) + '}']
  const bodies: Record<string, unknown[]> = {
    '/api/close_clinic': [...common, 'null', {}, { clinic_id: 40 }, { is_closed: true }, { clinic_id: 'x', is_closed: true },
      { clinic_id: -1, is_closed: true }, { clinic_id: 0, is_closed: true }, { clinic_id: 1e30, is_closed: true },
      { clinic_id: 99999999999, is_closed: true }, { clinic_id: 4.5, is_closed: true }, { clinic_id: 40, is_closed: 'maybe' },
      { clinic_id: 40, is_closed: null }, { clinic_id: 40, is_closed: 2 }, { clinic_id: [40], is_closed: true }],
    '/api/clinic/info': [...common, { clinic_name: 5 }, { phone: null }, { website: ['x'] }, { email: { a: 1 } },
      { address: 'x'.repeat(5000) }, { clinic_name: 'ok', phone: 1e30 }],
    '/api/maintenance/toggle': [...common, 'null', {}, { message: 'x' }, { server_disable: 'maybe' }, { server_disable: null },
      { server_disable: 2 }, { server_disable: ' true ' }, { server_disable: true, message: 5 }, { server_disable: true, message: 'x'.repeat(5000) },
      { server_disable: [true] }]
  }
  const requests: Array<[string, string, unknown]> = []
  while (requests.length < 100) {
    for (const [path, list] of Object.entries(bodies)) for (const body of list) requests.push(['POST', path, body])
    for (const q of ['', '?clinic_id=', '?clinic_id=abc', '?clinic_id=-3', '?clinic_id=0', '?clinic_id=1e3', '?clinic_id=99999999999', '?clinic_id=%E0%A4%A']) {
      requests.push(['GET', `/api/close_clinic${q}`, undefined])
    }
  }
  const answers = await sendAll(api, requests)
  t.ok(answers.length >= 100, `${answers.length} malformed requests`)
  const wrong = answers.filter(({ res }) => res.status < 400 || res.status >= 500)
  t.same(wrong.map(({ what, res }) => `${what} → ${res.status} ${res.text.slice(0, 100)}`), [], 'every one answered 4xx')
  t.same(await digests(sql, ['clinics', 'maintenance']), before, 'no clinic or maintenance row changed')
})
