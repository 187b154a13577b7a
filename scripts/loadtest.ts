// `npm run loadtest`: one reproducible clinic day at scale. Starts a cluster on an embedded PostgreSQL (or targets
// --url), seeds 500 clinics × 14 days, plays the mixed day of scripts/loadtest/mix.ts for --users concurrent users
// (8 in 10 of them holding a live SSE view) for --seconds, crosses midnight once, checks the invariants in the
// database, prints a summary, and writes the results (JSON), a self-contained HTML report and its PNG to --out.
// With --ablations it also runs the shorter variants (WEB_CONCURRENCY 1 vs 2, shared cache on vs off, SSE push vs
// a 1 s poll) in the same invocation and reports them as ratios.
//
//   npm run loadtest -- [--users 10000] [--seconds 300] [--workers 2] [--threads 2] [--clinics 500] [--url http://host:port]
//                       [--database-url postgres://…] [--ablations] [--ablation-users 2000] [--ablation-seconds 40]
//                       [--out bench-results] [--label name] [--server-env NAME=value]...
//   npm run loadtest -- --render results.json [--out dir]     (the report and summary again, from a run's JSON)
//
// Exit status: 0 when every invariant holds, 1 when one does not, 2 on bad options.
import './lib/quiet.ts'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { runLoadtest, type RunResult } from './loadtest/run.ts'
import { runAblations, type Ablations } from './loadtest/ablations.ts'
import { summaryText, type Results } from './loadtest/summary.ts'
import { renderReport, screenshot } from './loadtest/report.ts'
import { msUntilIraqMidnight } from '../src/domain/calendar.ts'

const args = process.argv.slice(2)
function option (name: string): string | undefined {
  const at = args.indexOf(`--${name}`)
  return at < 0 ? undefined : args[at + 1]
}
function number (name: string, fallback: number): number {
  const value = option(name)
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} needs a positive number, got ${value}`)
    process.exit(2)
  }
  return n
}

const users = number('users', 10_000)
const seconds = number('seconds', 300)
const workers = number('workers', 2)
const threads = number('threads', Math.max(1, Math.min(4, Math.ceil(users / 5000))))
const clinics = number('clinics', 500)
const url = option('url')
const databaseUrl = option('database-url')
const out = resolve(option('out') ?? 'bench-results')
const label = option('label') ?? `loadtest-${new Date().toISOString().replace(/[:.]/g, '-')}`

// Settings for the cluster the run starts (repeatable): the soak's own ablations, MALLOC_TRIM_SECONDS=0 say.
const serverEnv: Record<string, string> = {}
args.forEach((arg, at) => {
  if (arg !== '--server-env') return
  const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(args[at + 1] ?? '')
  if (match === null) {
    console.error(`--server-env needs NAME=value, got ${args[at + 1] ?? 'nothing'}`)
    process.exit(2)
  }
  serverEnv[match[1] as string] = match[2] as string
})
if (url !== undefined && Object.keys(serverEnv).length > 0) {
  console.error('--server-env sets the cluster this run starts; with --url the server is someone else\'s')
  process.exit(2)
}

const rendering = option('render')
if (rendering !== undefined) {
  const results = JSON.parse(readFileSync(rendering, 'utf8')) as Results
  const base = join(option('out') === undefined ? dirname(resolve(rendering)) : out, results.label)
  writeFileSync(`${base}.html`, renderReport(results))
  const png = await screenshot(`${base}.html`, `${base}.png`)
  console.log(summaryText(results))
  console.log(`\nreport:  ${base}.html${png === null ? ' (no PNG: chromium not found)' : `\npicture: ${png}`}`)
  process.exit(0)
}

// The run dates its days once, at its start, and crosses midnight in the server's own archive run. A run that also
// crossed Baghdad's real midnight (21:00 UTC) would book days that became past meanwhile (soak N in
// docs/BENCHMARKS.md: the rush answered 1,200 × 400, the archive run twice). Refused; the setup and the checks are
// given ten minutes beside --seconds.
const untilMidnight = msUntilIraqMidnight()
if ((seconds + 600) * 1000 > untilMidnight) {
  const at = new Date(Date.now() + untilMidnight).toISOString().slice(11, 16)
  console.error(`this run (--seconds ${seconds} and ~10 minutes around it) would cross Baghdad's midnight at ${at} UTC, where its dates turn past: start it after that, or make it shorter`)
  process.exit(2)
}

// Thousands of sockets: raise this process's open-file limit (bash's ulimit, up to the hard limit), once.
function openFileLimit (): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
  return Number(line?.split(/\s{2,}/)[1] ?? 1024)
}
const needed = users + 2000
if (openFileLimit() < needed && process.env.LOADTEST_ULIMIT_TRIED === undefined) {
  const child = spawnSync('bash', ['-c', `ulimit -n ${needed} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, LOADTEST_ULIMIT_TRIED: '1' }
  })
  process.exit(child.status ?? 1)
}
if (openFileLimit() < needed) console.error(`open-file limit ${openFileLimit()} is below the ${needed} this run needs: connections will fail`)

const log = (line: string): void => console.error(`[loadtest ${new Date().toISOString().slice(11, 19)}] ${line}`)
const main: RunResult = await runLoadtest({ users, seconds, workers, threads, clinics, url, databaseUrl, env: serverEnv, label: 'main', log })
let ablations: Ablations | null = null
if (args.includes('--ablations')) {
  ablations = await runAblations({ users: number('ablation-users', 2000), seconds: number('ablation-seconds', 40), threads: Math.max(1, Math.min(threads, 2)), log })
}

mkdirSync(out, { recursive: true })
const results = { label, command: `npm run loadtest -- ${args.join(' ')}`.trim(), main, ablations }
const jsonPath = join(out, `${label}.json`)
writeFileSync(jsonPath, JSON.stringify(results))
const htmlPath = join(out, `${label}.html`)
writeFileSync(htmlPath, renderReport(results))
const png = await screenshot(htmlPath, join(out, `${label}.png`))
console.log(summaryText(results))
console.log(`\nresults: ${jsonPath}\nreport:  ${htmlPath}${png === null ? ' (no PNG: chromium not found)' : `\npicture: ${png}`}`)
process.exit(main.invariants === null || main.invariants.violations === 0 ? 0 : 1)
