import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { root, waitFor } from './helpers/server.ts'
import { runLoadtest } from '../scripts/loadtest/run.ts'
import { checkInvariants } from '../scripts/loadtest/invariants.ts'
import { PER_APP_USER } from '../scripts/loadtest/mix.ts'
import { renderReport } from '../scripts/loadtest/report.ts'
import { Viewer } from '../scripts/loadtest/viewers.ts'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

// The load test at a tiny scale (50 users for 10 s on one worker, 20 clinics): it runs the whole day (seed, viewers,
// every action, midnight) and its invariants hold; then a violation is written into the database and the same
// checker must see it. A checker that cannot fail proves nothing about the big runs.

const run = promisify(execFile)

t.test('a tiny day passes its invariants, and the checker catches a violation written into the database', async (t) => {
  let caught: Awaited<ReturnType<typeof checkInvariants>> | null = null
  const result = await runLoadtest({
    users: 50,
    seconds: 20,
    workers: 1,
    threads: 1,
    clinics: 20,
    // Short views: the server holds a stream at least 10 s (workers/sse.ts), so views of 10-15 s end within a 20 s day
    // and their viewers reconnect with Last-Event-ID.
    viewerTimeoutSeconds: 10,
    log: () => {},
    beforeCleanup: async (sql, input) => {
      const [victim, other] = input.booked.filter((b) => b.lane === 'regular')
      t.ok(victim !== undefined && other !== undefined, `bookings answered 200 to tamper with (${input.booked.length})`)
      if (victim === undefined || other === undefined) return
      // A token that leaves a gap, and a booking answered 200 that is gone.
      await sql`UPDATE bookings SET token = token + 7 WHERE display_id = ${victim.id}`
      await sql`DELETE FROM bookings WHERE display_id = ${other.id}`
      caught = await checkInvariants(sql, input)
    }
  })
  const invariants = result.invariants
  t.ok(invariants !== null, 'the invariants were checked')
  t.equal(invariants?.violations, 0, `every invariant holds after the day: ${JSON.stringify(invariants?.checks)}`)
  t.ok(result.midnight !== null && result.midnight.days >= 20, `midnight archived every clinic's yesterday (${JSON.stringify(result.midnight)})`)
  t.ok((result.routes.read?.latency.count ?? 0) > 0, 'reads were made')
  t.ok(result.sse.frames >= 40, `the 40 viewers got their screens (${result.sse.frames} frames)`)
  t.ok(result.sse.reconnects > 0, `viewers came back after their views ended (${result.sse.reconnects})`)
  t.ok(Object.keys(result.processes).includes('worker 1') && Object.keys(result.processes).includes('postgres'), 'the server\'s processes were sampled')

  // The report is one file that needs nothing from the network: the chart library inlined, no external script or style.
  const html = renderReport({ label: 'tiny', command: 'npm run loadtest -- --users 50', main: result, ablations: null })
  t.match(html, /uPlot/, 'the chart library is in the page')
  t.notMatch(html, /<script[^>]*\bsrc=|<link[^>]*\bhref=|@import/, 'no external script or style')

  const after = caught as Awaited<ReturnType<typeof checkInvariants>> | null
  t.ok(after !== null && after.violations > 0, 'the tampered database fails')
  t.ok((after?.checks.tokens_contiguous?.violations ?? 0) > 0, 'the token gap is found')
  t.ok((after?.checks.every_200_stored?.violations ?? 0) > 0, 'the missing booking is found')
  t.ok((after?.checks.viewers_see_the_database?.violations ?? 0) > 0, 'the viewers no longer show the database')
})

// A stream opening the server refuses (a 503 while its pool is saturated) is counted as refused, not as a stream,
// and the viewer comes back as a phone would: the summary's refused figure is that count.
t.test('a viewer counts a refused stream opening and retries', async (t) => {
  let asked = 0
  const server = createServer((_request, res) => {
    asked++
    if (asked === 1) {
      res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"detail":"busy"}')
      return
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream' })
    res.write('id: 1\ndata: {}\n\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const viewer = new Viewer({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, secret: 's', address: '127.0.0.9', clinic: 1, timeoutSeconds: 60, sampled: false, onDelivery: () => {} })
  t.teardown(() => viewer.stop())
  viewer.start()
  // The retry waits 2-4 s, as EventSource waits the server's hint.
  await waitFor('the viewer to reconnect', async () => viewer.connected, 30_000)
  t.ok(viewer.connected, 'the second opening is a stream')
  t.equal(viewer.refused, 1, 'the 503 is counted as refused')
  t.equal(asked, 2, 'and the viewer asked again')
})

t.test('the k6 scenarios parse, and play the runner\'s rates', async (t) => {
  const dir = join(root, 'k6')
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'))
  for (const name of ['smoke.js', 'load.js', 'spike.js', 'soak.js', 'sse.js', 'mix.js', 'common.js']) t.ok(files.includes(name), `k6/${name}`)
  // k6 runs these, not Node; `node --check` parses them as the ES modules they are without resolving k6's imports.
  for (const file of files) {
    const checked = await run(process.execPath, ['--check', join(dir, file)]).then(() => null, (error: Error) => error.message)
    t.equal(checked, null, `k6/${file} parses`)
  }
  const common = readFileSync(join(dir, 'common.js'), 'utf8')
  const literal = /export const PER_APP_USER = (\{[^}]*\})/.exec(common)?.[1]
  t.ok(literal !== undefined, 'k6/common.js states its rates per app user')
  const rates = JSON.parse((literal ?? '{}').replace(/(\w+):/g, '"$1":')) as unknown
  t.same(rates, PER_APP_USER, 'the same rates as scripts/loadtest/mix.ts')
  t.match(common, /'http_req_duration\{name:read\}': \['p\(95\)<50'\]/, 'reads p95 < 50 ms')
  t.match(common, /http_req_failed: \['rate<0\.001'\]/, 'failed requests < 0.1 %')
  t.match(common, /expectedStatuses\(\{ min: 200, max: 299 \}, 304, 409, 429\)/, 'the intended 409/429 (and 304) are not failures')
})
