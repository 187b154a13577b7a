// Transactions whose backends are terminated while they wait on a row lock (a failover, a restart, an operator's
// pg_terminate_backend), round after round, through the server's own pool (`Database`) and the patched postgres.js.
// Each round: 8 transactions each UPDATE one shared row and INSERT a line tagged with their name; the ones seen
// waiting on a lock are terminated; then every answer is checked against what was stored.
//
//   npx tsx scripts/stress-terminated-transactions.ts [--rounds 100] [--contended 1]
//
// Default: another session holds the row first, and releases it only once the terminated backends are gone, so
//   every terminated transaction must fail and store nothing, and every other one must succeed.
// --contended 1: no holder; the transactions wait on each other, so a terminated one's blocker may commit and
//   the terminated one be granted the row and commit before it handles its termination (then its COMMIT's answer is
//   lost with the connection: "outcome unknown", counted apart, as any client of any database can meet it).
// Always: an answer of success is a stored row; no transaction waits past the pool's deadline (a `database_timeout`
// here is a transaction that never settled); the process does not die.
// Prints JSON; exits 1 when a check failed. Load the machine (two CPU-bound processes) to make the races likelier.
//
// Known failure (2026-11-30, not fixed): --contended 1 leaves transactions that never settle (106 of 240 in one
// 30-round run on the loaded machine; 0 of 240 without --contended). Instrumented: a transaction on a connection just
// reconnected after a termination keeps its UPDATE as the driver's current query, with nothing sent after it and
// nothing left to read on its socket, while its backend sits "idle in transaction" after that UPDATE holding the row;
// every transaction behind it then waits out the pool's deadline. It happens in rounds without any termination too,
// right after the reconnects. Whether the unpatched driver does the same was not checked.
import './lib/quiet.ts'
import postgres from 'postgres'
import { setTimeout as sleep } from 'node:timers/promises'
import { Database } from '../src/db/pool.ts'
import { startDatabase } from '../test/helpers/server.ts'
import { flag } from './lib/bench.ts'

const args = process.argv.slice(2)
const rounds = flag(args, 'rounds', 100)
const contended = flag(args, 'contended', 0) === 1
const PER_ROUND = 8
const APP = 'tabeby:stress:worker-1'

interface Outcome { tag: string, ok: boolean, code: string }

const db = await startDatabase()
const admin = postgres(db.url, { max: 2, onnotice: () => {} })
await admin`CREATE TABLE stress_row (id int PRIMARY KEY, n int)`
await admin`INSERT INTO stress_row VALUES (1, 0)`
await admin`CREATE TABLE stress_log (tag text PRIMARY KEY)`
const pool = new Database({ url: db.url, max: 5, applicationName: APP, queueTimeoutMs: 5000, deadlineMs: 5000 })
const totals = { rounds, contended, terminated: 0, failed: 0, succeeded: 0, outcomeUnknown: 0, terminatedButCommitted: 0, answeredButNotStored: 0, neverSettled: 0 }
const started = Date.now()

for (let round = 0; round < rounds; round++) {
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  let locked: () => void = () => {}
  const isLocked = new Promise<void>((resolve) => { locked = resolve })
  const holder = postgres(db.url, { max: 1, onnotice: () => {} })
  const lock = contended
    ? Promise.resolve()
    : holder.begin(async (sql) => { await sql`SELECT 1 FROM stress_row WHERE id = 1 FOR UPDATE`; locked(); await held })
  if (!contended) await isLocked

  const answers: Array<Promise<Outcome>> = Array.from({ length: PER_ROUND }, (_, i) => {
    const tag = `r${round}-t${i}`
    return pool.transaction(async (tx) => {
      await tx.unsafe(`/* ${tag} */ UPDATE stress_row SET n = n + 1 WHERE id = 1`)
      await tx`INSERT INTO stress_log VALUES (${tag})`
    }).then(() => ({ tag, ok: true, code: '' }), (e: unknown) => ({ tag, ok: false, code: String((e as { code?: unknown }).code ?? e) }))
  })

  let waiting: Array<{ pid: number, query: string }> = []
  for (let i = 0; i < 400 && waiting.length < 2; i++) {
    waiting = await admin`SELECT pid, query FROM pg_stat_activity WHERE application_name = ${APP} AND wait_event_type = 'Lock'`
    if (waiting.length < 2) await sleep(5)
  }
  for (const { pid } of waiting) await admin`SELECT pg_terminate_backend(${pid})`
  const pids = waiting.map((w) => w.pid)
  for (let i = 0; !contended && i < 2000; i++) {
    if ((await admin`SELECT 1 FROM pg_stat_activity WHERE pid = ANY(${pids})`).length === 0) break
    await sleep(5)
  }
  release()
  await lock
  await holder.end()

  const outcomes = await Promise.all(answers)
  const stored = new Set((await admin<Array<{ tag: string }>>`SELECT tag FROM stress_log WHERE tag LIKE ${`r${round}-%`}`).map((r) => r.tag))
  const terminated = new Set(waiting.map((w) => /\/\* (\S+) \*\//.exec(w.query)?.[1] ?? ''))
  totals.terminated += terminated.size
  for (const o of outcomes) {
    if (o.ok) totals.succeeded++; else totals.failed++
    if (o.code === 'database_timeout') totals.neverSettled++
    if (o.ok && !stored.has(o.tag)) totals.answeredButNotStored++
    if (!o.ok && stored.has(o.tag)) totals.outcomeUnknown++
    if (terminated.has(o.tag) && stored.has(o.tag)) totals.terminatedButCommitted++
  }
}

await pool.close()
await admin.end()
await db.destroy()
// With the row held until the terminated backends are gone, none of them can commit; contended, one may (above).
const failedChecks = [
  ...(totals.answeredButNotStored > 0 ? ['an answer of success with nothing stored'] : []),
  ...(totals.neverSettled > 0 ? ['a transaction that never settled (database_timeout)'] : []),
  ...(!contended && totals.terminatedButCommitted > 0 ? ['a terminated transaction committed'] : []),
  ...(!contended && totals.outcomeUnknown > 0 ? ['a failed transaction stored'] : [])
]
console.log(JSON.stringify({ ...totals, seconds: (Date.now() - started) / 1000, failedChecks }, null, 2))
process.exitCode = failedChecks.length === 0 ? 0 : 1
