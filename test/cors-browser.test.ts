import t from 'tap'
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { startStack } from './helpers/stack.ts'
import { systemProgram } from './helpers/system.ts'
import { tempDir } from './helpers/server.ts'
import { today } from './helpers/booking-api.ts'

// CORS as a browser enforces it (issue 12, item 2): Debian's chromium, headless, loads a page from another origin (a
// small HTTP server on loopback) whose script calls the real server with fetch, and posts what it saw back to its
// own origin, where the test reads it. The page of a listed origin must get through every preflight and read every
// answer; the page of an unlisted origin must be stopped by the browser, and its POST must never reach the server.
//
// SSE: every stream route needs the Doctor-Secret header, which an EventSource cannot send, so a page reads the
// stream as the dashboard has to, through fetch's body reader (a preflighted request, with Last-Event-ID).

const chromium = systemProgram('chromium', 'chromium')

interface Page {
  origin: string
  result: Promise<Record<string, unknown>>
  close: () => Promise<void>
}

// Serves the page at / and takes its report at POST /result.
async function pageServer (script: (api: string) => string, api: () => string): Promise<Page> {
  let report: (value: Record<string, unknown>) => void = () => {}
  const result = new Promise<Record<string, unknown>>((resolve) => { report = resolve })
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/result') {
      let body = ''
      req.on('data', (chunk: Buffer) => { body += chunk.toString() })
      req.on('end', () => {
        res.end('thanks')
        report(JSON.parse(body) as Record<string, unknown>)
      })
      return
    }
    res.setHeader('Content-Type', 'text/html; charset=utf-8')
    res.end(`<!doctype html><html><body><script type="module">
const out = {}
const attempt = async (name, call) => { try { out[name] = await call() } catch (error) { out[name] = { blocked: String(error) } } }
${script(api())}
await fetch('/result', { method: 'POST', body: JSON.stringify(out) })
</script></body></html>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { origin: `http://127.0.0.1:${port}`, result, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }) }
}

// Opens the page in a headless chromium of its own and waits for the page's report.
async function visit (page: Page): Promise<Record<string, unknown>> {
  const profile = tempDir('tabeby-chromium-')
  const browser = spawn(chromium.path as string, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions',
    `--user-data-dir=${profile}`, `${page.origin}/`
  ], { detached: true, stdio: 'ignore' })
  const exited = new Promise((resolve) => browser.once('exit', resolve))
  try {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error('the page did not report within 90 s')), 90_000) })
    try {
      return await Promise.race([page.result, timeout])
    } finally {
      clearTimeout(timer)
    }
  } finally {
    // The wrapper script and its renderer processes: the whole group this test started.
    try { process.kill(-(browser.pid as number), 'SIGKILL') } catch {}
    await exited
    rmSync(profile, { recursive: true, force: true })
  }
}

const secret = "'Doctor-Secret': 'dev-secret'"

const allowedScript = (api: string): string => `
await attempt('days', async () => {
  const res = await fetch('${api}/api/booking_days?clinic_id=1301', { headers: { ${secret}, Authorization: 'Bearer a-dashboard-token' } })
  return { status: res.status, clinic: (await res.json()).clinic_id, limit: res.headers.get('X-RateLimit-Limit') }
})
await attempt('close', async () => {
  const res = await fetch('${api}/api/close_clinic', { method: 'POST', body: JSON.stringify({ clinic_id: 1301, is_closed: true }),
    headers: { ${secret}, 'Content-Type': 'application/json', 'Idempotency-Key': 'browser-1' } })
  return { status: res.status, body: await res.json() }
})
await attempt('error', async () => {
  const res = await fetch('${api}/api/booking_days?clinic_id=abc', { headers: { ${secret} } })
  return { status: res.status, loc: (await res.json()).detail[0].loc }
})
await attempt('sse', async () => {
  const stop = new AbortController()
  const res = await fetch('${api}/api/booking_days?clinic_id=1301&stream=true', { signal: stop.signal,
    headers: { ${secret}, Accept: 'text/event-stream', 'Last-Event-ID': '0' } })
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!/data: .*\\n\\n/s.test(text)) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  stop.abort()
  return { status: res.status, type: res.headers.get('Content-Type'), first: text }
})
`

const refusedScript = (api: string): string => `
await attempt('days', async () => {
  const res = await fetch('${api}/api/booking_days?clinic_id=1301', { headers: { ${secret} } })
  return { status: res.status }
})
await attempt('close', async () => {
  const res = await fetch('${api}/api/close_clinic', { method: 'POST', body: JSON.stringify({ clinic_id: 1302, is_closed: true }),
    headers: { ${secret}, 'Content-Type': 'application/json' } })
  return { status: res.status }
})
await attempt('simple', async () => {
  const res = await fetch('${api}/api/maintenance/status')
  return { status: res.status, body: await res.text() }
})
`

t.test('a page from a listed origin calls the API; a page from another origin is stopped by the browser', { skip: chromium.missing }, async (t) => {
  let apiUrl = ''
  const allowed = await pageServer(allowedScript, () => apiUrl)
  const refused = await pageServer(refusedScript, () => apiUrl)
  t.teardown(allowed.close)
  t.teardown(refused.close)
  const { app, api, sql } = await startStack(t, { mode: 'cluster', workers: 1, env: { CORS_ORIGINS: allowed.origin } })
  apiUrl = app.url

  await sql`INSERT INTO clinics (id, receiving_patients) VALUES (1301, 20), (1302, 20)`
  t.equal((await api.post('/api/create_table', { clinic_id: 1301, days: { [today]: { capacity_total: 20 } } })).status, 200)

  const seen = await visit(allowed)
  t.match(seen['days'], { status: 200, clinic: 1301, limit: /^\d+$/ }, 'a preflighted GET with Authorization and Doctor-Secret, an exposed header read')
  t.same(seen['close'], { status: 200, body: { clinic_id: 1301, is_closed: true } }, 'a preflighted JSON POST with Idempotency-Key')
  t.same(seen['error'], { status: 422, loc: ['query', 'clinic_id'] }, 'an error answer is readable too')
  t.match(seen['sse'], { status: 200, type: 'text/event-stream', first: /data: / }, 'the live queue over SSE')

  const stopped = await visit(refused)
  for (const name of ['days', 'close', 'simple']) {
    t.match(stopped[name], { blocked: /TypeError: Failed to fetch/ }, `${name}: the browser refuses the answer to an unlisted origin`)
  }
  const status = await api.get('/api/close_clinic?clinic_id=1302')
  t.not(status.json<{ is_closed?: boolean }>().is_closed, true, 'the refused preflight kept the POST from ever reaching the server')
})
