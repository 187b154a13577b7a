import { fork, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { log } from './log.ts'
import { CHILD_ENV, type ChildMessage, type ParentMessage } from './children.ts'
import { sibling } from './paths.ts'

// Starts the coordinator and the workers, restarts whichever dies, and drains them on shutdown.

// In the primary's own form: compiled children under a compiled primary (plain `node`, no loader), TypeScript
// under tsx in development, which passes its loader down through execArgv.
const entry = {
  coordinator: sibling(import.meta.url, '../coordinator/coordinator.ts'),
  worker: sibling(import.meta.url, '../workers/worker.ts')
}

type Role = keyof typeof entry

// The coordinator's work is moving buffers: socket reads, IPC batches, cached bodies. Their memory is returned only
// when the JavaScript objects holding them are collected, and V8 paces its young-generation collections by the
// JavaScript it allocates, which in the coordinator is little: with the default 16 MB semi-space it collected about
// every half minute while up to 18 MB of dead buffers piled up in the C heap, and as the cached bodies grew with the
// day's bookings each pile was larger and left more holes behind (issue 16's soak: RSS +1.2 MB a minute with a flat
// JS heap). With a 1 MB semi-space, in the same 10-minute run at 10,000 users: buffers at most 8 MB, live ones
// included, the C heap a fifth free instead of half, RSS 27 MB lower and growing more slowly, at the same CPU
// (docs/BENCHMARKS.md, "The coordinator's native memory").
// Workers keep V8's default young generation: their young objects are requests, and what collecting those more
// often costs them in latency was not measured.
const COORDINATOR_V8_FLAGS = ['--max-semi-space-size=1']

// V8 collects the old generation when it has grown by a factor of what survived the last full collection, and it
// picks that factor by the heap's limit, which it sets from the machine's memory: on this project's 24 GB machines
// (a 4 GB limit) it may go up to 4. In the 10,000-user soaks that let a worker's heap used burst to 91-98 MB,
// whose pages glibc then kept (soak W: one burst, +17 MB of [heap] for good, was a worker's whole +10.4 % RSS growth),
// and the coordinator, whose 1 MB young generation promotes short-lived buffers and messages, ramp ~50 MB before each
// full collection (soak Z). A fixed factor (HEAP_GROWING_PERCENT, 40 by default: 1.4) bounds both without a heap
// limit a process could die of: in soaks Z2 and Z3 heap used stayed ≤ 64 MB and every process grew < 10 % after the
// warm-up, at the same CPU (docs/BENCHMARKS.md, "Soaks Z, Z2 and Z3"; scripts/bench-heap-growing.ts). Both roles get
// it; a flag here wins over one in NODE_OPTIONS.
export function execArgvFor (role: Role, heapGrowingPercent: number | null, parent: readonly string[] = process.execArgv): string[] {
  const heap = heapGrowingPercent === null ? [] : [`--heap-growing-percent=${heapGrowingPercent}`]
  return role === 'coordinator' ? [...parent, ...COORDINATOR_V8_FLAGS, ...heap] : [...parent, ...heap]
}

// Even collected promptly, a burst of dead buffers leaves glibc's main heap at its high-water mark for good: the
// probed soak saw the new day's work after midnight (~35 MB of buffers in 45 s, all collected 15 s later) raise the
// coordinator's [heap] mapping 23 → 57 MB, where it stayed, since glibc gives back only the heap's top. A 64 KB mmap
// threshold did not change that (the same step, 20 → 58 MB). jemalloc returns the pages of freed memory wherever they
// lie, a few seconds after (its decay), so where Debian's libjemalloc2 is installed (redis-tools depends on it) the
// coordinator runs on it. Without it, or with the operator's own LD_PRELOAD, nothing changes.
const JEMALLOC = ['x86_64-linux-gnu', 'aarch64-linux-gnu'].map((triplet) => `/usr/lib/${triplet}/libjemalloc.so.2`)

export function coordinatorAllocator (paths: readonly string[] = JEMALLOC): string | null {
  return paths.find((path) => existsSync(path)) ?? null
}

function envFor (role: Role, env: NodeJS.ProcessEnv, allocator: string | null): NodeJS.ProcessEnv {
  return role === 'coordinator' && allocator !== null && env.LD_PRELOAD === undefined ? { ...env, LD_PRELOAD: allocator } : env
}

interface Slot {
  role: Role
  id: number // 0 for the coordinator, 1..N for workers
  child: ChildProcess | null
  startedAt: number
  failures: number // consecutive short-lived runs, for the back-off
  ready: boolean
  fatal: string | null // what the child said it died of, if it said
  restarts: number // starts after the first, each one after a crash
}

// A child that lived less than this was crashing, not serving: each such exit doubles the wait before the next
// start, from 100 ms up to 30 s, so a crash loop costs a few processes a minute instead of a spinning CPU.
const HEALTHY_RUN_MS = 10_000
const FIRST_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 30_000

export interface SupervisorOptions {
  workers: number
  heapGrowingPercent: number | null // null: V8 chooses
  env: NodeJS.ProcessEnv
  shutdownTimeoutMs: number
  onAllReady: () => void
}

export class Supervisor {
  private readonly slots: Slot[] = []
  private stopping = false
  private announced = false
  private readonly allocator = coordinatorAllocator()

  constructor (private readonly options: SupervisorOptions) {
    this.slots.push({ role: 'coordinator', id: 0, child: null, startedAt: 0, failures: 0, ready: false, fatal: null, restarts: 0 })
    for (let id = 1; id <= options.workers; id++) {
      this.slots.push({ role: 'worker', id, child: null, startedAt: 0, failures: 0, ready: false, fatal: null, restarts: 0 })
    }
  }

  start (): void {
    log.info('coordinator memory allocator', { preload: envFor('coordinator', this.options.env, this.allocator).LD_PRELOAD ?? 'none: glibc malloc (no libjemalloc2 found)' })
    for (const slot of this.slots) this.spawn(slot)
  }

  pids (): { coordinator: number | null, workers: Array<number | null> } {
    const pid = (slot: Slot): number | null => slot.child?.pid ?? null
    return { coordinator: pid(this.slots[0] as Slot), workers: this.slots.slice(1).map(pid) }
  }

  // Workers first, so they finish their in-flight requests while the coordinator still answers them; then the
  // coordinator. Whatever has not left by the deadline is killed.
  async shutdown (): Promise<void> {
    this.stopping = true
    const workers = this.slots.filter((slot) => slot.role === 'worker')
    await Promise.all(workers.map((slot) => this.stop(slot, this.options.shutdownTimeoutMs)))
    await this.stop(this.slots[0] as Slot, 2000)
  }

  private spawn (slot: Slot): void {
    const child = fork(entry[slot.role], [], {
      env: { ...envFor(slot.role, this.options.env, this.allocator), [CHILD_ENV.role]: slot.role, [CHILD_ENV.workerId]: String(slot.id), [CHILD_ENV.restarts]: String(slot.restarts) },
      execArgv: execArgvFor(slot.role, this.options.heapGrowingPercent),
      stdio: 'inherit'
    })
    slot.child = child
    slot.startedAt = Date.now()
    slot.ready = false
    slot.fatal = null
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'fatal') {
        slot.fatal = message.error
        return
      }
      if (message.type !== 'ready') return
      slot.ready = true
      if (!this.announced && this.slots.every((s) => s.ready)) {
        this.announced = true
        this.options.onAllReady()
      }
    })
    child.on('exit', (code, signal) => {
      if (slot.child !== child) return
      slot.child = null
      if (this.stopping) return
      const lived = Date.now() - slot.startedAt
      slot.failures = lived >= HEALTHY_RUN_MS ? 0 : slot.failures + 1
      const delay = slot.failures === 0 ? 0 : Math.min(FIRST_BACKOFF_MS * 2 ** (slot.failures - 1), MAX_BACKOFF_MS)
      // Children leave on their own only when told to: any exit here is a crash, and a crash is never routine (every
      // request and SSE stream it held was cut). It is logged as an error, with the cause when the child gave one.
      log.error(`${slot.role} exited, restarting`, { id: slot.id, childPid: child.pid, code, signal, cause: slot.fatal, livedMs: lived, restartInMs: delay, failures: slot.failures })
      setTimeout(() => {
        if (this.stopping) return
        slot.restarts++
        this.spawn(slot)
      }, delay)
    })
  }

  private stop (slot: Slot, timeoutMs: number): Promise<void> {
    const child = slot.child
    if (child === null || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        log.warn(`${slot.role} did not drain in time, killing it`, { id: slot.id, childPid: child.pid })
        child.kill('SIGKILL')
      }, timeoutMs)
      child.once('exit', () => { clearTimeout(timer); resolve() })
      const message: ParentMessage = { type: 'shutdown' }
      if (child.connected) child.send(message)
      else child.kill('SIGTERM')
    })
  }
}
