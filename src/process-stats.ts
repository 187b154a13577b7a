import { readFileSync } from 'node:fs'
import type { ProcessStats } from './ipc/messages.ts'

export function processStats (startedAt: number): ProcessStats {
  const memory = process.memoryUsage()
  return { pid: process.pid, startedAt, rss: memory.rss, heapUsed: memory.heapUsed }
}

// RSS of another process (the primary, seen from its coordinator), read from /proc; null where there is no /proc.
export function rssOf (pid: number): number | null {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1])
    return Number.isFinite(pages) ? pages * 4096 : null
  } catch {
    return null
  }
}
