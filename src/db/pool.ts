import postgres from 'postgres'
import { errors } from '../errors.ts'
import type { PoolStats } from '../ipc/messages.ts'

export type Sql = postgres.Sql
export type TransactionSql = postgres.TransactionSql

export interface PoolOptions {
  url: string
  max: number // this process's share of DB_POOL_BUDGET: never exceeded
  applicationName: string // visible in pg_stat_activity, so connections can be counted per process
  queueTimeoutMs: number
  // A statement stuck behind a lock must not hold a request (and a connection) forever: the server cancels it.
  statementTimeoutMs?: number
}

interface Waiter {
  grant: () => void
  timer: NodeJS.Timeout
}

// postgres.js queues work without bound when every connection is busy. We gate each unit of work (a query or a
// transaction, which holds one connection) with a FIFO of `max` permits and a deadline, so a saturated pool
// answers 503 + Retry-After after a bounded wait instead of holding sockets open until the client gives up.
export class Database {
  readonly sql: Sql
  private inUse = 0
  private readonly queue: Waiter[] = []
  private readonly counters = { timeouts: 0, acquired: 0 }
  private open = 0

  constructor (private readonly options: PoolOptions) {
    this.sql = postgres(options.url, {
      max: options.max,
      idle_timeout: 30,
      connect_timeout: 5,
      max_lifetime: 60 * 30,
      onnotice: () => {},
      connection: {
        application_name: options.applicationName,
        ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs })
      },
      onclose: () => { this.open = Math.max(0, this.open - 1) }
    })
  }

  async run<T> (work: (sql: Sql) => Promise<T>): Promise<T> {
    await this.acquire()
    try {
      return await work(this.sql)
    } finally {
      this.release()
    }
  }

  transaction<T> (work: (sql: TransactionSql) => Promise<T>): Promise<T> {
    return this.run((sql) => sql.begin((tx) => work(tx)) as Promise<T>)
  }

  stats (): PoolStats {
    return {
      max: this.options.max,
      open: Math.min(this.open, this.options.max),
      inUse: this.inUse,
      waiting: this.queue.length,
      timeouts: this.counters.timeouts,
      acquired: this.counters.acquired
    }
  }

  async close (timeoutSeconds = 5): Promise<void> {
    await this.sql.end({ timeout: timeoutSeconds })
  }

  private acquire (): Promise<void> {
    if (this.inUse < this.options.max) {
      this.grant()
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => { clearTimeout(waiter.timer); this.grant(); resolve() },
        timer: setTimeout(() => {
          const index = this.queue.indexOf(waiter)
          if (index >= 0) this.queue.splice(index, 1)
          this.counters.timeouts++
          reject(errors.databaseBusy())
        }, this.options.queueTimeoutMs)
      }
      this.queue.push(waiter)
    })
  }

  private grant (): void {
    this.inUse++
    this.counters.acquired++
    // postgres.js opens connections lazily, one per concurrent unit of work, up to max.
    if (this.inUse > this.open) this.open = this.inUse
  }

  private release (): void {
    this.inUse--
    const next = this.queue.shift()
    if (next !== undefined) next.grant()
  }
}

// How DB_POOL_BUDGET is divided (architecture.md §6). The coordinator keeps 2: one for LISTEN (postgres.js holds
// it outside its pool) and one for its jobs (nightly archive, stats). The primary's migration connection is
// closed before any child starts, so it never counts against the running budget.
export const COORDINATOR_CONNECTIONS = 2

export function budgetShares (budget: number, workers: number): { coordinator: number, perWorker: number } {
  const perWorker = Math.floor((budget - COORDINATOR_CONNECTIONS) / workers)
  if (perWorker < 1) throw new Error(`DB_POOL_BUDGET ${budget} leaves no connection for ${workers} workers`)
  return { coordinator: COORDINATOR_CONNECTIONS, perWorker }
}
