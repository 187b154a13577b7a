// What V8's heap flags do to a process that keeps a live set while promoting garbage, as the coordinator and the
// workers do under load (src/supervisor.ts, HEAP_GROWING_PERCENT): the highest heap used, the full collections and
// the CPU time, per flag set, each in its own process, the sets alternated.
// Run: npx tsx scripts/bench-heap-growing.ts [--seconds 8] [--rounds 2]
import { execFile } from 'node:child_process'
import { PerformanceObserver, constants, type NodeGCPerformanceDetail } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'

const VARIANTS: Array<{ name: string, flags: string[] }> = [
  { name: "V8's defaults", flags: [] },
  { name: '--max-old-space-size=512', flags: ['--max-old-space-size=512'] },
  { name: '--heap-growing-percent=40', flags: ['--heap-growing-percent=40'] },
  { name: '--max-semi-space-size=1', flags: ['--max-semi-space-size=1'] },
  { name: '--max-semi-space-size=1 --heap-growing-percent=40', flags: ['--max-semi-space-size=1', '--heap-growing-percent=40'] }
]

interface Outcome { peakMb: number, fullGcs: number, cpuMs: number }

// The child: 200,000 objects that stay (a cache's entries, the subscribers), and batches of objects that live long
// enough to survive the young generation and then die (requests waiting on the database, IPC messages).
async function child (seconds: number): Promise<void> {
  const live: Array<{ a: number, b: string, c: number[] }> = []
  for (let i = 0; i < 200_000; i++) live.push({ a: i, b: `x${i}`, c: [i, i] })
  let fullGcs = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as unknown as { detail?: NodeGCPerformanceDetail }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) fullGcs++
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  let peak = 0
  let batch: Array<{ a: number, b: string, c: number[] }> = []
  const until = Date.now() + seconds * 1000
  while (Date.now() < until) {
    // Slices of 20 ms, then a turn of the event loop, where the observer hears of the collections.
    const slice = Date.now() + 20
    while (Date.now() < slice) {
      for (let i = 0; i < 1000; i++) batch.push({ a: i, b: `y${i}`, c: new Array<number>(10).fill(i) })
      if (batch.length > 50_000) batch = []
      peak = Math.max(peak, process.memoryUsage().heapUsed)
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  const cpu = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  const outcome: Outcome = { peakMb: Math.round(peak / 1048576), fullGcs, cpuMs: Math.round((cpu.user + cpu.system) / 1000) }
  process.stdout.write(JSON.stringify({ outcome, live: live.length }))
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, rounds: { type: 'string', default: '2' }, child: { type: 'boolean', default: false } } })
  const seconds = Number(values.seconds)
  if (values.child) return await child(seconds)
  const run = promisify(execFile)
  const self = fileURLToPath(import.meta.url)
  const results = new Map<string, Outcome[]>()
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const variant of VARIANTS) {
      const { stdout } = await run(process.execPath, [...process.execArgv, ...variant.flags, self, '--child', '--seconds', String(seconds)])
      const { outcome } = JSON.parse(stdout) as { outcome: Outcome }
      results.set(variant.name, [...(results.get(variant.name) ?? []), outcome])
    }
  }
  console.log(`${'flags'.padEnd(52)}${'peak heap used MB'.padEnd(20)}${'full GCs'.padEnd(12)}CPU ms (${seconds} s each)`)
  for (const [name, outcomes] of results) {
    const list = (pick: (o: Outcome) => number): string => outcomes.map(pick).join(', ')
    console.log(`${name.padEnd(52)}${list((o) => o.peakMb).padEnd(20)}${list((o) => o.fullGcs).padEnd(12)}${list((o) => o.cpuMs)}`)
  }
}

await main()
