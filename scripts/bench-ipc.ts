// IPC benchmark: a real coordinator process (coordinator/coordinator.ts, forked as the primary forks it) and this
// process as one worker's client. Measures the round trip of a small call one at a time, the throughput of calls
// batched in one turn, and the latency a call sees when a worker makes 10,000 calls/s.
//
//   npx tsx scripts/bench-ipc.ts [--seconds 3] [--rate 10000]
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { tmpdir, cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { childVariables, loadConfig } from '../src/config.ts'
import { CHILD_ENV } from '../src/children.ts'
import { CoordinatorClient } from '../workers/coordinator-client.ts'
import type { OpName, Ops } from '../src/ipc/messages.ts'

const args = process.argv.slice(2)
const flag = (name: string, fallback: number): number => {
  const index = args.indexOf(`--${name}`)
  return index >= 0 ? Number(args[index + 1]) : fallback
}
const seconds = flag('seconds', 3)
const rate = flag('rate', 10_000)

const root = fileURLToPath(new URL('..', import.meta.url))
const socketPath = join(tmpdir(), `tabeby-bench-${randomBytes(4).toString('hex')}.sock`)
const config = loadConfig({ DATABASE_URL: 'postgres://unused@127.0.0.1/none', WEB_CONCURRENCY: '1' })
const coordinator = fork(join(root, 'coordinator/coordinator.ts'), [], {
  execArgv: ['--import', 'tsx'],
  env: {
    ...process.env,
    ...childVariables(config),
    LOG_LEVEL: 'error', // no database here: the coordinator's LISTEN retries are expected noise
    [CHILD_ENV.socketPath]: socketPath,
    [CHILD_ENV.dbShare]: '1',
    [CHILD_ENV.instance]: 'bench',
    [CHILD_ENV.role]: 'coordinator'
  }
})
await new Promise<void>((resolve) => coordinator.on('message', (m: { type: string }) => { if (m.type === 'ready') resolve() }))

const client = new CoordinatorClient({ socketPath, timeoutMs: 1000 })
client.connect()
while (!client.connected) await sleep(10)

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN
}
function summary (micros: number[]): Record<string, number> {
  const sorted = [...micros].sort((a, b) => a - b)
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  return { calls: sorted.length, mean_us: +mean.toFixed(1), p50_us: +percentile(sorted, 0.5).toFixed(1), p99_us: +percentile(sorted, 0.99).toFixed(1) }
}

// The call a worker makes for every limited request: a real rate-limit check against the coordinator's counters
// (a key, a limit; a reply of four fields), over 1,000 client keys.
const op: OpName = 'limit.hit'
let callNumber = 0
const nextRequest = (): Ops['limit.hit']['req'] => ({ key: `default|ip:10.0.${(callNumber++ % 1000) >> 8}.${callNumber % 256}`, limit: 30_000 })

async function timedCall (): Promise<number> {
  const started = process.hrtime.bigint()
  await client.call(op, nextRequest())
  return Number(process.hrtime.bigint() - started) / 1000
}

// Warm-up: JIT, shared msgpack structures.
for (let i = 0; i < 5000; i++) await timedCall()

// 1. One call at a time.
const sequential: number[] = []
const sequentialStart = performance.now()
for (let i = 0; i < 20_000; i++) sequential.push(await timedCall())
const sequentialSeconds = (performance.now() - sequentialStart) / 1000

// 2. Batched: 1000 calls made in one turn leave in one write.
const batchStart = performance.now()
let batched = 0
while (performance.now() - batchStart < seconds * 1000) {
  await Promise.all(Array.from({ length: 1000 }, () => client.call(op, nextRequest())))
  batched += 1000
}
const batchedPerSecond = batched / ((performance.now() - batchStart) / 1000)

// 3. Paced: `rate` calls per second, as a busy worker makes them; latency per call.
const paced: number[] = []
const interval = 1e9 / rate
const pacedStart = process.hrtime.bigint()
let issued = 0
const total = rate * seconds
const inflight: Array<Promise<void>> = []
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const elapsed = Number(process.hrtime.bigint() - pacedStart)
    const due = Math.min(total, Math.floor(elapsed / interval) + 1)
    while (issued < due) {
      issued++
      inflight.push(timedCall().then((us) => { paced.push(us) }))
    }
    if (issued >= total) {
      clearInterval(timer)
      resolve()
    }
  }
  // A millisecond clock, as request arrivals drive a worker: each tick makes the calls that fell due since the last.
  const timer = setInterval(tick, 1)
})
await Promise.all(inflight)
const pacedSeconds = Number(process.hrtime.bigint() - pacedStart) / 1e9

const result = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  op,
  sequential: { ...summary(sequential), calls_per_second: Math.round(sequential.length / sequentialSeconds) },
  batched: { calls_per_second: Math.round(batchedPerSecond), batch: 1000 },
  paced: { target_per_second: rate, achieved_per_second: Math.round(paced.length / pacedSeconds), ...summary(paced) },
  timeouts: client.counters.timeouts
}
console.log(JSON.stringify(result, null, 2))

client.close()
coordinator.send({ type: 'shutdown' })
