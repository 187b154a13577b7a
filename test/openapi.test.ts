import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { allRoutes } from '../workers/routes/index.ts'
import { defineRoute } from '../workers/routes/define.ts'
import { isDocumented, openApiDocument } from '../workers/routes/openapi.ts'
import { packageRoot } from '../src/paths.ts'
import { json } from '../workers/http.ts'
import { startStack } from './helpers/stack.ts'

// /openapi.json is complete and valid: every route declares its success bodies and the errors it throws, the
// document passes `redocly lint` (a route added without its answers fails it), and its request examples are what
// the routes accept.

const { app, api } = await startStack(t, { mode: 'in-process' })
const routes = allRoutes(app.context)
// The reference's own routes (the page, its scripts, the document) are not in the document.
const apiRoutes = routes.filter((route) => route.pattern !== '/openapi.json' && route.pattern !== '/redoc' && !route.pattern.startsWith('/docs'))
const documented = apiRoutes.filter(isDocumented)
const name = (route: { method: string, pattern: string }): string => `${route.method === 'del' ? 'DELETE' : route.method.toUpperCase()} ${route.pattern}`

interface Lint { totals: { errors: number, warnings: number }, problems: Array<{ ruleId: string, severity: string, message: string, location: Array<{ pointer: string }> }> }

// The redocly CLI (a devDependency, pinned), on the document as a file, with the project's redocly.yaml.
async function lint (document: unknown): Promise<Lint> {
  const dir = mkdtempSync(join(tmpdir(), 'tabeby-openapi-'))
  try {
    const file = join(dir, 'openapi.json')
    writeFileSync(file, JSON.stringify(document))
    const bin = join(packageRoot, 'node_modules', '.bin', 'redocly')
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(bin, ['lint', file, '--format=json', `--config=${join(packageRoot, 'redocly.yaml')}`], {
        cwd: dir,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000
      }, (error, out, err) => {
        // Exit code 1 is "problems found": the JSON says which.
        if (out.trim().startsWith('{')) resolve(out)
        else reject(new Error(`redocly lint failed: ${error?.message ?? ''}\n${err}`))
      })
    })
    return JSON.parse(stdout) as Lint
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const errorsOf = (result: Lint): string[] => result.problems
  .filter((problem) => problem.severity === 'error')
  .map((problem) => `${problem.ruleId} ${problem.location[0]?.pointer ?? ''}: ${problem.message}`)

t.test('redocly lint finds no error in the served document', async (t) => {
  const served = (await api.get('/openapi.json')).json()
  const result = await lint(served)
  t.same(errorsOf(result), [], 'no errors')
  // The only warning allowed: the host's health check answers no 4XX (exempt from rate limits, open to all).
  const warnings = result.problems.filter((problem) => problem.severity !== 'error').map((problem) => problem.location[0]?.pointer ?? '')
  t.same(warnings, ['#/paths/~1health/get/responses'], 'and no warning but the health check\'s 4XX')
})

t.test('a route added without its answers fails the lint', async (t) => {
  const bare = defineRoute(app.context, { method: 'get', pattern: '/api/new_thing', summary: 'A route someone forgot to document', auth: 'secret', handler: () => json(200, {}) })
  const result = await lint(openApiDocument([...documented, bare], app.config.authMode))
  t.match(errorsOf(result), [/^operation-2xx-response #\/paths\/~1api~1new_thing\/get/], 'operation-2xx-response names it')
})

t.test('every route declares its success bodies, and the errors its handler throws', async (t) => {
  t.same(apiRoutes.filter((route) => !isDocumented(route)).map(name), [], 'every route is a defineRoute spec, with a summary')
  const noSuccess = documented.filter((route) => !Object.keys(route.responses ?? {}).some((status) => status.startsWith('2')))
  t.same(noSuccess.map(name), [], 'every route declares `responses` with a 2xx')
  // A handler whose own source throws a catalogue entry declares `errors`.
  const throwsUndeclared = documented.filter((route) => /\bthrow\b/.test(String(route.own)) && (route.errors ?? []).length === 0)
  t.same(throwsUndeclared.map(name), [], 'every handler that throws declares `errors`')
  const doc = openApiDocument(documented, app.config.authMode) as { paths: Record<string, Record<string, { operationId: string }>> }
  const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId))
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
  t.equal(ids.length, documented.length, 'one operation per route')
})

t.test("request examples are what the routes accept, in the apps' shapes", async (t) => {
  const withExample = documented.filter((route) => route.example !== undefined)
  t.ok(withExample.length >= 30, `${withExample.length} routes show an example`)
  for (const route of withExample) {
    const parsed = route.body?.safeParse(route.example)
    t.ok(parsed?.success, `${name(route)}: its body schema accepts its example${parsed?.success === false ? `: ${parsed.error.message}` : ''}`)
  }
  // Every app route with a body (the apps' Doctor-Secret routes) shows one.
  const missing = documented.filter((route) => route.auth === 'secret' && route.body !== undefined && route.example === undefined)
  t.same(missing.map(name), [], 'every app route with a body has an example')
  t.ok(withExample.some((route) => /[\u0600-\u06ff]/.test(JSON.stringify(route.example))), 'Arabic text as the apps send it')
})

interface Operation { security: Array<Record<string, string[]>>, servers?: Array<{ url: string }>, description: string, responses: Record<string, unknown> }
type Paths = Record<string, Record<string, Operation>>

t.test('security: the secret, bearer tokens, and what AUTH_MODE=strict adds, on each operation', async (t) => {
  const legacy = (openApiDocument(documented, 'legacy') as { paths: Paths }).paths
  const strict = openApiDocument(documented, 'strict') as { paths: Paths, info: { description: string } }
  t.same(legacy['/api/patient_booking']?.['post']?.security, [{ doctorSecret: [] }], 'legacy: the secret alone')
  t.same(strict.paths['/api/patient_booking']?.['post']?.security, [{ doctorSecret: [], bearer: [] }], 'strict: the secret and the actor token together')
  t.same(strict.paths['/api/secretary_login_code']?.['post']?.security, [{ doctorSecret: [] }], 'a sign-in route needs only the secret')
  t.same(legacy['/staff']?.['get']?.security, [{ bearer: [] }], 'dashboard routes: a bearer token')
  t.same(legacy['/doctor/profile']?.['post']?.security, [{ doctorSecret: [] }, { bearer: [] }], 'either, where the dashboard and the apps share a route')
  t.ok(strict.paths['/api/patient_booking']?.['post']?.responses['401'] !== undefined, 'strict: a token refused is a documented 401')
  t.notOk(legacy['/api/patient_booking']?.['post']?.responses['401'], 'legacy reads no token: no 401')
  t.match(strict.paths['/api/patient_booking']?.['post']?.description, /AUTH_MODE=strict/, 'each operation says what strict mode asks')
  t.match(strict.info.description, /AUTH_MODE=strict/)
  for (const [path, methods] of Object.entries(legacy)) {
    for (const [method, op] of Object.entries(methods)) t.ok(Array.isArray(op.security), `${method} ${path}: security stated`)
  }
})

t.test('the /backend mirror: a second server on the operations legacy mirrored, and really served there', async (t) => {
  const doc = (await api.get('/openapi.json')).json<{ paths: Paths, servers: Array<{ url: string }> }>()
  t.same(doc.servers, [{ url: '/', description: 'this server' }])
  const mirrored = documented.filter((route) => route.mirror === true)
  t.ok(mirrored.length > 50)
  for (const route of mirrored) {
    const op = doc.paths[route.pattern.replace(/:(\w+)/g, '{$1}')]?.[route.method === 'del' ? 'delete' : route.method]
    t.same(op?.servers?.map((server) => server.url), ['/', '/backend'], `${name(route)}: both servers`)
  }
  const unmirrored = doc.paths['/api/golden_patient_payment']?.['post']
  t.equal(unmirrored?.servers, undefined, 'golden payments were never mirrored')
  const direct = await api.get('/api/clinics')
  const viaMirror = await api.get('/backend/api/clinics')
  t.equal(viaMirror.status, direct.status)
  t.same(viaMirror.json(), direct.json(), 'the mirror answers the same')
})

// The documented success shapes against what the server really answers: a clinic's day, from the secretary's
// code to the archive, through the routes the apps call.
t.test('documented success shapes match the wire', async (t) => {
  const byRoute = documented.map((route) => ({ route, match: new RegExp(`^${route.pattern.replace(/:(\w+)/g, '[^/]+')}$`) }))
  const check = async (method: 'get' | 'post', path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = method === 'get' ? await api.get(path) : await api.post(path, body)
    const pathname = path.split('?')[0] ?? path
    const route = byRoute.find(({ route, match }) => route.method === method && match.test(pathname))?.route
    const schema = route?.responses?.[res.status as 200] as z.ZodType | undefined
    t.ok(schema !== undefined, `${method.toUpperCase()} ${path}: ${res.status} is a documented success (${res.text.slice(0, 200)})`)
    const parsed = schema?.safeParse(res.json())
    t.ok(parsed?.success, `${method.toUpperCase()} ${path}: the body has its documented shape${parsed?.success === false ? `: ${z.prettifyError(parsed.error)}` : ''}`)
    return res.json()
  }
  const clinic = 7
  const date = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
  const code = await check('post', '/api/secretary_code_generator', { clinic_id: clinic, doctor_name: 'د. علي حسن', secretary_name: 'مريم كاظم', created_date: '10/07/2025 10:00 am' })
  await check('post', '/api/secretary_login_code', { secretary_code: code['secretary_id'] })
  await check('get', `/api/doctor/secretary/S-${String(code['secretary_id'])}`)
  await check('post', '/api/doctor/secretary/toggle-status', { secretary_id: code['secretary_id'], secretary_status: true })
  await check('post', '/doctor/profile', { phone: '+9647701234567', json_profile: { general_info: { clinic_id: clinic, doctor_name: 'د. علي حسن', receiving_patients: '٢٠' }, specializations: ['طب الأسنان'] } })
  await check('get', `/doctor/profile/${clinic}`)
  await check('get', `/api/doctors/${clinic}`)
  await check('get', `/api/doctor_profile?doctor_id=${clinic}`)
  await check('get', `/api/doctors/clinic/${clinic}`)
  await check('get', '/api/doctors')
  await check('get', '/api/doctors/stats/count')
  await check('get', '/api/clinics')
  await check('get', '/api/lookups/specialties')
  await check('post', '/api/doctor/status', { doctor_id: clinic, is_active: true })
  await check('get', `/api/doctor/${clinic}/status`)
  await check('post', '/api/create_table', { clinic_id: clinic, days: { [date]: { capacity_total: 20 } } })
  await check('post', '/api/create_golden_table', { clinic_id: clinic, days: { [date]: { capacity_total: 5 } } })
  const account = await check('post', '/auth/register', { user_uid: 'uid-1', user_role: 'patient', phone_number: '+9647701234567' })
  await check('get', '/auth/check-phone?phone=%2B9647701234567')
  const patient = await check('post', '/api/patient/register', { user_uid: 'uid-1', user_role: 'patient', phone_number: '+9647701234567' })
  t.equal(patient['user_server_id'], `P-${String(account['user_server_id'])}`)
  await check('post', '/api/patient/profile', { user_server_id: patient['user_server_id'], patient_name: 'زينب علي', phone_number: '+9647701234567', gender: 'أنثى', date_of_birth: '14/03/1992' })
  await check('get', `/api/patient/profile/${String(patient['user_server_id'])}`)
  await check('get', `/api/patient/${String(patient['user_server_id'])}/status`)
  const booked = await check('post', '/api/patient_booking', { clinic_id: clinic, name: 'عمر احمد', phone: '+9647701234567', source: 'secretary_app', date })
  const golden = await check('post', '/api/patient_golden_booking', { clinic_id: clinic, date, patient_id: patient['user_server_id'], name: 'فاطمة حسين', phone: '+9647801234567' })
  await check('get', `/api/booking_days?clinic_id=${clinic}`)
  await check('get', `/api/booking_golden_days?clinic_id=${clinic}`)
  await check('get', `/api/all_days?clinic_id=${clinic}`)
  await check('post', '/api/verify_golden_code', { clinic_id: clinic, code: golden['code'], date })
  await check('post', '/api/verify_golden_code', { clinic_id: clinic, code: '0000', date })
  await check('post', '/api/edit_patient_booking', { clinic_id: clinic, booking_id: booked['booking_id'], status: 'served' })
  await check('post', '/api/edit_patient_gold_booking', { clinic_id: clinic, booking_id: golden['booking_id'], status: 'served' })
  await check('post', '/api/golden_patient_payment', { clinic_id: clinic, exam_date: '14/11/2025', patient_name: 'فاطمة حسين', booking_id: golden['booking_id'], code: golden['code'] })
  await check('get', `/api/doctor_monthly_golden_payment_status?clinic_id=${clinic}`)
  await check('get', `/api/doctor_annual_payment_status?clinic_id=${clinic}`)
  await check('get', '/api/all_clinics_golden_payments')
  await check('post', '/api/update_payment_status', { clinic_id: clinic, payment_month: '2025-11' })
  await check('post', '/api/add_day', { clinic_id: clinic, capacity_total: 20, date_added: new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10) })
  await check('post', '/api/close_table', { clinic_id: clinic, date })
  await check('get', `/api/booking_archives/${clinic}`)
  await check('post', '/api/close_clinic', { clinic_id: clinic, is_closed: false })
  await check('get', `/api/close_clinic?clinic_id=${clinic}`)
  await check('get', '/api/maintenance/status')
  await check('get', '/')
  await check('get', '/health')
  await check('get', '/stats')
  await check('get', '/cache/stats')
})
