import postgres from 'postgres'
import { startApp, type InProcessApp } from './app.ts'
import { client, type Client } from './client.ts'
import { startDatabase, startServer, type TestDatabase, type TestServer } from './server.ts'

// What a test file starts, in one call, torn down with the file:
// - 'database': a PostgreSQL of its own (not yet migrated: the server migrates at start) and a connection to it;
// - 'in-process': that, plus the app in the test process (helpers/app.ts), for route tests;
// - 'cluster': that, plus the real server as processes (the primary, its coordinator and workers), for what needs
//   processes: lifecycle, IPC, SSE and caches across workers, sockets, the database going away.
// Both apps are Targets of the same client, so a test reads the same in either mode.

export type Sql = postgres.Sql

export function connect (url: string): Sql {
  return postgres(url, { max: 2, onnotice: () => {} })
}

export interface Owner {
  teardown: (fn: () => unknown) => void
}

export interface DatabaseStack {
  db: TestDatabase
  sql: Sql
}

export interface Stack<App> extends DatabaseStack {
  app: App
  api: Client
  // Another app of the same kind on the same database (another configuration, a restart, a second instance), with
  // the file's env plus `env`, stopped with `owner`. `workers`: for a cluster, if not the file's count.
  launch: (owner: Owner, env?: Record<string, string>, options?: { workers?: number }) => Promise<App>
}

// Like the rate limits in startServer's and startApp's defaults: the database's load shedding out of the way unless
// a test is about it. On a busy machine a burst of a test's requests can wait longer for a connection, a row lock or
// the database work of one request than the production defaults allow (2 s, 5 s, 6 s), and its answers would be
// 503s instead of what the test looks at.
const TEST_ENV = { DB_QUEUE_TIMEOUT_MS: '30000', DB_STATEMENT_TIMEOUT_MS: '60000', REQUEST_DEADLINE_MS: '60000' }

interface Common {
  // Load pg_stat_statements, so a test can count the queries the server really ran.
  statements?: boolean
}

export async function startStack (t: Owner, options: Common & { mode: 'database' }): Promise<DatabaseStack>
export async function startStack (t: Owner, options: Common & { mode: 'in-process', env?: Record<string, string> }): Promise<Stack<InProcessApp>>
export async function startStack (t: Owner, options: Common & { mode: 'cluster', env?: Record<string, string>, workers?: number }): Promise<Stack<TestServer>>
export async function startStack (t: Owner, options: Common & { mode: 'database' | 'in-process' | 'cluster', env?: Record<string, string>, workers?: number }): Promise<DatabaseStack | Stack<InProcessApp | TestServer>> {
  const db = await startDatabase({ statements: options.statements, durable: false })
  const sql = connect(db.url)
  const stops: Array<() => Promise<unknown>> = []
  // Apps first, then our connection, then the database.
  t.teardown(async () => {
    for (const stop of stops.reverse()) await stop()
    await sql.end()
    await db.destroy()
  })
  if (options.mode === 'database') return { db, sql }

  const start = async (env: Record<string, string>, workers = options.workers): Promise<InProcessApp | TestServer> => options.mode === 'in-process'
    ? await startApp({ ...TEST_ENV, DATABASE_URL: db.url, ...env })
    : await startServer({ workers, env: { ...TEST_ENV, DATABASE_URL: db.url, ...env } })
  const stopOf = (app: InProcessApp | TestServer): (() => Promise<unknown>) => 'cleanup' in app ? app.cleanup : app.stop
  const app = await start(options.env ?? {})
  stops.push(stopOf(app))
  return {
    db,
    sql,
    app,
    api: client(app),
    launch: async (owner, env = {}, { workers } = {}) => {
      const another = await start({ ...options.env, ...env }, workers)
      owner.teardown(stopOf(another))
      return another
    }
  }
}
