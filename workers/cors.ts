// CORS for the browser apps (the admin dashboard), per the Fetch standard: an allowed origin is echoed, never `*`,
// so the same answer is valid whatever the request's credentials mode (`*` is refused with credentials, and a
// request carrying Authorization is one a dashboard may well send with `credentials: 'include'`). Every answer
// varies by Origin, so a shared cache never hands one origin's answer to another. The apps on phones send no Origin
// and see nothing of this.

export type CorsOrigins = '*' | readonly string[]

// What a preflight may ask for on top of the CORS-safelisted headers: the app secret, the tokens, the booking
// routes' Idempotency-Key, SSE's resume point, a JSON body's type, and a conditional GET. Whatever else an allowed
// origin asks for is granted as well (legacy granted every header): a header carries no permission by itself.
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Doctor-Secret', 'Idempotency-Key', 'Last-Event-ID', 'If-None-Match']

// What a script on an allowed origin may read besides the safelisted response headers.
const EXPOSED_HEADERS = [
  'ETag', 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'RateLimit-Policy', 'RateLimit',
  'Idempotent-Replayed', 'Content-Disposition'
].join(', ')

// How long a browser may reuse a preflight's answer: Chromium caps it at 2 hours, Firefox at 24.
export const PREFLIGHT_MAX_AGE_SECONDS = 7200

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

export interface Cors {
  // Whether a request from `origin` (its Origin header) may read the answer.
  allows: (origin: string | undefined) => origin is string
  // Adds this origin's CORS headers to an answer's own (fresh) headers, and `Vary: Origin` in any case.
  decorate: (requestHeaders: ReadonlyMap<string, string>, headers: Record<string, string>) => void
  // The headers of a preflight's answer for a path that takes `methods`, or null when the request is no preflight
  // an allowed origin sent (then the plain OPTIONS answer goes out, and the browser refuses the call).
  preflight: (requestHeaders: ReadonlyMap<string, string>, methods: readonly string[]) => Record<string, string> | null
}

export function cors (origins: CorsOrigins): Cors {
  const listed = new Set(origins === '*' ? [] : origins)
  const allows = (origin: string | undefined): origin is string =>
    origin !== undefined && origin !== '' && (origins === '*' ? origin !== 'null' : listed.has(origin))

  return {
    allows,
    decorate: (requestHeaders, headers) => {
      const origin = requestHeaders.get('origin')
      const vary = headers['Vary']
      headers['Vary'] = vary === undefined ? 'Origin' : `${vary}, Origin`
      if (allows(origin)) {
        headers['Access-Control-Allow-Origin'] = origin
        headers['Access-Control-Allow-Credentials'] = 'true'
        headers['Access-Control-Expose-Headers'] = EXPOSED_HEADERS
      }
    },
    preflight: (requestHeaders, methods) => {
      const method = requestHeaders.get('access-control-request-method')
      if (method === undefined || !allows(requestHeaders.get('origin'))) return null
      const asked = (requestHeaders.get('access-control-request-headers') ?? '')
        .split(',').map((name) => name.trim()).filter((name) => TOKEN.test(name))
      const granted = [...ALLOWED_HEADERS]
      for (const name of asked) {
        if (!granted.some((known) => known.toLowerCase() === name.toLowerCase())) granted.push(name)
      }
      return {
        'Access-Control-Allow-Methods': methods.join(', '),
        'Access-Control-Allow-Headers': granted.join(', '),
        'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS)
      }
    }
  }
}
