import t from 'tap'
import { startStack } from './helpers/stack.ts'
import { chromiumMissing, dumpDom } from './helpers/chromium.ts'

// /docs: the interactive reference integrators opened on the legacy server, now Swagger UI from the swagger-ui-dist
// package, served by this server alone and rendered from /openapi.json. Checked in a real browser (Debian's
// chromium): it needs the server's socket, so this runs the server as processes.

const { app: server, api } = await startStack(t, { mode: 'cluster', workers: 1 })

interface Operation { operationId: string, tags: string[], requestBody?: { content: Record<string, { example?: unknown }> } }
const doc = (await api.get('/openapi.json')).json<{ paths: Record<string, Record<string, Operation>> }>()
const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, ...op })))

t.test('the page and everything it loads come from this server', async (t) => {
  const page = await api.get('/docs')
  t.equal(page.status, 200)
  t.match(page.headers['content-type'], /^text\/html; charset=utf-8/)
  t.match(page.headers['content-security-policy'], /default-src 'none'; script-src 'self'/, 'no script from elsewhere may run')
  const loaded = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string)
  t.ok(loaded.length >= 4, 'styles, icon and scripts')
  for (const url of loaded) {
    t.match(url, /^\//, `${url} is this server's`)
    const asset = await api.get(url)
    t.equal(asset.status, 200, `${url} is served`)
  }
  const plain = await api.get('/docs/swagger-ui-bundle.js')
  t.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8')
  t.ok(plain.text.length > 1_000_000 && plain.text.includes('SwaggerUIBundle'), 'the real bundle')
  const bundle = await api.get('/docs/swagger-ui-bundle.js', { headers: { 'Accept-Encoding': 'gzip' } })
  t.equal(bundle.headers['content-encoding'], 'gzip', 'the 1.7 MB bundle travels compressed')
  t.ok(Number(bundle.headers['content-length']) < 600_000, 'about a quarter of its size')
  const again = await api.get('/docs/swagger-ui-bundle.js', { headers: { 'If-None-Match': String(bundle.headers['etag']) } })
  t.equal(again.status, 304, 'revalidated by its ETag')
  const document = await api.get('/openapi.json', { headers: { 'Accept-Encoding': 'br, gzip' } })
  t.equal(document.headers['content-encoding'], 'br', 'the document too')
  t.equal((await api.get('/openapi.json', { headers: { 'If-None-Match': String(document.headers['etag']) } })).status, 304)
})

t.test('/docs still answers its JSON list to a client that asks for JSON; /redoc leads to /docs', async (t) => {
  const list = await api.get('/docs', { headers: { Accept: 'application/json' } })
  t.equal(list.status, 200)
  t.ok(list.json<{ routes: string[] }>().routes.includes('POST /api/patient_booking'))
  const redoc = await api.get('/redoc')
  t.equal(redoc.status, 302)
  t.equal(redoc.headers['location'], '/docs')
})

t.test('chromium renders every operation of the document', { skip: chromiumMissing }, async (t) => {
  // Swagger UI renders only what is within the window: a tall one holds them all.
  const dom = await dumpDom(`${server.url}/docs`, { height: 16_000 })
  t.match(dom, /Tabeby API/, 'the page loaded and rendered the document')
  const missing = operations.filter((op) => !dom.includes(`-${op.operationId}"`))
  t.same(missing.map((op) => `${op.method} ${op.path}`), [], `all ${operations.length} operations are listed`)
  t.ok(operations.length > 100, 'the whole API, not a part of it')
})

t.test("chromium renders a booking's request example in the apps' shape, Arabic included", { skip: chromiumMissing }, async (t) => {
  const booking = operations.find((op) => op.path === '/api/patient_booking' && op.method === 'post')
  const example = booking?.requestBody?.content['application/json']?.example as Record<string, unknown> | undefined
  t.ok(example !== undefined, 'the document carries the example')
  // A deep link opens the operation; the Bookings section is first, so it is within the window.
  const dom = await dumpDom(`${server.url}/docs#/${booking?.tags[0] ?? ''}/${booking?.operationId ?? ''}`)
  t.match(dom, /opblock-post is-open/, 'the operation is open')
  t.ok(dom.includes(String(example?.['name'])), `the example's Arabic name (${String(example?.['name'])}) is on the page`)
  t.ok(dom.includes('patient_app'), 'with its fields as the patient app sends them')
})
