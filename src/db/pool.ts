import postgres from 'postgres'
import { errors } from '../errors.ts'
import type { PoolStats } from '../ipc/messages.ts'

export type Sql = postgres.Sql
export type TransactionSql = postgres.TransactionSql
export type Fragment = postgres.Fragment
// What runs a statement: the pool itself (autocommitted) or a transaction.
export type Queryable = postgres.ISql

export interface PoolOptions {
  url: string
  max: number // this process's share of DB_POOL_BUDGET: never exceeded
  applicationName: string // visible in pg_stat_activity, so connections can be counted per process
  queueTimeoutMs: number
  // One bound on a unit of work, whatever it waits for: a free slot, a (re)connect, its statements. Past it the
  // caller gets 503 + Retry-After; the work itself is left to finish or fail (see `run`). Default: a minute.
  deadlineMs?: number
  // A statement stuck behind a lock must not hold a request (and a connection) forever: the server cancels it.
  statementTimeoutMs?: number
}

// postgres.js waits between reconnect attempts up to 20 s by default (3^retries / 100 s), and every query that
// arrives meanwhile waits with it: requests hung ~20 s around a PostgreSQL restart. Attempts here are at most
// 0.5 s apart, so a database that is back is used within half a second; a refused attempt costs the server nothing.
export const MAX_RECONNECT_DELAY_S = 0.5
export function reconnectDelay (retries: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, MAX_RECONNECT_DELAY_S)
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
  private readonly counters = { timeouts: 0, acquired: 0, deadlines: 0 }
  private open = 0

  constructor (private readonly options: PoolOptions) {
    this.sql = postgres(options.url, {
      max: options.max,
      idle_timeout: 30,
      connect_timeout: 5,
      backoff: reconnectDelay,
      max_lifetime: 60 * 30,
      onnotice: () => {},
      connection: {
        application_name: options.applicationName,
        ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs })
      },
      onclose: () => { this.open = Math.max(0, this.open - 1) }
    })
  }

  // The caller is answered by the deadline at the latest. Work that has not started by then never starts; work
  // under way keeps its slot until it settles (the driver bounds that: statement timeout, capped reconnects), so
  // abandoned work can never pile up in postgres.js's own unbounded queue.
  // `work` is told the deadline (ms since the epoch), for a statement that must not take effect past it.
  async run<T> (work: (sql: Sql, deadline: number) => Promise<T>, onAbandon?: () => void): Promise<T> {
    const deadline = Date.now() + (this.options.deadlineMs ?? 60_000)
    await this.acquire(deadline)
    let started: Promise<T>
    try {
      started = work(this.sql, deadline)
    } catch (error) {
      this.release()
      throw error
    }
    const running = started.finally(() => this.release())
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.counters.deadlines++
        onAbandon?.()
        running.catch(() => {}) // its outcome no longer has a reader
        reject(errors.databaseTimeout())
      }, Math.max(0, deadline - Date.now()))
    })
    try {
      return await Promise.race([running, expired])
    } finally {
      clearTimeout(timer)
    }
  }

  // A transaction whose caller gave up rolls back instead of committing: a client that got its 503 must not find the
  // booking made after all. Its statements run to their end first, and the rollback is the driver's, on the
  // transaction's own connection. Only a deadline that passes during the COMMIT's own round trip can still leave a
  // 503'd transaction committed (docs/COMPATIBILITY.md).
  // `unless`: asked again once a connection is ours, before BEGIN; a throw answers instead, with no database work
  // (a request that waited in the queue may by then be answerable from memory: a day that filled meanwhile).
  transaction<T> (work: (sql: TransactionSql) => Promise<T>, unless?: () => void): Promise<T> {
    let abandoned = false
    return this.run((sql) => {
      unless?.()
      return sql.begin(async (tx) => {
        if (abandoned) throw errors.databaseTimeout()
        const result = await work(tx)
        if (abandoned) throw errors.databaseTimeout()
        return result
      }) as Promise<T>
    }, () => { abandoned = true })
  }

  stats (): PoolStats {
    return {
      max: this.options.max,
      open: Math.min(this.open, this.options.max),
      inUse: this.inUse,
      waiting: this.queue.length,
      timeouts: this.counters.timeouts,
      acquired: this.counters.acquired,
      deadlines: this.counters.deadlines
    }
  }

  async close (timeoutSeconds = 5): Promise<void> {
    await this.sql.end({ timeout: timeoutSeconds })
  }

  private acquire (deadline: number): Promise<void> {
    if (this.inUse < this.options.max) {
      this.grant()
      return Promise.resolve()
    }
    const wait = Math.min(this.options.queueTimeoutMs, deadline - Date.now())
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => { clearTimeout(waiter.timer); this.grant(); resolve() },
        timer: setTimeout(() => {
          const index = this.queue.indexOf(waiter)
          if (index >= 0) this.queue.splice(index, 1)
          this.counters.timeouts++
          reject(errors.databaseBusy())
        }, wait)
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
