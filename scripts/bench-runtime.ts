// The server run from TypeScript through tsx (`npm run dev`, as production ran before) against the compiled build
// (`node dist/src/main.js`, the Procfile): memory per process and the time to replace a killed worker.
//
// Each round measures both forms one after the other (the order alternates), on the same external PostgreSQL:
//   memory:  WEB_CONCURRENCY=--workers (2: 4 processes with the primary and the coordinator), some traffic so every
//            process has served, then each process's RSS;
//   restart: WEB_CONCURRENCY=1, the worker SIGKILLed --kills times; each time, from the kill until GET /health is
//            answered 200 again, which only the replacement can do (fresh connections, polled every 5 ms).
// Ratios are taken within a round, where both forms shared the machine's load. Prints JSON.
//
//   npx tsx scripts/bench-runtime.ts [--rounds 3] [--kills 3] [--workers 2]
import './lib/quiet.ts'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { request, root, startDatabase, startServer, stats, waitFor, type TestDatabase, type TestServer } from '../test/helpers/server.ts'
import { flag, machine } from './lib/bench.ts'

const args = process.argv.slice(2)
const rounds = flag(args, 'rounds', 3)
const kills = flag(args, 'kills', 3)
const workers = flag(args, 'workers', 2)
const WATCHDOG_MS = rounds * (kills * 30 + 180) * 1000

type Form = 'tsx' | 'compiled'

let db: TestDatabase | null = null
let server: TestServer | null = null
const watchdog = setTimeout(() => {
  console.error(`bench-runtime: watchdog after ${WATCHDOG_MS} ms`)
  void Promise.allSettled([server?.cleanup(), db?.destroy()]).finally(() => process.exit(1))
}, WATCHDOG_MS)
watchdog.unref()

function rssMiB (pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? ''
  return Math.round(Number(/(\d+)/.exec(line)?.[1] ?? NaN) / 1024 * 10) / 10
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
const round2 = (n: number): number => Math.round(n * 100) / 100

interface FormResult {
  start_ms: number
  rss_mib: { primary: number, coordinator: number, workers: number[], total: number }
  replace_ms: number[] // kill → the replacement answers
}

async function measure (form: Form, databaseUrl: string): Promise<FormResult> {
  const build = form === 'compiled' ? 'procfile' : 'source'
  const started = performance.now()
  server = await startServer({ build, workers, env: { DATABASE_URL: databaseUrl } })
  const startMs = Math.round(performance.now() - started)
  const s = await waitFor('every worker in /stats', async () => {
    const body = await stats(server as TestServer)
    return body.coordinator !== null && body.workers.length === workers ? body : null
  }, 20_000)
  // Serve a little first: a process that has answered requests has loaded and compiled its routes.
  for (let i = 0; i < 400; i++) await request(`${server.url}${i % 2 === 0 ? '/health' : '/'}`)
  await sleep(500)
  const primary = rssMiB(server.child.pid as number)
  const coordinator = rssMiB(s.coordinator?.pid as number)
  const workerRss = s.workers.map((w) => rssMiB(w.pid))
  await server.stop()

  server = await startServer({ build, workers: 1, env: { DATABASE_URL: databaseUrl } })
  const replace: number[] = []
  for (let k = 0; k < kills; k++) {
    const [worker] = (await waitFor('the worker in /stats', async () => {
      const body = await stats(server as TestServer)
      return body.workers.length === 1 ? body : null
    }, 20_000)).workers
    // A worker that lived less than 10 s counts as crashing and is restarted after a back-off: wait that out, so
    // every replacement is an immediate one.
    await sleep(10_500)
    const killedAt = performance.now()
    process.kill(worker?.pid as number, 'SIGKILL')
    await waitFor('the replacement to answer', async () => {
      const res = await request(`${(server as TestServer).url}/health`, { timeoutMs: 1000 })
      return res.status === 200
    }, 30_000, 5)
    replace.push(Math.round(performance.now() - killedAt))
  }
  await server.stop()
  server = null
  return { start_ms: startMs, rss_mib: { primary, coordinator, workers: workerRss, total: round2(primary + coordinator + workerRss.reduce((a, b) => a + b, 0)) }, replace_ms: replace }
}

execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
db = await startDatabase()
const results: Array<Record<Form, FormResult> & { ratios: Record<string, number> }> = []
for (let r = 0; r < rounds; r++) {
  const order: Form[] = r % 2 === 0 ? ['tsx', 'compiled'] : ['compiled', 'tsx']
  const round: Partial<Record<Form, FormResult>> = {}
  for (const form of order) round[form] = await measure(form, db.url)
  const tsx = round.tsx as FormResult
  const compiled = round.compiled as FormResult
  results.push({
    tsx,
    compiled,
    ratios: {
      rss_total_compiled_over_tsx: round2(compiled.rss_mib.total / tsx.rss_mib.total),
      replace_median_compiled_over_tsx: round2(median(compiled.replace_ms) / median(tsx.replace_ms)),
      start_compiled_over_tsx: round2(compiled.start_ms / tsx.start_ms)
    }
  })
}
await db.destroy()
db = null

console.log(JSON.stringify({
  machine: machine(),
  workers,
  processes: workers + 2,
  rounds: results,
  summary: {
    rss_total_mib: { tsx: median(results.map((r) => r.tsx.rss_mib.total)), compiled: median(results.map((r) => r.compiled.rss_mib.total)) },
    rss_worker_mib: { tsx: median(results.flatMap((r) => r.tsx.rss_mib.workers)), compiled: median(results.flatMap((r) => r.compiled.rss_mib.workers)) },
    replace_ms: { tsx: median(results.flatMap((r) => r.tsx.replace_ms)), compiled: median(results.flatMap((r) => r.compiled.replace_ms)) },
    start_ms: { tsx: median(results.map((r) => r.tsx.start_ms)), compiled: median(results.map((r) => r.compiled.start_ms)) },
    ratio_medians: {
      rss_total: median(results.map((r) => r.ratios.rss_total_compiled_over_tsx as number)),
      replace: median(results.map((r) => r.ratios.replace_median_compiled_over_tsx as number)),
      start: median(results.map((r) => r.ratios.start_compiled_over_tsx as number))
    }
  }
}, null, 2))
