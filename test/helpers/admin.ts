import { request, type Response } from './server.ts'
import { SECRET } from './legacy-client.ts'

// The dashboard's side of a test: a server started with a bootstrap admin, its login, and bearer-token requests.
// Routes guarded with `auth: 'admin'` need `withAdmin(db.url)` in startServer's env and a token from `login`.

export const ADMIN_EMAIL = 'root@tabeby.test'
export const ADMIN_PASSWORD = 'root-password-for-tests'
// Fixed, so a test can mint tokens the server accepts (expired ones, for instance) with src/auth/tokens.ts.
export const JWT_SECRET = 'test-signing-key-0123456789abcdef0123456789'

export function withAdmin (databaseUrl: string, env: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: databaseUrl, ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, ...env }
}

export interface LoginBody {
  message: string
  accessToken: string
  tokenType: string
  refreshToken: string
  user: { id: number, name: string, email: string }
}

export function bearer (token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` }
}

export async function adminRequest (baseUrl: string, method: string, path: string, options: { token?: string, body?: unknown, secret?: boolean } = {}): Promise<Response> {
  const headers: Record<string, string> = {}
  if (options.token !== undefined) Object.assign(headers, bearer(options.token))
  if (options.secret === true) headers['Doctor-Secret'] = SECRET
  let body: string | undefined
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  return await request(`${baseUrl}${path}`, { method, headers, body })
}

export async function tryLogin (baseUrl: string, email: string, password: string): Promise<Response> {
  return await adminRequest(baseUrl, 'POST', '/auth/admin/auth', { body: { email, password }, secret: true })
}

export async function login (baseUrl: string, email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<LoginBody> {
  const res = await tryLogin(baseUrl, email, password)
  if (res.status !== 200) throw new Error(`login of ${email} answered ${res.status}: ${res.text}`)
  return res.json<LoginBody>()
}
