import postgres from 'postgres'
import { request, startDatabase, startServer, type Response, type TestDatabase, type TestServer } from './server.ts'

// Requests as the legacy apps send them, and a way to prove that a refused request changed nothing.

export const SECRET = 'dev-secret'

export interface LegacyClient {
  // A JSON body is sent as JSON; a string is sent as it is (for malformed bodies).
  send: (method: string, path: string, body?: unknown, options?: { secret?: string | null }) => Promise<Response>
  get: (path: string, options?: { secret?: string | null }) => Promise<Response>
  post: (path: string, body?: unknown, options?: { secret?: string | null }) => Promise<Response>
}

export function legacyClient (baseUrl: string): LegacyClient {
  const send: LegacyClient['send'] = async (method, path, body, options = {}) => {
    const headers: Record<string, string> = {}
    const secret = options.secret === undefined ? SECRET : options.secret
    if (secret !== null) headers['Doctor-Secret'] = secret
    let payload: string | undefined
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      payload = typeof body === 'string' ? body : JSON.stringify(body)
    }
    return await request(`${baseUrl}${path}`, { method, headers, body: payload })
  }
  return {
    send,
    get: (path, options) => send('GET', path, undefined, options),
    post: (path, body, options) => send('POST', path, body, options)
  }
}

export type Sql = postgres.Sql

export function connect (url: string): Sql {
  return postgres(url, { max: 2, onnotice: () => {} })
}

// A digest of every row of a table: equal digests before and after mean nothing was inserted, changed or removed.
export async function tableDigest (sql: Sql, table: string): Promise<string> {
  const [row] = await sql<Array<{ digest: string }>>`
    SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest
    FROM ${sql(table)} t`
  return row?.digest ?? ''
}

export async function digests (sql: Sql, tables: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const table of tables) out[table] = await tableDigest(sql, table)
  return out
}

// A test file's own database and server, torn down with the file.
export interface LegacyStack {
  db: TestDatabase
  server: TestServer
  sql: Sql
  api: LegacyClient
}

export async function startLegacyStack (t: { teardown: (fn: () => unknown) => void }, env: Record<string, string> = {}): Promise<LegacyStack> {
  const db = await startDatabase()
  t.teardown(db.destroy)
  const server = await startServer({ env: { DATABASE_URL: db.url, ...env } })
  t.teardown(server.cleanup)
  const sql = connect(db.url)
  t.teardown(() => sql.end())
  return { db, server, sql, api: legacyClient(server.url) }
}

// Sends a burst of [method, path, body] at once; each answer comes back with a label naming its request.
export async function sendAll (api: LegacyClient, requests: Array<[string, string, unknown]>): Promise<Array<{ what: string, res: Response }>> {
  return await Promise.all(requests.map(async ([method, path, body]) => {
    const res = await api.send(method, path, body)
    return { what: `${method} ${path} ${typeof body === 'string' ? body.slice(0, 40) : JSON.stringify(body)?.slice(0, 80)}`, res }
  }))
}
