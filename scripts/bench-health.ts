// /health under load: GET /health at `--concurrency` keep-alive connections (64) against the real server (`--workers`
// 2, embedded PostgreSQL), and against bare uWebSockets.js (scripts/lib/bare-uws.ts, as many processes) answering
// the very body the server returned, alternating in `--rounds` rounds of `--seconds` each; the ratio is Tabeby's
// requests/s over bare's in the same round. `--off health-memory` checks the database per request (the ablation).
// Records the machine's load average. Prints JSON.
//
//   npx tsx scripts/bench-health.ts [--seconds 5] [--rounds 3] [--concurrency 64] [--workers 2] [--off list]
import './lib/quiet.ts'
import { fork, type ChildProcess } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../src/db/embedded.ts'
import { request, root, startDatabase, startServer, tempDir, type TestDatabase, type TestServer } from '../test/helpers/server.ts'
import { runLoad, httpRequest, type LoadResult } from './lib/load.ts'
import { flag, machine } from './lib/bench.ts'

const args = process.argv.slice(2)
const seconds = flag(args, 'seconds', 5)
const rounds = flag(args, 'rounds', 3)
const concurrency = flag(args, 'concurrency', 64)
const workers = flag(args, 'workers', 2)
const off = args.includes('--off') ? String(args[args.indexOf('--off') + 1] ?? '') : ''
const WATCHDOG_MS = (rounds * 2 * (seconds + 3) + 240) * 1000

let db: TestDatabase | null = null
let server: TestServer | null = null
const bare: ChildProcess[] = []
const scratch = tempDir('tabeby-bench-health-')

async function cleanup (): Promise<void> {
  for (const child of bare) if (child.exitCode === null) child.kill('SIGTERM')
  await server?.cleanup().catch(() => {})
  await db?.destroy().catch(() => {})
  rmSync(scratch, { recursive: true, force: true })
}
const watchdog = setTimeout(() => {
  console.error(`bench-health: watchdog after ${WATCHDOG_MS} ms`)
  void cleanup().finally(() => process.exit(1))
}, WATCHDOG_MS)
watchdog.unref()
process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)) })

const healthRequest = httpRequest('GET', '/health', {})
const load = (port: number, durationMs: number): Promise<LoadResult> => runLoad({
  host: '127.0.0.1', port, connections: concurrency, durationMs, request: () => healthRequest
})

try {
  db = await startDatabase({})
  server = await startServer({ workers, env: { DATABASE_URL: db.url, HOT_PATHS_OFF: off } })
  const first = await request(`${server.url}/health`)
  if (first.status !== 200) throw new Error(`/health: ${first.status} ${first.text}`)
  const body = Buffer.from(first.text)
  const bodyPath = join(scratch, 'health.json')
  writeFileSync(bodyPath, body)
  const barePort = await freePort()
  await new Promise<void>((resolve, reject) => {
    let ready = 0
    for (let i = 0; i < workers; i++) {
      const child = fork(join(root, 'scripts/lib/bare-uws.ts'), [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, BARE_PORT: String(barePort), BARE_BODY: bodyPath, BARE_GZIP: bodyPath, BARE_ETAG: '"health"' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc']
      })
      bare.push(child)
      child.once('exit', (code) => { if (ready < workers) reject(new Error(`bare uWS exited with ${code}`)) })
      child.on('message', () => { if (++ready === workers) resolve() })
    }
  })
  for (const port of [server.port, barePort]) await load(port, 2000)

  const loadBefore = loadavg()
  const perRound: Array<{ round: number, tabeby: LoadResult, bare: LoadResult, ratio: number }> = []
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? [server.port, barePort] : [barePort, server.port]
    const results = new Map<number, LoadResult>()
    for (const port of order) results.set(port, await load(port, seconds * 1000))
    const t = results.get(server.port) as LoadResult
    const b = results.get(barePort) as LoadResult
    perRound.push({ round, tabeby: t, bare: b, ratio: Math.round(t.requests_per_second / b.requests_per_second * 100) / 100 })
  }
  const loadAfter = loadavg()
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] as number
  const ratio = median(perRound.map((r) => r.ratio))
  const p99 = median(perRound.map((r) => r.tabeby.latency.p99_ms))
  console.log(JSON.stringify({
    machine: machine(),
    load_average: { before: loadBefore.map((v) => Math.round(v * 100) / 100), after: loadAfter.map((v) => Math.round(v * 100) / 100) },
    settings: { seconds, rounds, concurrency, workers, hot_paths_off: off === '' ? [] : off.split(','), body_bytes: body.length },
    rounds: perRound.map((r) => ({
      round: r.round,
      ratio: r.ratio,
      tabeby: { rps: r.tabeby.requests_per_second, p50_ms: r.tabeby.latency.p50_ms, p99_ms: r.tabeby.latency.p99_ms, statuses: r.tabeby.statuses },
      bare: { rps: r.bare.requests_per_second, p50_ms: r.bare.latency.p50_ms, p99_ms: r.bare.latency.p99_ms }
    })),
    goals: {
      ratio_vs_bare_uws: { goal: 0.3, measured: ratio, met: ratio >= 0.3 },
      p99_ms: { goal: 10, measured: p99, met: p99 < 10 }
    }
  }, null, 2))
} finally {
  await cleanup()
  clearTimeout(watchdog)
}
