import { timingSafeEqual, hash } from 'node:crypto'
import { z } from 'zod'
import { authErrors, errors, staffErrors, type ApiError, type ErrorEntry, type Issue } from '../../src/errors.ts'
import type { Handler, Method, Reply, Request } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import type { Tier } from '../../src/rate-limit/policy.ts'
import { normalizeDigits } from '../../src/domain/digits.ts'
import { INT32_MAX } from '../../src/domain/identifiers.ts'
import { isIsoDate } from '../../src/domain/calendar.ts'
import { hasLoneSurrogate } from '../../src/domain/json.ts'
import { wireBool } from '../../src/domain/booleans.ts'
import { authenticateActor, authenticateAdmin, authenticateDashboard, authenticateStaff, type TokenGate } from '../../src/auth/guard.ts'
import { bindPatient, judge, type AdminActor, type AppActor, type DashboardActor, type RouteScope, type StaffActor } from '../../src/auth/actors.ts'
import type { Permission } from '../../src/auth/permissions.ts'
import { isForm, parseForm } from '../forms.ts'

// One schema per route: it validates the body and the query before the handler runs, and the same object is what
// the OpenAPI document is generated from. A handler therefore only ever sees input of its declared type.

export type Auth =
  | 'none'
  | 'secret' // the apps' shared `Doctor-Secret` header (legacy-api.md conventions); AUTH_MODE=strict adds an actor token
  | 'admin' // `Authorization: Bearer <access token>` of an active admin, not revoked (src/auth/guard.ts)
  | 'staff' // a staff member's token (`type: "staff"`), not revoked, of an active member
  | 'admin-or-staff' // either dashboard token: the routes legacy served to both (ADMIN|STAFF)
  | 'secret-or-admin' // either: routes the apps call with the secret and the dashboard with its token

// Who the handler acts for: typed by the route's auth, so an admin route never has to check for null. On a 'secret'
// route it is the actor token's holder in AUTH_MODE=strict, and always null in legacy mode (tokens are not read).
export type ActorOf<A extends Auth> =
  A extends 'admin' ? AdminActor
    : A extends 'staff' ? StaffActor
      : A extends 'admin-or-staff' ? DashboardActor
        : A extends 'secret-or-admin' ? AppActor | null
          : A extends 'secret' ? AppActor | null
            : null

export interface RouteInput<B, Q, A extends Auth = Auth> {
  body: B
  query: Q
  params: readonly string[]
  request: Request
  actor: ActorOf<A>
}

export interface RouteSpec<B, Q, A extends Auth = Auth> {
  method: Method
  pattern: string
  summary: string
  auth: A
  mirror?: boolean
  tier?: Tier
  body?: z.ZodType<B>
  // Also accept the body as an HTML form (urlencoded or multipart), as the legacy staff routes did; the fields arrive
  // as strings, so the schema must accept those.
  form?: true
  // A body read otherwise than as JSON or a form of fields (a multipart upload with its file): into the value the
  // body schema then validates.
  readBody?: (request: Request) => Promise<unknown>
  // This route's request body limit, when it must differ from MAX_BODY_BYTES (an image upload).
  maxBodyBytes?: number
  // The answer to a body the schema refuses, where the legacy route answered its own 400 instead of FastAPI's 422.
  invalid?: (issues: Issue[]) => ApiError
  query?: z.ZodType<Q>
  // The permission the caller's own effective set must hold (dashboard routes), else 403 before anything is read.
  permission?: Permission
  // What the route acts on, for the actor rules of AUTH_MODE=strict (src/auth/actors.ts); ignored in legacy mode.
  scope?: RouteScope<RouteInput<B, Q, A>>
  // What the route answers, for the OpenAPI document only (nothing is validated on the way out): the wire shape of
  // each success status, and the catalogue entries the handler may throw. The errors every route of its kind can
  // answer (the secret's 403, a token's 401, validation's 422, 429, 503) are added by the document, not listed here.
  responses?: Responses
  errors?: readonly ErrorEntry[]
  // A request body as the apps send it (their field names, Arabic text and all), shown by /docs; the OpenAPI test
  // checks that `body` accepts it.
  example?: unknown
  handler: (input: RouteInput<B, Q, A>) => Promise<Reply> | Reply
}

// Success statuses and their bodies, e.g. { 200: bookingReply }; `null` for a status with no body (204, 304), a
// Binary for bytes that are not JSON (an image). 503 only for the health checks, whose failure has its own body.
export type Responses = Partial<Record<200 | 201 | 202 | 204 | 304 | 503, z.ZodType | Binary | null>>

export interface Binary {
  binary: readonly string[] // the media types it may be sent as
}

export interface DocumentedRoute extends RouteDef {
  summary: string
  auth: Auth
  permission?: Permission
  body?: z.ZodType
  form?: true
  query?: z.ZodType
  responses?: Responses
  errors?: readonly ErrorEntry[]
  example?: unknown
  // How a refused body or query is answered where it is not the 422 list (the doctors router's own shapes).
  invalid?: readonly ErrorEntry[]
  signIn: boolean // issues the token AUTH_MODE=strict asks for, so it needs only the secret
  scoped: boolean // has actor rules: AUTH_MODE=strict may refuse a token with 403 insufficient_permission
  // The handler as the spec wrote it: the OpenAPI test reads its source for the errors it throws.
  own: (...args: never[]) => unknown
}

// FastAPI's 422 list, which the apps already handle (errors.validation).
function issuesOf (where: 'body' | 'query', error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({
    loc: [where, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')],
    msg: issue.message,
    type: issue.code
  }))
}

const MAX_JSON_DEPTH = 32

// Deeply nested JSON is a denial-of-service vector for every later walk of the value; refuse it up front.
function depthExceeds (value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number]
    if (typeof current !== 'object' || current === null) continue
    if (depth > limit) return true
    for (const child of Object.values(current)) stack.push([child, depth + 1])
  }
  return false
}

// PostgreSQL text cannot hold U+0000; refusing it here keeps every route from turning it into a 500.
const NUL = /\\u0000|\u0000/

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/

// JSON travels as UTF-8 (RFC 8259). Buffer#toString would quietly turn invalid bytes into U+FFFD and store a
// name the client never sent, so such a body is refused instead.
const utf8 = new TextDecoder('utf-8', { fatal: true })

export function parseJsonBody (body: Buffer): unknown {
  if (body.length === 0) return undefined
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    throw errors.validation([{ loc: ['body'], msg: 'body is not valid UTF-8', type: 'utf8_invalid' }])
  }
  if (NUL.test(text)) throw errors.validation([{ loc: ['body'], msg: 'text must not contain NUL (\\u0000) characters', type: 'nul_character' }])
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw errors.validation([{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }])
  }
  if (depthExceeds(value, MAX_JSON_DEPTH)) {
    throw errors.validation([{ loc: ['body'], msg: `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, type: 'json_too_deep' }])
  }
  // Only an escape can make one (the bytes were checked above), so most bodies skip the walk.
  if (SURROGATE_ESCAPE.test(text) && hasLoneSurrogate(value)) throw errors.loneSurrogate()
  return value
}

// A NUL in a query value would reach PostgreSQL's text (a 500 there); refused like one in a JSON body.
function queryObject (query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of query) {
    if (value.includes('\u0000') || key.includes('\u0000')) {
      throw errors.validation([{ loc: ['query', key], msg: 'text must not contain NUL (\\u0000) characters', type: 'nul_character' }])
    }
    if (!(key in out)) out[key] = value
  }
  return out
}

// Constant-time comparison of the shared secret: hash both sides to equal lengths first, so neither the content
// nor the length of the configured secret leaks through timing.
const expectedDigests = new Map<string, Buffer>()
export function secretMatches (sent: string | undefined, expected: string): boolean {
  if (sent === undefined || expected === '') return false
  // The configured secret's digest is computed once, not on every request (it showed in profiles).
  let b = expectedDigests.get(expected)
  if (b === undefined) expectedDigests.set(expected, b = hash('sha256', expected, 'buffer'))
  // The one-shot hash: a Hash object per request was ~8 µs of a cached read.
  const a = hash('sha256', sent, 'buffer')
  return timingSafeEqual(a, b)
}

// Every route's authentication, in one place. With 'secret-or-admin', a request carrying neither credential gets
// the secret routes' 403, and a bearer token that fails gets the admin routes' 401. In AUTH_MODE=strict a 'secret'
// route also needs an actor token (a secretary's, a patient's or an admin's), except the sign-in routes that issue one.
async function authorize (ctx: WorkerContext, auth: Auth, request: Request, signIn: boolean): Promise<AppActor | StaffActor | null> {
  const authorization = request.headers.get('authorization')
  const gate: TokenGate = { db: ctx.db, jwtSecret: ctx.config.jwtSecret, revoked: ctx.sessions.revoked, standing: ctx.standing }
  switch (auth) {
    case 'none':
      return null
    case 'secret':
      if (!secretMatches(request.headers.get('doctor-secret'), ctx.config.doctorProfileSecret)) throw errors.forbidden()
      if (ctx.config.authMode === 'legacy' || signIn) return null
      return await authenticateActor(gate, authorization)
    case 'admin':
      return await authenticateAdmin(gate, authorization)
    case 'staff':
      return await authenticateStaff(gate, authorization)
    case 'admin-or-staff':
      return await authenticateDashboard(gate, authorization)
    case 'secret-or-admin':
      if (secretMatches(request.headers.get('doctor-secret'), ctx.config.doctorProfileSecret)) {
        // Strict mode: the secret is the app's, not a person's; the route's scope says whose token it takes.
        return ctx.config.authMode === 'legacy' ? null : await authenticateActor(gate, authorization)
      }
      if (authorization === undefined) throw errors.forbidden()
      return await authenticateAdmin(gate, authorization)
  }
}

async function rawBody (request: Request, form: boolean): Promise<unknown> {
  const contentType = request.headers.get('content-type')
  if (form && isForm(contentType)) return await parseForm(contentType as string, request.body)
  return parseJsonBody(request.body) ?? {}
}

export function defineRoute<B = undefined, Q = undefined, A extends Auth = Auth> (ctx: WorkerContext, spec: RouteSpec<B, Q, A>): DocumentedRoute {
  const handler: Handler = async (request) => {
    const actor = await authorize(ctx, spec.auth, request, spec.scope?.signIn === true)
    if (spec.permission !== undefined && (actor?.kind === 'admin' || actor?.kind === 'staff') && !actor.permissions.includes(spec.permission)) {
      throw staffErrors.permissionDenied(spec.permission)
    }
    let body = undefined as B
    if (spec.body !== undefined) {
      let raw = spec.readBody === undefined ? await rawBody(request, spec.form === true) : await spec.readBody(request)
      const patientField = spec.scope?.patientField
      if (actor?.kind === 'patient' && patientField !== undefined) raw = bindPatient(raw, patientField, actor)
      const parsed = spec.body.safeParse(raw)
      if (!parsed.success) throw (spec.invalid ?? errors.validation)(issuesOf('body', parsed.error))
      body = parsed.data
    }
    let query = undefined as Q
    if (spec.query !== undefined) {
      const parsed = spec.query.safeParse(queryObject(request.query))
      if (!parsed.success) throw errors.validation(issuesOf('query', parsed.error))
      query = parsed.data
    }
    // authorize returns an admin exactly where ActorOf<A> promises one; TypeScript cannot follow the switch there.
    const input: RouteInput<B, Q, A> = { body, query, params: request.params, request, actor: actor as ActorOf<A> }
    if (actor !== null && actor.kind !== 'staff' && await judge(actor, spec.scope, input) === 'refused') throw authErrors.insufficient()
    return await spec.handler(input)
  }
  return {
    method: spec.method,
    pattern: spec.pattern,
    handler,
    mirror: spec.mirror,
    tier: spec.tier,
    maxBodyBytes: spec.maxBodyBytes,
    summary: spec.summary,
    auth: spec.auth,
    permission: spec.permission,
    body: spec.body,
    form: spec.form,
    query: spec.query,
    responses: spec.responses,
    errors: spec.errors,
    example: spec.example,
    signIn: spec.scope?.signIn === true,
    scoped: spec.scope !== undefined && spec.scope.signIn !== true,
    own: spec.handler
  }
}

// Field helpers for the legacy wire, where the apps send numbers as numbers or as strings ("7", "٧").
const numeric = (v: unknown): unknown => typeof v === 'string' && /^\s*[0-9٠-٩۰-۹]+\s*$/.test(v) ? Number(normalizeDigits(v.trim())) : v

export const field = {
  // A positive integer id, accepted as a number or a numeric string. Each check stops at its first failure
  // (`abort`), so a value wrong in several ways (1e308 is too large and past int's safe range) is one issue, not two.
  id: (name = 'value') => {
    const message = `${name} must be a positive integer`
    return z.preprocess(numeric, z.number({ message })
      .max(INT32_MAX, { message, abort: true }).int({ message, abort: true }).positive({ message, abort: true }))
  },
  // A non-negative integer count, same leniency.
  count: (name = 'value') => z.preprocess(numeric, z.number({ message: `${name} must be a whole number` })
    .max(100_000, { message: `${name} must be at most 100000`, abort: true })
    .int({ message: `${name} must be a whole number`, abort: true })
    .min(0, { message: `${name} must not be negative`, abort: true })),
  // Years 2000-2999: a clinic books near dates, and date arithmetic (the next day, a 30-day search) stays in range.
  date: (name = 'date') => z.string({ message: `${name} must be a string YYYY-MM-DD` })
    .refine((v) => isIsoDate(v) && v >= '2000-01-01' && v <= '2999-12-31', `${name} must be a real date in YYYY-MM-DD form, between 2000 and 2999`),
  text: (max = 200) => z.string().trim().min(1).max(max),
  // A boolean in any spelling the legacy server's pydantic accepted (src/domain/booleans.ts): true, 1, "yes", "on"…
  bool: (name = 'value') => z.preprocess((v) => wireBool(v) ?? v,
    z.boolean({ message: `${name} must be a boolean: true or false (also 1/0, "yes"/"no", "on"/"off")` }))
}
