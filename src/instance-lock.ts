import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// What one running server owns on this machine, claimed by the primary before it starts anything: its DATA_DIR,
// where the embedded PostgreSQL lives. A second server on a live DATA_DIR used to take the first one's database
// away from it (it stopped the "orphaned" postmaster), leaving the first answering 503 forever. And its PORT: the
// workers listen with SO_REUSEPORT (so the kernel spreads connections among them), which also let a second,
// unrelated server bind the same port and take half of the first one's traffic.
//
// The lock is a file created with O_EXCL holding the owner's pid and its start time: a lock whose owner is gone
// (killed with SIGKILL, the machine rebooted) is stale and taken over; one whose pid now names another process is
// recognised by the start time. Node has no flock(2), and an O_EXCL file also works on every filesystem.

const LOCK_FILE = 'tabeby.lock'
// A takeover interrupted by a crash leaves its marker; past this age it is itself stale.
const TAKEOVER_STALE_MS = 10_000

export interface InstanceClaim {
  dataDir: string | null // null: no data directory in use (DATABASE_URL is set)
  port?: { host: string, port: number } // PORT=0 (an ephemeral port per worker) claims nothing
}

export interface InstanceLock {
  release: () => void
}

export class InstanceInUse extends Error {
  // pid null: something else listens there, and which process it is cannot be told.
  constructor (readonly resource: string, readonly pid: number | null) {
    super(pid === null ? `${resource} is in use by another process` : `${resource} is in use by pid ${pid}`)
    this.name = 'InstanceInUse'
  }
}

interface Owner {
  pid: number
  started: string | null // /proc start time in clock ticks since boot; null where /proc is absent
}

function startTimeOf (pid: number): string | null {
  try {
    // Field 22 of /proc/<pid>/stat, counted after the command name (which may contain spaces) closes with ')'.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')
    return fields?.[19] ?? null
  } catch {
    return null
  }
}

function alive (owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as { code?: string }).code !== 'EPERM') return false
  }
  return owner.started === null || startTimeOf(owner.pid) === owner.started
}

function readOwner (path: string): Owner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<Owner>
    return typeof owner.pid === 'number' ? { pid: owner.pid, started: owner.started ?? null } : null
  } catch {
    return null // unreadable or half-written: treated as stale
  }
}

function create (path: string, owner: Owner): boolean {
  let fd: number
  try {
    fd = openSync(path, 'wx', 0o644)
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') return false
    throw error
  }
  try {
    writeSync(fd, JSON.stringify(owner))
  } finally {
    closeSync(fd)
  }
  return true
}

function removeIfOld (path: string, ageMs: number): void {
  try {
    if (Date.now() - statSync(path).mtimeMs > ageMs) unlinkSync(path)
  } catch {}
}

function lockFile (path: string, resource: string): () => void {
  const takeover = `${path}.takeover`
  const me: Owner = { pid: process.pid, started: startTimeOf(process.pid) }
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(path, me)) {
      return () => {
        // Only our own lock: a release after a takeover by someone else must not remove theirs.
        if (readOwner(path)?.pid === process.pid) unlinkSync(path)
      }
    }
    const owner = readOwner(path)
    if (owner !== null && owner.pid !== process.pid && alive(owner)) throw new InstanceInUse(resource, owner.pid)
    // Stale. Two servers starting at once may both see it: only the one that creates the takeover marker removes
    // the stale lock, so neither can delete the lock the other has just written.
    removeIfOld(takeover, TAKEOVER_STALE_MS)
    if (create(takeover, me)) {
      try {
        if (readOwner(path)?.pid === owner?.pid) unlinkSync(path)
      } catch {} finally {
        unlinkSync(takeover)
      }
    }
  }
  throw new Error(`could not lock ${resource}: the lock file ${path} keeps changing`)
}

function lockDataDir (dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  return lockFile(join(dataDir, LOCK_FILE), `DATA_DIR ${dataDir}`)
}

// Two checks, because each misses what the other sees. The lock file (one per port, in the temporary directory)
// closes the race of two servers started at the same moment, both finding the port free, and names the owner's
// pid. The bind without SO_REUSEPORT fails while anything listens on the port — a server of ours whose lock lives
// in another temporary directory, or another program — which SO_REUSEPORT binds would otherwise join.
async function lockPort (host: string, port: number): Promise<() => void> {
  const resource = `PORT ${port}`
  const release = lockFile(join(tmpdir(), `tabeby-port-${port}.lock`), resource)
  try {
    await new Promise<void>((resolve, reject) => {
      const probe = createServer()
      probe.once('error', reject)
      probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()))
    })
  } catch (error) {
    release()
    if ((error as { code?: string }).code === 'EADDRINUSE') throw new InstanceInUse(resource, null)
    throw error
  }
  return release
}

// Throws InstanceInUse when a live server holds what this one needs. The claim is released at exit, however the
// process ends short of SIGKILL (which the next start recognises as a dead owner).
export async function claimInstance (claim: InstanceClaim): Promise<InstanceLock> {
  const releases: Array<() => void> = []
  const releaseAll = (): void => {
    for (const fn of releases) {
      try { fn() } catch {}
    }
  }
  try {
    if (claim.port !== undefined && claim.port.port !== 0) releases.push(await lockPort(claim.port.host, claim.port.port))
    if (claim.dataDir !== null) releases.push(lockDataDir(claim.dataDir))
  } catch (error) {
    releaseAll()
    throw error
  }
  let released = false
  const release = (): void => {
    if (released) return
    released = true
    releaseAll()
  }
  process.once('exit', release)
  return { release }
}
