import { Piscina } from 'piscina'
import { errors } from '../../src/errors.ts'
import { sibling } from '../../src/paths.ts'
import type { AllClinicsReport } from '../../src/payments/report.ts'

// CPU work off the event loop (architecture.md §8): password hashing, large reports. One small pool per worker
// process; threads start on demand and leave when idle, so an idle worker holds none.

export type Task =
  | { kind: 'hashPassword', password: string }
  | { kind: 'verifyPassword', password: string, encoded: string }
  // The golden payments ledger as COPY bytes (src/payments/ledger.ts), moved to the thread, not copied.
  | { kind: 'paymentsReport', ledger: Uint8Array, clinicNames: Array<[number, string]> }

export type TaskResult =
  | { kind: 'hashPassword', encoded: string }
  | { kind: 'verifyPassword', ok: boolean }
  | { kind: 'paymentsReport', report: AllClinicsReport }

const MAX_QUEUE = 256

type ResultOf<K extends Task['kind']> = Extract<TaskResult, { kind: K }>

export class CpuPool {
  private readonly piscina: Piscina

  constructor (threads = 1) {
    this.piscina = new Piscina({
      filename: sibling(import.meta.url, './tasks.ts').href,
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: 30_000,
      // The event loop answers requests; a hash only has to finish. At a lower priority the hashing threads take
      // whatever CPU the loops leave, so a burst of logins does not show up as latency on every other route.
      niceIncrement: 10,
      // A burst beyond this is refused (503 + Retry-After, checked in run) rather than queued without bound.
      maxQueue: MAX_QUEUE
    })
  }

  // `transfer` lists buffers inside the task that move to the thread instead of being cloned; they are unusable
  // here afterwards.
  async run<T extends Task> (task: T, transfer: ArrayBuffer[] = []): Promise<ResultOf<T['kind']>> {
    if (this.piscina.queueSize >= MAX_QUEUE) throw errors.cpuBusy()
    return await this.piscina.run(task, { transferList: transfer }) as ResultOf<T['kind']>
  }

  stats (): { threads: number, queued: number, completed: number } {
    return { threads: this.piscina.threads.length, queued: this.piscina.queueSize, completed: this.piscina.completed }
  }

  async close (): Promise<void> {
    await this.piscina.destroy()
  }
}
