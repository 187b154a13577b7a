// The server's processes, once a second, from /proc (no request to the server, so sampling adds nothing to its
// load): resident memory, CPU, open files of the primary, the coordinator, each worker and PostgreSQL (the
// postmaster and its backends as one), and the database connections the server holds (pg_stat_activity, our own
// connection left out).
import { readdirSync, readFileSync } from 'node:fs'
import type postgres from 'postgres'

export interface ProcessSample { rssMb: number, cpu: number, fds: number }
export interface Sample {
  at: number // seconds since the load started
  processes: Record<string, ProcessSample>
  dbConnections: number
  loadAverage: number
}

const TICKS = 100 // USER_HZ

function stat (pid: number): { ticks: number, ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { ticks: Number(fields[11]) + Number(fields[12]), ppid: Number(fields[1]) }
  } catch {
    return null
  }
}

function rssMb (pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
    return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024 * 10) / 10
  } catch {
    return 0
  }
}

// PostgreSQL's backends map the same shared buffers: their RSS would count those once per backend. The proportional
// share (Pss) adds up to what the server really holds.
function pssMb (pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n').find((l) => l.startsWith('Pss:'))
    return Number(line?.split(/\s+/)[1] ?? 0) / 1024
  } catch {
    return 0
  }
}

function fdCount (pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return 0
  }
}

function childrenOf (pid: number): number[] {
  const list: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    if (stat(Number(name))?.ppid === pid) list.push(Number(name))
  }
  return list
}

export class Sampler {
  private readonly last = new Map<string, { ticks: number, at: number }>()

  // `groups`: a name per process (primary, coordinator, worker 1 …); `postgres` is the postmaster, counted with its
  // backends.
  constructor (private readonly groups: Record<string, number>, private readonly postmaster: number | null,
    private readonly sql: postgres.Sql | null, private readonly started: number) {}

  async sample (): Promise<Sample> {
    const now = performance.now()
    const processes: Record<string, ProcessSample> = {}
    const measure = (name: string, pids: number[], memory: (pid: number) => number = rssMb): void => {
      let ticks = 0
      let rss = 0
      let fds = 0
      for (const pid of pids) {
        ticks += stat(pid)?.ticks ?? 0
        rss += memory(pid)
        fds += fdCount(pid)
      }
      const before = this.last.get(name)
      const cpu = before === undefined ? 0 : (ticks - before.ticks) / TICKS / ((now - before.at) / 1000)
      this.last.set(name, { ticks, at: now })
      processes[name] = { rssMb: Math.round(rss * 10) / 10, cpu: Math.round(Math.max(0, cpu) * 100) / 100, fds }
    }
    for (const [name, pid] of Object.entries(this.groups)) measure(name, [pid])
    // Backends come and go: their ticks are counted while they live, so PostgreSQL's CPU is a lower bound.
    if (this.postmaster !== null) measure('postgres', [this.postmaster, ...childrenOf(this.postmaster)], pssMb)
    let dbConnections = 0
    if (this.sql !== null) {
      const [row] = await this.sql<Array<{ n: string }>>`
        SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
          AND application_name LIKE 'tabeby%'`
      dbConnections = Number(row?.n ?? 0)
    }
    const loadAverage = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
    return { at: Math.round((now - this.started) / 100) / 10, processes, dbConnections, loadAverage }
  }
}
