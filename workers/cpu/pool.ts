import { Piscina } from 'piscina'

// CPU work off the event loop (architecture.md §8): password hashing, large reports. One small pool per worker
// process; threads start on demand and leave when idle, so an idle worker holds none.

export type Task =
  | { kind: 'echo', value: string }

export type TaskResult =
  | { kind: 'echo', value: string }

type ResultOf<K extends Task['kind']> = Extract<TaskResult, { kind: K }>

export class CpuPool {
  private readonly piscina: Piscina

  constructor (threads = 1) {
    this.piscina = new Piscina({
      filename: new URL('./tasks.ts', import.meta.url).href,
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: 30_000,
      // A burst beyond this is refused rather than queued without bound.
      maxQueue: 256
    })
  }

  async run<T extends Task> (task: T): Promise<ResultOf<T['kind']>> {
    return await this.piscina.run(task) as ResultOf<T['kind']>
  }

  stats (): { threads: number, queued: number, completed: number } {
    return { threads: this.piscina.threads.length, queued: this.piscina.queueSize, completed: this.piscina.completed }
  }

  async close (): Promise<void> {
    await this.piscina.destroy()
  }
}
