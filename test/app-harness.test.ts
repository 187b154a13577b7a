import t from 'tap'
import { loadUws } from '../src/uws.ts'
import { mountRoutes, type MountedRoute } from '../workers/routes/index.ts'
import { methodMatcher } from '../workers/methods.ts'
import { Router } from './helpers/app.ts'
import { request } from './helpers/client.ts'
import { freePort } from '../src/db/embedded.ts'
import { startStack } from './helpers/stack.ts'

// The in-process app stands in for the server in most route tests, so it must pick the route uWS picks and apply
// the rules the worker applies. Held side by side with a real uWS app here.

const { app, api } = await startStack(t, { mode: 'in-process' })
const mounted = mountRoutes(app.context)

const uwsMethod = { get: 'get', head: 'head', post: 'post', put: 'put', patch: 'patch', del: 'del' } as const

t.test('the in-process router picks the route uWS picks, for every route and the awkward paths', async (t) => {
  const { uws } = loadUws()
  const server = uws.App()
  const port = await freePort()
  // A handler of its own per registration (a /backend mirror shares its route's), so a match names its pattern.
  const echoed: MountedRoute[] = mounted.map((route) => ({ ...route, handler: () => { throw new Error('not called') } }))
  for (const route of echoed) {
    const count = (route.pattern.match(/\/:/g) ?? []).length
    server[uwsMethod[route.method]](route.pattern, (res, req) => {
      const params: string[] = []
      for (let i = 0; i < count; i++) params.push(req.getParameter(i))
      // In a header, so a HEAD answer carries it too.
      res.cork(() => res.writeHeader('X-Route', JSON.stringify({ pattern: route.pattern, params })).end())
    })
  }
  server.any('/*', (res) => { res.cork(() => res.writeHeader('X-Route', JSON.stringify({ pattern: null, params: [] })).end()) })
  const listening = await new Promise<unknown>((resolve) => server.listen('127.0.0.1', port, resolve))
  t.teardown(() => { if (listening !== false) uws.us_listen_socket_close(listening as never) })
  const unmatched = (): never => { throw new Error('not called') }
  const router = new Router(echoed, unmatched)

  const paths = new Set<string>(['/', '//', '/api', '/api/', '/API/doctors', '/backend', '/backend/', '/api/doctors/', '/api/doctors//',
    '/api/doctors/7/', '//api/doctors/7', '/api/doctors/stats', '/api/doctors/stats/count', '/api/doctors/%E0%A4%A', '/api/doctors/a%2Fb',
    '/api/patient/profile', '/api/patient/profile/P-1', '/api/patient/P-1/status', '/doctor/profile/by-user/7', '/no/such/route'])
  for (const route of mounted) {
    paths.add(route.pattern.replace(/:\w+/g, 'x1'))
    paths.add(route.pattern.replace(/:\w+/g, 'stats'))
    paths.add(`${route.pattern.replace(/:\w+/g, 'x1')}/`)
  }
  let compared = 0
  const differences: string[] = []
  // The methods a 405's Allow names for a path (workers/methods.ts) are those uWS finds a route for.
  const methodsOf = methodMatcher(mounted)
  const allowDifferences: string[] = []
  for (const path of paths) {
    const routed: string[] = []
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const overSocket = JSON.parse(String((await request(`http://127.0.0.1:${port}${path}`, { method })).headers['x-route'])) as { pattern: string | null, params: string[] }
      const matched = router.match(method, path)
      const route = echoed.find((r) => r.handler === matched.handler)
      const expected = JSON.stringify(overSocket)
      const got = JSON.stringify({ pattern: route?.pattern ?? null, params: matched.rawParams })
      compared++
      if (got !== expected) differences.push(`${method} ${path}: uWS ${expected}, in-process ${got}`)
      if (overSocket.pattern !== null) routed.push(method)
    }
    if (routed.join() !== methodsOf(path).join()) allowDifferences.push(`${path}: uWS routes ${routed.join()}, Allow says ${methodsOf(path).join()}`)
  }
  t.same(differences, [], `${compared} method and path pairs route alike`)
  t.same(allowDifferences, [], 'a path\'s Allow lists exactly the methods uWS has a route for')
})

t.test('the in-process app applies the worker\'s request rules', async (t) => {
  const tooBig = await api.post('/api/patient_booking', JSON.stringify({ clinic_id: 1, name: 'x'.repeat(100 * 1024) }))
  t.equal(tooBig.status, 413, 'a body over MAX_BODY_BYTES')
  t.same(tooBig.json(), { detail: 'request body exceeds 65536 bytes', code: 'body_too_large' })

  const longPath = await api.get(`/api/${'a'.repeat(10_000)}`)
  t.equal(longPath.status, 414, 'a path over MAX_URL_BYTES')
  const bigHeader = await api.get('/', { headers: { 'X-Padding': 'b'.repeat(10_000) } })
  t.equal(bigHeader.status, 431, 'headers over MAX_HEADER_BYTES')

  const head = await api.send('HEAD', '/')
  t.equal(head.status, 200, 'HEAD is served by the GET route')
  t.equal(head.text, '', 'without a body')

  const limited = await api.get('/api/maintenance/status')
  t.equal(limited.headers['x-ratelimit-limit'], '30000', 'the default tier is counted and its headers added')
  t.match(limited.headers['ratelimit-policy'], /^"default";/)
  const auth = await api.get('/auth/check-phone?phone=%2B9647700000000')
  t.match(auth.headers['ratelimit-policy'], /^"auth";/, 'an /auth/ route is in the auth tier')
  const backend = await api.get('/backend/auth/check-phone?phone=%2B9647700000000')
  t.match(backend.headers['ratelimit-policy'], /^"auth";/, 'and so is its /backend mirror')
  t.equal((await api.get('/health')).headers['x-ratelimit-limit'], undefined, 'an exempt route is not counted')

  const notFound = await api.get('/no/such/route')
  t.same([notFound.status, notFound.json()], [404, { detail: 'Not Found', code: 'not_found' }], 'the catch-all 404')
})
