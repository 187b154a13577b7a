import { client, SECRET, type Response, type Target } from './client.ts'

// The dashboard's side of a test: a server started with a bootstrap admin, its login, and bearer-token requests.
// Routes guarded with `auth: 'admin'` need `withAdmin(db.url)` (or `withAdmin()` for startStack, which adds the
// database) in the server's env and a token from `login`.

export const ADMIN_EMAIL = 'root@tabeby.test'
export const ADMIN_PASSWORD = 'root-password-for-tests'
// Fixed, so a test can mint tokens the server accepts (expired ones, for instance) with src/auth/tokens.ts.
export const JWT_SECRET = 'test-signing-key-0123456789abcdef0123456789'

export function withAdmin (databaseUrl?: string, env: Record<string, string> = {}): Record<string, string> {
  return { ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }), ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, ...env }
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

// The dashboard sends no app secret unless `secret` says so.
export async function adminRequest (target: Target | string, method: string, path: string, options: { token?: string, body?: unknown, secret?: boolean } = {}): Promise<Response> {
  return await client(target).send(method, path, options.body, { token: options.token, secret: options.secret === true ? SECRET : null })
}

export async function tryLogin (target: Target | string, email: string, password: string): Promise<Response> {
  return await adminRequest(target, 'POST', '/auth/admin/auth', { body: { email, password }, secret: true })
}

export async function login (target: Target | string, email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<LoginBody> {
  const res = await tryLogin(target, email, password)
  if (res.status !== 200) throw new Error(`login of ${email} answered ${res.status}: ${res.text}`)
  return res.json<LoginBody>()
}
