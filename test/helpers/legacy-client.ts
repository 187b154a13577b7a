import { client, SECRET, type Client, type Response, type Target } from './client.ts'
import { connect, startStack, type Owner, type Sql } from './stack.ts'
import type { TestDatabase, TestServer } from './server.ts'

// Requests as the legacy apps send them (the app secret on every call), and a way to prove that a refused request
// changed nothing.

export { SECRET, connect, type Sql }

export type LegacyClient = Client

export function legacyClient (target: Target | string): LegacyClient {
  return client(target)
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

// A test file's own database and full server (processes), torn down with the file: startStack's 'cluster' mode.
export interface LegacyStack {
  db: TestDatabase
  server: TestServer
  sql: Sql
  api: LegacyClient
}

export async function startLegacyStack (t: Owner, env: Record<string, string> = {}): Promise<LegacyStack> {
  const { db, app, sql, api } = await startStack(t, { mode: 'cluster', env })
  return { db, server: app, sql, api }
}

// Sends a burst of [method, path, body] at once; each answer comes back with a label naming its request.
export async function sendAll (api: Client, requests: Array<[string, string, unknown]>): Promise<Array<{ what: string, res: Response }>> {
  return await Promise.all(requests.map(async ([method, path, body]) => {
    const res = await api.send(method, path, body)
    return { what: `${method} ${path} ${typeof body === 'string' ? body.slice(0, 40) : JSON.stringify(body)?.slice(0, 80)}`, res }
  }))
}
