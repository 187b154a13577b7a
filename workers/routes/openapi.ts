import { z } from 'zod'
import type { RouteDef } from '../context.ts'
import type { Auth, Binary, DocumentedRoute } from './define.ts'
import { authErrors, errors, staffErrors, type ErrorEntry } from '../../src/errors.ts'
import { VERSION } from './ops.ts'

// The OpenAPI document, generated from the same zod schemas that validate each route: documentation that cannot
// drift from what the server accepts. Each route declares its success bodies and the catalogue errors its handler
// throws (define.ts); what every route of its kind can answer (its credentials' 401/403, validation, rate limits,
// the database's 503s) is added here, so it is said once.

export function isDocumented (route: RouteDef): route is DocumentedRoute {
  return 'summary' in route
}

export type AuthMode = 'legacy' | 'strict'

// zod bounds every .int() by the safe-integer range; Swagger UI would show -9007199254740991 as each sample value.
function withoutSafeIntegerBounds (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSafeIntegerBounds)
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    if ((key === 'minimum' || key === 'maximum') && Math.abs(Number(inner)) === Number.MAX_SAFE_INTEGER) continue
    out[key] = withoutSafeIntegerBounds(inner)
  }
  return out
}

function schemaOf (schema: z.ZodType): Record<string, unknown> {
  // Input side: what a client sends (before our coercions), with anything JSON Schema cannot express left open.
  return withoutSafeIntegerBounds(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' })) as Record<string, unknown>
}

function outputSchemaOf (schema: z.ZodType): Record<string, unknown> {
  return withoutSafeIntegerBounds(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any', target: 'draft-2020-12' })) as Record<string, unknown>
}

function isBinary (value: unknown): value is Binary {
  return typeof value === 'object' && value !== null && 'binary' in value
}

const reasons: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 304: 'Not Modified', 503: 'Unhealthy' }

// The statuses any route of this kind can answer besides its own, by what it takes from the request.
function commonErrors (route: DocumentedRoute, mode: AuthMode): ErrorEntry[] {
  const out: ErrorEntry[] = []
  const actorToken = mode === 'strict' && !route.signIn
  if (route.auth === 'secret' || route.auth === 'secret-or-admin') out.push(errors.forbidden)
  if (route.auth === 'admin' || route.auth === 'staff' || route.auth === 'admin-or-staff' || route.auth === 'secret-or-admin' ||
    (route.auth === 'secret' && actorToken)) {
    out.push(authErrors.tokenInvalid, authErrors.tokenType)
    if (route.auth === 'admin' || route.auth === 'secret-or-admin' || route.auth === 'admin-or-staff') out.push(authErrors.adminUnavailable)
    if (route.auth === 'staff' || route.auth === 'admin-or-staff') out.push(authErrors.staffUnavailable)
  }
  if ((route.auth === 'secret' || route.auth === 'secret-or-admin') && actorToken) {
    out.push(authErrors.actorUnavailable)
    if (route.scoped) out.push(authErrors.insufficient)
  }
  if (route.permission !== undefined) out.push(staffErrors.permissionDenied)
  if (route.body !== undefined) out.push(errors.loneSurrogate, errors.bodyTooLarge)
  if (route.body !== undefined || route.query !== undefined) out.push(...route.invalid ?? [errors.validation])
  if (route.tier !== 'exempt') out.push(errors.tooManyRequests)
  out.push(errors.databaseBusy, errors.databaseUnavailable, errors.databaseTimeout)
  return out
}

// A route's documented answers: its success bodies, and each error status with the catalogue entries behind it
// (their example bodies, as the wire carries them).
function responsesOf (route: DocumentedRoute, mode: AuthMode): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [status, schema] of Object.entries(route.responses ?? {})) {
    const description = reasons[status] ?? 'OK'
    if (schema === null || schema === undefined) out[status] = { description }
    else if (isBinary(schema)) {
      out[status] = { description, content: Object.fromEntries(schema.binary.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }])) }
    } else out[status] = { description, content: { 'application/json': { schema: outputSchemaOf(schema) } } }
  }
  const byStatus = new Map<number, ErrorEntry[]>()
  const seen = new Set<string>()
  for (const entry of [...route.errors ?? [], ...commonErrors(route, mode)]) {
    if (seen.has(entry.code)) continue
    seen.add(entry.code)
    byStatus.set(entry.status, [...byStatus.get(entry.status) ?? [], entry])
  }
  for (const [status, entries] of [...byStatus].sort(([a], [b]) => a - b)) {
    const examples: Record<string, unknown> = {}
    for (const entry of entries) examples[entry.code] = { summary: entry.text(...entry.example), value: entry(...entry.example).body }
    const headers = entries.some((entry) => 'Retry-After' in entry(...entry.example).headers)
      ? { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } } }
      : undefined
    out[status] = {
      description: entries.map((entry) => entry.code).join(', '),
      ...(headers === undefined ? {} : { headers }),
      content: { 'application/json': { examples } }
    }
  }
  return out
}

// Who may call: the apps' shared secret, a bearer token, or both at once (AUTH_MODE=strict: an app route needs the
// secret and the token of the actor it acts for). Alternatives are separate requirement objects.
function securityOf (auth: Auth, mode: AuthMode, signIn: boolean): Array<Record<string, string[]>> {
  const app: Record<string, string[]> = mode === 'strict' && !signIn ? { doctorSecret: [], bearer: [] } : { doctorSecret: [] }
  switch (auth) {
    case 'none': return []
    case 'secret': return [app]
    case 'admin': case 'staff': case 'admin-or-staff': return [{ bearer: [] }]
    case 'secret-or-admin': return [app, { bearer: [] }]
  }
}

const credentials: Record<Auth, string> = {
  none: 'No credentials.',
  secret: "The apps' `Doctor-Secret` header.",
  admin: "An admin's access token (`Authorization: Bearer`).",
  staff: "A staff member's token (`Authorization: Bearer`).",
  'admin-or-staff': "An admin's or a staff member's token (`Authorization: Bearer`).",
  'secret-or-admin': "The apps' `Doctor-Secret` header, or an admin's access token."
}

function descriptionOf (route: DocumentedRoute, mode: AuthMode): string {
  const lines = [credentials[route.auth]]
  if (route.auth === 'secret' || route.auth === 'secret-or-admin') {
    lines.push(route.signIn
      ? 'A sign-in route: it issues the actor token, so AUTH_MODE=strict asks only for the secret here.'
      : `AUTH_MODE=strict (this server: ${mode}) also asks for the bearer token of the actor (patient, secretary, doctor or admin)${route.scoped ? ', and refuses with 403 what that actor may not do' : ''}.`)
  }
  if (route.permission !== undefined) lines.push(`Needs the permission \`${route.permission}\`.`)
  if (route.mirror === true) lines.push('Also served under `/backend` (the legacy mirror): see the second server.')
  return lines.join(' ')
}

// `POST /api/patient_booking` → `postApiPatientBooking`: stable, unique (one operation per method and path) and
// what /docs deep-links to.
export function operationIdOf (method: string, pattern: string): string {
  const words = pattern.split(/[^A-Za-z0-9]+/).filter((word) => word !== '')
  // Legacy served a few paths with and without a trailing slash (`/admins/`): two operations, two ids.
  const slash = pattern.length > 1 && pattern.endsWith('/') ? 'Slash' : ''
  return method + (words.length === 0 ? 'Root' : words.map((word) => word[0]?.toUpperCase() + word.slice(1)).join('')) + slash
}

// The reference page's sections, by path; the first match wins.
const tags: Array<[RegExp, string, string]> = [
  [/^\/(health|healthz|stats|cache\/|$)/, 'Operations', 'The banner, health checks, statistics and the shared cache.'],
  [/^\/auth\/after-phone-login|^\/auth\/phones/, 'Phone sign-in', 'A Firebase ID token of a verified phone, exchanged for our tokens.'],
  [/payment/, 'Golden payments', 'What clinics owe for golden bookings.'],
  [/booking|_days|all_days|golden_code|table|archives|add_day/, 'Bookings', "A clinic's daily queues (regular and golden), bookings and their archives."],
  [/^\/auth\/(register|check-phone)|^\/api\/patients?[/_]|^\/patients/, 'Patients', 'Patient accounts and profiles (the patient app).'],
  [/^\/auth\/|^\/users\/|^\/activity|^\/backend\/|^\/admins/, 'Dashboard: accounts', "Admin sign-in, tokens, the signed-in user's account and the admins."],
  [/^\/(permissions|roles|staff)|^\/api\/staff/, 'Dashboard: staff', 'Staff members, their roles and permissions.'],
  [/^\/departments/, 'Dashboard: departments', "The clinic's departments."],
  [/secretary/, 'Secretaries', 'Secretary login codes and their status (the secretary app).'],
  [/^\/api\/(close_clinic|clinic\/info|maintenance)/, 'Clinic status', 'Closed clinics, clinic information and maintenance mode.'],
  [/_ads?\b|_ads?_|\/ads\b|_ad$/, 'Ads', 'Clinic ads and their images.'],
  [/doctor|lookups|clinics/, 'Doctors', 'Doctor profiles, the directory and account status.']
]

export function tagOf (pattern: string): string {
  return tags.find(([test]) => test.test(pattern))?.[1] ?? 'Other'
}

const tagDescriptions = new Map<string, string>(tags.map(([, name, description]) => [name, description]))

// The order /docs shows them in: what the apps call most first.
const tagOrder = ['Bookings', 'Secretaries', 'Patients', 'Phone sign-in', 'Doctors', 'Clinic status', 'Golden payments', 'Ads',
  'Dashboard: accounts', 'Dashboard: staff', 'Dashboard: departments', 'Operations']
const byTagOrder = (a: string, b: string): number => (tagOrder.indexOf(a) + 1 || tagOrder.length + 1) - (tagOrder.indexOf(b) + 1 || tagOrder.length + 1)

export function openApiDocument (routes: RouteDef[], mode: AuthMode): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const path = route.pattern.replace(/:(\w+)/g, '{$1}')
    const method = route.method === 'del' ? 'delete' : route.method
    const operation: Record<string, unknown> = { operationId: operationIdOf(method, route.pattern), tags: [tagOf(route.pattern)] }
    if (isDocumented(route)) {
      operation.summary = route.summary
      operation.description = descriptionOf(route, mode)
      operation.security = securityOf(route.auth, mode, route.signIn)
      if (route.permission !== undefined) operation['x-permission'] = route.permission
      if (route.body !== undefined) {
        const schema = schemaOf(route.body)
        const example = route.example === undefined ? {} : { example: route.example }
        const forms = route.form === true
          ? { 'application/x-www-form-urlencoded': { schema }, 'multipart/form-data': { schema } }
          : {}
        operation.requestBody = { required: true, content: { 'application/json': { schema, ...example }, ...forms } }
      }
      if (route.query !== undefined) {
        const query = schemaOf(route.query) as { properties?: Record<string, unknown>, required?: string[] }
        operation.parameters = Object.entries(query.properties ?? {}).map(([name, schema]) => ({
          name, in: 'query', required: query.required?.includes(name) ?? false, schema
        }))
      }
      operation.responses = responsesOf(route, mode)
    } else {
      // Undocumented: the test that every route is documented fails on it; the document stays valid meanwhile.
      operation.responses = { 200: { description: 'OK' } }
    }
    // The legacy server mounted these routers twice; one operation, two servers.
    if (route.mirror === true) operation.servers = [{ url: '/', description: 'this server' }, { url: '/backend', description: 'the legacy /backend mirror' }]
    const params = [...route.pattern.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
    if (params.length > 0) operation.parameters = [...(operation.parameters as unknown[] ?? []), ...params]
    paths[path] = { ...paths[path], [method]: operation }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tabeby API',
      version: VERSION,
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      description: [
        'Clinic booking API: the wire format of the legacy Tabeby apps (patient, secretary and doctor apps, admin dashboard).',
        'Errors keep the legacy shapes the apps parse (`{"detail": …}`, `{"error": {code, message}}`, FastAPI\'s 422 list) and add a `code`.',
        '',
        '**Credentials.** The apps send the shared `Doctor-Secret` header; the dashboard sends `Authorization: Bearer <token>` from `/auth/admin/auth` or `/staff/login`.',
        'With `AUTH_MODE=strict` the app routes also need the bearer token of the actor they act for (a patient, a secretary, a doctor or an admin), issued by the sign-in routes',
        '(`/api/secretary_login_code`, `/auth/register`, `/auth/after-phone-login`, `/auth/admin/auth`), and refuse what that actor may not do.',
        `This server runs AUTH_MODE=${mode}; each operation's security says what it needs here.`
      ].join('\n')
    },
    servers: [{ url: '/', description: 'this server' }],
    tags: [...new Set(routes.map((route) => tagOf(route.pattern)))].sort(byTagOrder).map((name) => ({ name, description: tagDescriptions.get(name) ?? 'Other routes.' })),
    components: {
      securitySchemes: {
        doctorSecret: { type: 'apiKey', in: 'header', name: 'Doctor-Secret', description: "The apps' shared secret (DOCTOR_PROFILE_SECRET)." },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "An admin's or staff member's access token for the dashboard; with AUTH_MODE=strict, an app route's actor token as well."
        }
      }
    },
    paths
  }
}
