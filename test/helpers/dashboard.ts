import { httpTarget, SECRET, type Response, type Target } from './client.ts'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './admin.ts'

// The admin dashboard's side of a test: JSON and form requests with a bearer token, logins for admins and staff,
// and a look inside a token. Calls mirror the shared test client's `send(method, path, body, options)` and go to
// the same Targets (a server's URL, or the in-process app).

export interface DashboardCall {
  token?: string
  secret?: boolean
  form?: Record<string, string> // sent as application/x-www-form-urlencoded instead of JSON
  multipart?: Record<string, string> // sent as multipart/form-data, as a browser's FormData is
  raw?: string | Buffer // sent as it is, with `contentType`
  contentType?: string
  headers?: Record<string, string>
}

export interface Dashboard {
  send: (method: string, path: string, body?: unknown, options?: DashboardCall) => Promise<Response>
  get: (path: string, options?: DashboardCall) => Promise<Response>
  adminLogin: (email?: string, password?: string) => Promise<Session>
  staffLogin: (email: string, password: string, options?: DashboardCall) => Promise<Session>
}

export interface Session {
  accessToken: string
  refreshToken: string
  id: number
}

function multipartBody (fields: Record<string, string>): { body: Buffer, contentType: string } {
  const boundary = `----tabeby${Math.random().toString(16).slice(2)}`
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
  return { body: Buffer.from(`${parts.join('')}--${boundary}--\r\n`), contentType: `multipart/form-data; boundary=${boundary}` }
}

export function dashboard (target: Target | string): Dashboard {
  const to = typeof target === 'string' ? httpTarget(target) : target
  const send: Dashboard['send'] = async (method, path, body, options = {}) => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.token !== undefined) headers['Authorization'] = `Bearer ${options.token}`
    if (options.secret === true) headers['Doctor-Secret'] = SECRET
    let payload: string | Buffer | undefined
    if (options.form !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded'
      payload = new URLSearchParams(options.form).toString()
    } else if (options.multipart !== undefined) {
      const multipart = multipartBody(options.multipart)
      headers['Content-Type'] = multipart.contentType
      payload = multipart.body
    } else if (options.raw !== undefined) {
      if (options.contentType !== undefined) headers['Content-Type'] = options.contentType
      payload = options.raw
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    return await to.request(path, { method, headers, body: payload })
  }
  return {
    send,
    get: (path, options) => send('GET', path, undefined, options),
    adminLogin: async (email = ADMIN_EMAIL, password = ADMIN_PASSWORD) => {
      const res = await send('POST', '/auth/admin/auth', { email, password }, { secret: true })
      if (res.status !== 200) throw new Error(`admin login of ${email} answered ${res.status}: ${res.text}`)
      const body = res.json<{ accessToken: string, refreshToken: string, user: { id: number } }>()
      return { accessToken: body.accessToken, refreshToken: body.refreshToken, id: body.user.id }
    },
    staffLogin: async (email, password, options = {}) => {
      const res = await send('POST', '/staff/login', { email, password }, options)
      if (res.status !== 200) throw new Error(`staff login of ${email} answered ${res.status}: ${res.text}`)
      const { data } = res.json<{ data: { accessToken: string, refreshToken: string, user: { id: number } } }>()
      return { accessToken: data.accessToken, refreshToken: data.refreshToken, id: data.user.id }
    }
  }
}

export function claimsOf (token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>
}
