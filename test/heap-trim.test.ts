import t from 'tap'
import { readFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { HeapTrimmer, loadMallocTrim } from '../workers/heap-trim.ts'

// What workers/heap-trim.ts is for, made to happen in this process: buffers freed in the middle of glibc's main heap
// stay resident after V8 collects them, and one malloc_trim gives their pages back.

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

// The resident kilobytes of glibc's main heap (the brk area, where this thread's mallocs below the mmap threshold go).
function heapKb (): number {
  const lines = readFileSync('/proc/self/smaps', 'utf8').split('\n')
  const at = lines.findIndex((line) => line.endsWith('[heap]'))
  if (at < 0) return 0
  for (let i = at + 1; i < lines.length && !/^[0-9a-f]+-/.test(lines[i] as string); i++) {
    const match = /^Rss:\s+(\d+) kB/.exec(lines[i] as string)
    if (match !== null) return Number(match[1])
  }
  return 0
}

const settle = async (): Promise<void> => {
  // The collection frees the buffers' backing stores, partly on V8's background threads: a moment for those.
  gc()
  await new Promise((resolve) => setTimeout(resolve, 200))
  gc()
}

t.test('glibc keeps freed buffers resident until malloc_trim gives them back', async (t) => {
  const trim = loadMallocTrim()
  t.type(trim, 'function', `malloc_trim binds on this machine (${typeof trim === 'string' ? trim : 'koffi, libc.so.6'})`)
  if (typeof trim === 'string') return

  // 3,000 filled buffers of 30 KB (~90 MB, below glibc's mmap threshold, so in the heap); every 16th stays alive, so
  // the freed ones sit between live ones and none of them is the heap's top.
  const COUNT = 3000
  let buffers: Buffer[] = Array.from({ length: COUNT }, (_, i) => Buffer.alloc(30_000, i % 251))
  const grown = heapKb()
  t.ok(grown > 60_000, `the buffers are in the heap (${grown} kB resident)`)
  buffers = buffers.filter((_, i) => i % 16 === 0)
  await settle()
  const freed = heapKb()
  t.ok(freed > grown - 20_000, `collected, ~84 MB of them freed, and the heap is still resident (${grown} → ${freed} kB)`)

  const trimmer = new HeapTrimmer(trim)
  trimmer.run()
  const trimmed = heapKb()
  t.ok(trimmed < freed - 50_000, `one malloc_trim gives the freed pages back (${freed} → ${trimmed} kB)`)
  t.equal(trimmer.stats.trims, 1, 'the call is counted')
  t.ok(trimmer.stats.seconds > 0, `its time is counted (${(trimmer.stats.seconds * 1000).toFixed(2)} ms)`)
  t.ok(trimmer.stats.released > 40_000_000, `and what RSS it gave back (${trimmer.stats.released} bytes)`)
  t.equal(buffers.filter((b, i) => b[29_999] === (i * 16) % 251).length, buffers.length, 'the live buffers are intact')
})

t.test('MALLOC_TRIM_SECONDS=0: no trimming at all', async (t) => {
  const off = HeapTrimmer.start(0)
  t.equal(off.enabled, false)
  off.run()
  t.same(off.stats, { trims: 0, seconds: 0, released: 0 }, 'a call does nothing')
  off.stop()
})

t.test('a trimmer on a timer calls malloc_trim each period and stops when told', async (t) => {
  const on = HeapTrimmer.start(1)
  t.equal(on.enabled, true)
  // The timer is unref'd, so this wait is what keeps the process alive meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 2500))
  on.stop()
  const calls = on.stats.trims
  t.ok(calls >= 1, `called on its timer (${calls} times in 2.5 s)`)
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(on.stats.trims, calls, 'no call after stop()')
})
