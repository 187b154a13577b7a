import { Agent, request as httpRequest } from 'node:http'

// The one client of the tests. It talks to a Target: a real server over HTTP (`httpTarget`), or the in-process app
// (helpers/app.ts), which answers the same requests through the same routing table without a socket. A test reads
// the same either way.

export interface Response {
  status: number
  // Lower-case names, as node:http gives them.
  headers: Record<string, string | string[] | undefined>
  text: string
  json: <T = Record<string, unknown>>() => T
}

export interface RequestInit {
  method?: string
  headers?: Record<string, string>
  body?: string | Buffer
  timeoutMs?: number
}

// A response that may never end on its own (SSE), read until `close`.
export interface OpenStream {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: () => string
  ended: () => boolean
  close: () => void
}

export interface Target {
  // `path` starts at the server's root: '/api/booking_days?clinic_id=7'.
  request: (path: string, init?: RequestInit) => Promise<Response>
  openStream: (path: string, headers?: Record<string, string>) => Promise<OpenStream>
}

// The JSON of a call that must succeed; anything but a 200 fails the test there, naming the call and the answer.
export async function ok (res: Promise<Response>, what: string): Promise<Record<string, unknown>> {
  const answer = await res
  if (answer.status !== 200) throw new Error(`${what}: ${answer.status} ${answer.text}`)
  return answer.json()
}

export function responseOf (status: number, headers: Response['headers'], text: string): Response {
  return { status, headers, text, json: <T>() => JSON.parse(text) as T }
}

// Each call opens a fresh connection (no keep-alive), so successive requests spread over the workers the way
// separate phones would.
const freshConnections = new Agent({ keepAlive: false })

export function request (url: string, init: RequestInit = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers, agent: freshConnections, timeout: init.timeoutMs ?? 45_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve(responseOf(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString())))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`timeout: ${init.method ?? 'GET'} ${url}`)))
    req.on('error', reject)
    if (init.body !== undefined) req.write(init.body)
    req.end()
  })
}

export function openStream (url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    let text = ''
    let ended = false
    const req = httpRequest(url, { headers }, (res) => {
      res.on('data', (chunk: Buffer) => { text += chunk.toString() })
      res.on('end', () => { ended = true })
      res.on('error', () => { ended = true })
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        ended: () => ended,
        close: () => { req.destroy() }
      })
    })
    req.on('error', (error) => { if (!ended) reject(error) })
    req.end()
  })
}

export function httpTarget (baseUrl: string): Target {
  return {
    request: (path, init) => request(`${baseUrl}${path}`, init),
    openStream: (path, headers) => openStream(`${baseUrl}${path}`, headers)
  }
}

// The apps' shared secret in every test server (DOCTOR_PROFILE_SECRET's default).
export const SECRET = 'dev-secret'

export interface CallOptions {
  // The Doctor-Secret header: SECRET unless the client was made without one; null leaves it out.
  secret?: string | null
  // Sent as `Authorization: Bearer <token>`.
  token?: string
  headers?: Record<string, string>
  timeoutMs?: number
}

export interface Client extends Target {
  // A body is sent as JSON; a string or a Buffer is sent as it is (for malformed bodies).
  send: (method: string, path: string, body?: unknown, options?: CallOptions) => Promise<Response>
  get: (path: string, options?: CallOptions) => Promise<Response>
  post: (path: string, body?: unknown, options?: CallOptions) => Promise<Response>
}

// `secret`: what every call sends as Doctor-Secret unless it says otherwise (null: nothing).
export function client (target: Target | string, defaults: { secret?: string | null } = {}): Client {
  const to = typeof target === 'string' ? httpTarget(target) : target
  const fallbackSecret = defaults.secret === undefined ? SECRET : defaults.secret
  const send: Client['send'] = async (method, path, body, options = {}) => {
    const headers: Record<string, string> = {}
    const secret = options.secret === undefined ? fallbackSecret : options.secret
    if (secret !== null) headers['Doctor-Secret'] = secret
    if (options.token !== undefined) headers['Authorization'] = `Bearer ${options.token}`
    let payload: string | Buffer | undefined
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
    }
    return await to.request(path, { method, headers: { ...headers, ...options.headers }, body: payload, timeoutMs: options.timeoutMs })
  }
  return {
    request: to.request,
    openStream: to.openStream,
    send,
    get: (path, options) => send('GET', path, undefined, options),
    post: (path, body, options) => send('POST', path, body, options)
  }
}
