// The one error type of the server, and the constructors the catalogue's entries are declared with
// (src/errors/<area>.ts, gathered in src/errors.ts). Nothing outside the catalogue builds an error body: a route
// throws an entry, and the HTTP layer writes its status, headers and body as they are.

export class ApiError extends Error {
  constructor (
    readonly status: number,
    // The catalogue code: one meaning each, for logs, metrics and documentation. What the body carries is `body`.
    readonly code: string,
    // English, for whoever reads logs; the apps are shown the body.
    message: string,
    // The exact wire shape, because the legacy apps read several (see Shape).
    readonly body: unknown,
    readonly headers: Record<string, string> = {}
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

// The wire shapes of legacy-api.md's conventions, which the apps parse as they are:
// - 'detail': FastAPI's {"detail": text, "code"}, where `code` is our additive field (COMPATIBILITY.md); some add
//   `message` (English beside an Arabic detail) or fields the apps read (a full day's date and capacity).
// - 'error': the doctors router and main.py extras, {"error": {"code", "message"}}.
// - 'detail-error': the second nested in the first, {"detail": {"error": {"code", "message"}}} (golden payments).
// - 'detail-list': FastAPI's validation 422, {"detail": [{loc, msg, type}]}.
// - 'rate-limit': the v2 note's 429, {"error": "Too many requests", "message", "retry_after"}.
export type Shape = 'detail' | 'error' | 'detail-error' | 'detail-list' | 'rate-limit'

/** One entry of the catalogue: call it to get the error to throw. `any[]` by default, so a list can hold them all. */
export interface ErrorEntry<A extends unknown[] = any[]> {
  (...args: A): ApiError
  readonly code: string
  readonly status: number
  readonly shape: Shape
  // The code the body carries: `code` itself, or the legacy one several meanings shared (`bad_request`,
  // `not_found`). Null for the shapes that carry none.
  readonly wire: string | null
  // Arguments the catalogue test builds the entry with.
  readonly example: A
  // What the client reads as the message (the Arabic where legacy sent Arabic), for a route that sends it in
  // another frame: an SSE `error` event, a 200 that reports a failed lookup, a validation issue.
  readonly text: (...args: A) => string
}

export type Text<A extends unknown[]> = string | ((...args: A) => string)

// An entry that takes arguments declares example ones, so the catalogue test can build every entry.
type Rest<A extends unknown[], O> = A extends [] ? [options?: O] : [options: O & { example: A }]

interface Common<A extends unknown[]> {
  // The legacy code on the wire, where legacy gave one code several meanings; `code` stays unique.
  wire?: string
  headers?: Record<string, string>
  example?: A
}

export interface DetailOptions<A extends unknown[]> extends Common<A> {
  // The `detail` text when it is not the English message: the Arabic the apps show as it comes.
  shown?: Text<A>
  // Also send the English message as `message`, beside an Arabic detail.
  withMessage?: true
  // Fields after `code` that the apps read (a full day's date and capacity, the booking that already exists).
  fields?: (...args: A) => Record<string, unknown>
}

const textOf = <A extends unknown[]>(text: Text<A>, args: A): string => typeof text === 'string' ? text : text(...args)

interface Spec<A extends unknown[]> {
  status: number
  code: string
  shape: Shape
  wire: string | null
  example: A
  message: Text<A>
  shown?: Text<A> | undefined
  body: (...args: A) => unknown
  headers?: Record<string, string> | ((...args: A) => Record<string, string>) | undefined
}

function entry<A extends unknown[]> (spec: Spec<A>): ErrorEntry<A> {
  const { status, code, shape, wire, example, message, shown, body, headers = {} } = spec
  const build = (...args: A): ApiError =>
    new ApiError(status, code, textOf(message, args), body(...args), typeof headers === 'function' ? headers(...args) : headers)
  const text = (...args: A): string => textOf(shown ?? message, args)
  return Object.assign(build, { code, status, shape, wire, example, text })
}

export function detail<A extends unknown[] = []> (status: number, code: string, message: Text<A>, ...[options]: Rest<A, DetailOptions<A>>): ErrorEntry<A> {
  const wire = options?.wire ?? code
  const shown = options?.shown ?? message
  return entry({
    status,
    code,
    shape: 'detail',
    wire,
    example: options?.example ?? [] as unknown as A,
    message,
    shown,
    headers: options?.headers,
    body: (...args) => ({
      detail: textOf(shown, args),
      code: wire,
      ...(options?.withMessage === true ? { message: textOf(message, args) } : {}),
      ...options?.fields?.(...args)
    })
  })
}

// `shown`: the message the body carries when legacy's was Arabic (the English one stays the error's, for the logs).
export function customError<A extends unknown[] = []> (status: number, code: string, message: Text<A>, ...[options]: Rest<A, Common<A> & { shown?: Text<A> }>): ErrorEntry<A> {
  const wire = options?.wire ?? code
  const shown = options?.shown ?? message
  return entry({
    status,
    code,
    shape: 'error',
    wire,
    example: options?.example ?? [] as unknown as A,
    message,
    shown,
    headers: options?.headers,
    body: (...args) => ({ error: { code: wire, message: textOf(shown, args) } })
  })
}

export function nestedCustomError (status: number, code: string, message: string): ErrorEntry<[]> {
  return entry({ status, code, shape: 'detail-error', wire: code, example: [], message, body: () => ({ detail: { error: { code, message } } }) })
}

export interface Issue {
  loc: Array<string | number>
  msg: string
  type: string
}

export function validationList (code: string, example: Issue[]): ErrorEntry<[issues: Issue[]]> {
  return entry({
    status: 422,
    code,
    shape: 'detail-list',
    wire: null,
    example: [example],
    message: (issues) => issues[0]?.msg ?? 'invalid input',
    body: (issues) => ({ detail: issues })
  })
}

export function rateLimited (code: string, message: string, shown: string): ErrorEntry<[retryAfterSeconds: number]> {
  return entry({
    status: 429,
    code,
    shape: 'rate-limit',
    wire: null,
    example: [30],
    message,
    shown,
    body: (retryAfter) => ({ error: 'Too many requests', message: shown, retry_after: retryAfter }),
    headers: (retryAfter) => ({ 'Retry-After': String(retryAfter) })
  })
}
