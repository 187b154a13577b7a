import { createRequire } from 'node:module'
import type * as Koffi from 'koffi'
import { log } from '../src/log.ts'

// A worker's native memory comes back to the system only as far as glibc's malloc gives it back, and glibc gives
// back on its own only the top of its main heap. A worker frees plenty: request and answer buffers, gzip bodies,
// SSE payloads replaced by newer ones, each once V8 collects the object that held it. A burst of them (a rush, the
// new day after midnight, a slow client's backlog) raises the heap, and what is freed below a chunk still in use
// stays mapped and counted in RSS. Issue 16's soak R saw one worker's [heap] go 69 → 96 MB within 20 s and stay
// there; calling malloc_trim(0) in the workers from a debugger gave ~37 MB back in each (docs/BENCHMARKS.md,
// "Soaks P, Q and R").
//
// malloc_trim(0) walks every arena's free chunks and hands their whole pages back (madvise), wherever they lie. With
// MALLOC_TRIM_SECONDS set, each worker calls it that often, through koffi (a kept FFI library: Node has no binding
// of its own). Not jemalloc, which the coordinator runs on (src/supervisor.ts): with it the workers' RSS did not
// hold flat either (soaks I and N), and it changes every allocation the request path makes.
//
// Off by default, as measured (docs/BENCHMARKS.md, "Soaks S, T and U"): every 30 s it kept each worker's RSS 15-35
// MB lower, at ~2.7 ms a call, but it also takes away the free space that absorbed the day's growing data, so RSS
// then follows that data and its growth after the warm-up came out larger (+9 to +16 %, against +1 to +2 % in the
// soak without it). For an instance short of memory it is worth turning on; the growth goal is not what it buys.
//
// The call runs on the event loop, synchronously: it holds each arena's lock while it walks it, so running it on
// another thread would stall the loop's own allocations all the same. Its time and what it gave back are counted in
// /metrics (tabeby_malloc_trim_*). Where it cannot run (no glibc, as on Alpine's musl; koffi without a build for the
// platform) the worker says so once and goes on without it.

export interface TrimStats {
  trims: number
  seconds: number // total time spent in malloc_trim
  released: number // RSS before minus after, summed over the calls that lowered it
}

type Trim = (pad: number) => number

export function loadMallocTrim (): Trim | string {
  try {
    const require = createRequire(import.meta.url)
    const koffi = require('koffi') as typeof Koffi
    const libc = koffi.load('libc.so.6')
    return libc.func('int malloc_trim(size_t pad)') as Trim
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

export class HeapTrimmer {
  readonly stats: TrimStats = { trims: 0, seconds: 0, released: 0 }
  private timer: NodeJS.Timeout | null = null

  constructor (private readonly trim: Trim | null) {}

  // Every `seconds` (0: never), off the process's liveness: the timer does not keep a draining worker alive.
  static start (seconds: number): HeapTrimmer {
    if (seconds === 0) return new HeapTrimmer(null)
    const loaded = loadMallocTrim()
    if (typeof loaded === 'string') {
      log.warn('malloc_trim is not available: freed native memory stays with the process', { cause: loaded })
      return new HeapTrimmer(null)
    }
    const trimmer = new HeapTrimmer(loaded)
    trimmer.timer = setInterval(() => trimmer.run(), seconds * 1000)
    trimmer.timer.unref()
    return trimmer
  }

  get enabled (): boolean {
    return this.trim !== null
  }

  run (): void {
    if (this.trim === null) return
    const before = process.memoryUsage.rss()
    const started = performance.now()
    this.trim(0)
    this.stats.seconds += (performance.now() - started) / 1000
    this.stats.trims++
    this.stats.released += Math.max(0, before - process.memoryUsage.rss())
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }
}
