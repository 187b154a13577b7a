// What the benchmark runners share: the machine line, CPU accounting from /proc (who used the 2 shared cores during a
// phase: the load generator, the server's processes, PostgreSQL, and everyone else on the machine), the server's
// /stats, and the per-connection client addresses.
import { cpus, totalmem } from 'node:os'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { getJson, type TestServer } from '../../test/helpers/server.ts'

export const SECRET = 'dev-secret'

export function machine (): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}`
}

export function flag (args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`)
  if (index < 0) return fallback
  const value = Number(args[index + 1])
  if (!Number.isFinite(value)) throw new Error(`--${name} needs a number`)
  return value
}

// Every client of a benchmark is 127.0.0.1, and the rate limiter allows at most 32,767 requests a minute per client
// (30,000 here). The server is started with TRUST_PROXY_HOPS=1, and the load generator, playing the one trusted
// proxy, gives each of its connections its own X-Forwarded-For address, so each connection is one "phone" with its
// own counters: every request still pays its real rate-limit check, but no phase is cut short by 429s. The addresses
// are only header text from the loopback range: no traffic goes anywhere but 127.0.0.1.
export function clientAddress (conn: number): string {
  return `127.10.${(conn >> 8) & 255}.${conn & 255}`
}

export const benchServerEnv: Record<string, string> = {
  TRUST_PROXY_HOPS: '1',
  RATE_LIMIT_AUTH: '30000',
  RATE_LIMIT_BOOKING: '30000',
  RATE_LIMIT_DEFAULT: '30000'
}

const CLOCK_TICKS = 100 // USER_HZ on Linux

interface ProcInfo { pid: number, ppid: number, ticks: number, comm: string }

function readProc (pid: number): ProcInfo | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const close = text.lastIndexOf(')')
    const comm = text.slice(text.indexOf('(') + 1, close)
    const fields = text.slice(close + 2).split(' ')
    // After "pid (comm) ": state(0) ppid(1) … utime(11) stime(12)
    return { pid, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), comm }
  } catch {
    return null
  }
}

function allProcs (): ProcInfo[] {
  const list: ProcInfo[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const info = readProc(Number(name))
    if (info !== null) list.push(info)
  }
  return list
}

// A group counts its pids and, with `tree`, every descendant of them.
export interface Root { pids: number[], tree: boolean }

// CPU ticks of every process of each group, by pid.
function trees (roots: Record<string, Root>): Record<string, Map<number, number>> {
  const procs = allProcs()
  const children = new Map<number, ProcInfo[]>()
  for (const p of procs) {
    let list = children.get(p.ppid)
    if (list === undefined) children.set(p.ppid, list = [])
    list.push(p)
  }
  const byPid = new Map(procs.map((p) => [p.pid, p]))
  const result: Record<string, Map<number, number>> = {}
  for (const [name, root] of Object.entries(roots)) {
    const ticks = new Map<number, number>()
    const stack = [...root.pids]
    for (let guard = 0; stack.length > 0 && guard < 100_000; guard++) {
      const pid = stack.pop() as number
      if (ticks.has(pid)) continue
      const info = byPid.get(pid)
      if (info === undefined) continue
      ticks.set(pid, info.ticks)
      if (root.tree) for (const child of children.get(pid) ?? []) stack.push(child.pid)
    }
    result[name] = ticks
  }
  return result
}

function machineTicks (): { busy: number, total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const values = line.trim().split(/\s+/).slice(1).map(Number)
  const total = values.reduce((a, b) => a + b, 0)
  const idle = (values[3] ?? 0) + (values[4] ?? 0)
  return { busy: total - idle, total }
}

export interface CpuMeter {
  // Cores used on average since the meter started, by group; `machine_busy` is the whole machine (2 = both cores
  // busy), `others` what no group of ours accounts for: other engineers' work on the shared machine.
  stop: () => Record<string, number>
}

// Processes that started or exited during the phase (a PostgreSQL backend opened or closed by a pool) count only
// for the part of their life inside it, as far as /proc shows it: a process gone before the end is left out, so the
// groups are lower bounds and `others` an upper bound.
export function cpuMeter (roots: Record<string, Root>): CpuMeter {
  const startWall = performance.now()
  const start = trees(roots)
  const startMachine = machineTicks()
  return {
    stop: () => {
      const seconds = (performance.now() - startWall) / 1000
      const end = trees(roots)
      const endMachine = machineTicks()
      const result: Record<string, number> = {}
      let ours = 0
      for (const name of Object.keys(roots)) {
        let ticks = 0
        for (const [pid, after] of end[name] ?? new Map<number, number>()) ticks += after - (start[name]?.get(pid) ?? 0)
        const cores = ticks / CLOCK_TICKS / seconds
        result[name] = Math.round(cores * 100) / 100
        ours += cores
      }
      const machineCores = (endMachine.busy - startMachine.busy) / (endMachine.total - startMachine.total) * cpus().length
      result.machine_busy = Math.round(machineCores * 100) / 100
      result.others = Math.round(Math.max(0, machineCores - ours) * 100) / 100
      return result
    }
  }
}

export function postmasterPid (dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0])
}

export interface ServerStats {
  database: { pool: { timeouts: number, acquired: number, in_use: number, waiting: number }, budget: { total: number, per_worker: number } }
  cache: { hits: number, misses: number, size: number, hit_rate: number | string } | null
  sse: { subscribers: number, frames_sent: number, cut_off: number }
  workers: Array<{ id: number, pid: number, requests: number, errors_5xx: number, sse: { subscribers: number } }>
  memory: {
    total_rss: number
    primary: { pid: number, rss: number } | null
    coordinator: { pid: number, rss: number } | null
    workers: Array<{ id: number, pid: number, rss: number, heap_used: number }>
  }
}

export async function serverStats (server: TestServer): Promise<ServerStats> {
  const { status, body } = await getJson<ServerStats>(`${server.url}/stats`, { 'X-Forwarded-For': '127.10.255.254' })
  if (status !== 200) throw new Error(`/stats answered ${status}`)
  return body
}

export const mb = (bytes: number): number => Math.round(bytes / 2 ** 20 * 10) / 10
