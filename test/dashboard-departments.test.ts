import t from 'tap'
import { withAdmin } from './helpers/admin.ts'
import { digests } from './helpers/legacy-client.ts'
import { shapeOf } from './helpers/booking-api.ts'
import { startStack } from './helpers/stack.ts'
import { dashboard } from './helpers/dashboard.ts'

// Departments (legacy-api.md §2.6), pinned to the legacy DepartmentOut with the fields legacy stored and never sent
// back added; `staff_count` is live and `/departments/stats` is reachable, with figures from the rows.

const { sql, app } = await startStack(t, { mode: 'in-process', env: withAdmin(undefined, { RATE_LIMIT_DEFAULT: '30000' }) })
const api = dashboard(app)
const root = await api.adminLogin()
const token = root.accessToken

type Json = Record<string, unknown>
const OUT = {
  budget: 'null', contact_email: 'null', contact_phone: 'null', created_at: 'string', description: 'null', head_of_department: 'null', id: 'number',
  location: 'null', manager_id: 'null', name: 'string', services_count: 'number', staff_count: 'number', status: 'string', updated_at: 'string', working_hours: 'null'
}

const create = async (body: Json): Promise<Json> => {
  const res = await api.send('POST', '/departments', body, { token })
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${res.text}`)
  return res.json<Json>()
}

t.test('create: 201 with the legacy DepartmentOut (plus working_hours, budget, manager_id); defaults as legacy', async (t) => {
  const plain = await create({ name: 'Radiology' })
  t.same(shapeOf(plain), OUT)
  t.same([plain['status'], plain['staff_count'], plain['services_count']], ['active', 0, 0])
  const full = await create({ name: 'Cardiology', description: 'Heart', head_of_department: 'Dr. Ali', location: 'B1', contact_email: 'cardio@tabeby.test', contact_phone: '0770', status: 'inactive', budget: '1234.5', manager_id: 3, working_hours: '08-16' })
  t.same([full['status'], full['budget'], full['manager_id'], full['working_hours'], full['contact_email']], ['inactive', 1234.5, 3, '08-16', 'cardio@tabeby.test'])
  t.equal((await api.send('POST', '/backend/departments', { name: 'Mirror' }, { token })).status, 201, 'mirrored under /backend')
})

t.test('bad input: 422 for the schema, 409 for a name taken in any case, and nothing written', async (t) => {
  const before = await digests(sql, ['departments'])
  for (const body of [{}, { name: '' }, { name: 'X', status: 'closed' }, { name: 'X', contact_email: 'nope' }, { name: 'X', budget: 1e9 }, { name: 'X', budget: 'lots' }, { name: 'X', manager_id: -1 }, { name: ['X'] }]) {
    t.equal((await api.send('POST', '/departments', body, { token })).status, 422, JSON.stringify(body))
  }
  const taken = await api.send('POST', '/departments', { name: 'RADIOLOGY' }, { token })
  t.same([taken.status, taken.json<Json>()['code']], [409, 'department_name_taken'])
  t.same(await digests(sql, ['departments']), before)
})

t.test('staff_count is counted live, and a rename carries the department\'s staff', async (t) => {
  const dept = await create({ name: 'Neurology' })
  for (const [i, department] of ['Neurology', 'Neurology', 'neurology', 'Other'].entries()) {
    const res = await api.send('POST', '/staff', { email: `n${i}@tabeby.test`, password: 'long-enough', department }, { token })
    t.equal(res.status, 201)
  }
  const read = await api.get(`/departments/${String(dept['id'])}`, { token })
  t.equal(read.json<Json>()['staff_count'], 2, 'exact name, as legacy matched it')
  const renamed = await api.send('PATCH', `/departments/${String(dept['id'])}`, { name: 'Neuroscience' }, { token })
  t.equal(renamed.json<Json>()['staff_count'], 2, 'the staff moved with the name')
  const [moved] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM staff WHERE department = 'Neuroscience'`
  t.equal(moved?.n, 2)
})

t.test('PATCH echoes working_hours, budget and manager_id; activate/deactivate; DELETE 204; 404s', async (t) => {
  const dept = await create({ name: 'Pediatrics' })
  const id = String(dept['id'])
  const patched = await api.send('PATCH', `/departments/${id}`, { working_hours: '9-5', budget: 99.99, manager_id: 12, description: null }, { token })
  t.equal(patched.status, 200)
  t.same([patched.json<Json>()['working_hours'], patched.json<Json>()['budget'], patched.json<Json>()['manager_id']], ['9-5', 99.99, 12])
  t.ok(patched.json<Json>()['updated_at'] as string > (dept['updated_at'] as string), 'updated_at moves')
  t.equal((await api.send('POST', `/departments/${id}/deactivate`, undefined, { token })).json<Json>()['status'], 'inactive')
  t.equal((await api.send('POST', `/backend/departments/${id}/activate`, undefined, { token })).json<Json>()['status'], 'active')
  t.equal((await api.send('PATCH', `/departments/${id}`, { status: 'closed' }, { token })).status, 422)
  const gone = await api.send('DELETE', `/departments/${id}`, undefined, { token })
  t.same([gone.status, gone.text], [204, ''])
  for (const [method, path] of [['GET', `/departments/${id}`], ['PATCH', `/departments/${id}`], ['DELETE', `/departments/${id}`], ['POST', `/departments/${id}/activate`]]) {
    const res = await api.send(method as string, path as string, method === 'PATCH' ? { name: 'x' } : undefined, { token })
    t.same([res.status, res.json()], [404, { detail: 'Department not found', code: 'department_not_found' }], `${method} ${path}`)
  }
  t.equal((await api.get('/departments/abc', { token })).status, 422)
})

t.test('list: search on name and head, status filter, paging and sorting on a fixed set of columns', async (t) => {
  const res = await api.get('/departments?search=ali&status=inactive', { token })
  t.same(res.json<{ items: Json[] }>().items.map((d) => d['name']), ['Cardiology'], 'the head of department matches too')
  const byName = await api.get('/departments?sort_by=name&sort_order=ASC&limit=100', { token })
  const names = byName.json<{ items: Json[], total: number }>().items.map((d) => d['name'] as string)
  t.same(names, [...names].sort((a, b) => a.localeCompare(b, 'en')), 'sorted by name')
  t.equal(byName.json<{ total: number }>().total, names.length)
  const paged = await api.get('/departments?sort_by=name&sort_order=asc&page=2&limit=1', { token })
  t.same(paged.json<{ items: Json[] }>().items.map((d) => d['name']), [names[1]])
  const byStaff = await api.get('/departments?sort_by=staff_count&sort_order=desc', { token })
  t.equal(byStaff.json<{ items: Json[] }>().items[0]?.['name'], 'Neuroscience')
  for (const query of ['sort_by=password_hash', 'sort_by=id;drop', 'sort_order=sideways', 'status=closed', 'limit=0', 'page=-1']) {
    t.equal((await api.get(`/departments?${query}`, { token })).status, 422, query)
  }
  t.equal((await api.get('/departments')).status, 401, 'admins only')
})

t.test('/departments/stats is reachable and computed: counts, staff, services, 30-day growth', async (t) => {
  await sql`UPDATE departments SET created_at = now() - interval '40 days' WHERE name IN ('Radiology', 'Cardiology')`
  await api.send('PATCH', '/departments/1', { services_count: 4 }, { token })
  const res = await api.get('/departments/stats', { token })
  t.equal(res.status, 200)
  const [counts] = await sql<Array<{ total: number, active: number, staff: number, old: number }>>`
    SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'active')::int AS active,
           (SELECT count(*)::int FROM staff) AS staff, count(*) FILTER (WHERE created_at <= now() - interval '30 days')::int AS old FROM departments`
  const total = counts?.total ?? 0
  const old = counts?.old ?? 0
  t.same(res.json(), {
    total_departments: total,
    active_departments: counts?.active,
    inactive_departments: total - (counts?.active ?? 0),
    total_staff: counts?.staff,
    total_services: 4,
    growth_rate: Math.round((total - old) / old * 1000) / 10
  })
  t.not(res.json<Json>()['growth_rate'], 12.5, 'not the hard-coded 12.5')
  t.equal((await api.get('/backend/departments/stats', { token })).status, 200, 'mirrored')
})
