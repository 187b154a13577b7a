import { z } from 'zod'
import { json } from '../http.ts'
import type { RouteDef } from '../context.ts'
import type { DocumentedRoute } from './define.ts'
import type { ErrorEntry } from '../../src/errors.ts'
import { VERSION } from './ops.ts'

// The OpenAPI document, generated from the same zod schemas that validate each route: documentation that cannot
// drift from what the server accepts.

function isDocumented (route: RouteDef): route is DocumentedRoute {
  return 'summary' in route
}

function schemaOf (schema: z.ZodType): Record<string, unknown> {
  // Input side: what a client sends (before our coercions), with anything JSON Schema cannot express left open.
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
}

function outputSchemaOf (schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>
}

// A route's documented answers: its success bodies, and each error status with the catalogue entries behind it
// (their example bodies, as the wire carries them).
function responsesOf (route: DocumentedRoute): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [status, schema] of Object.entries(route.responses ?? {})) {
    out[status] = schema === null || schema === undefined
      ? { description: status === '204' ? 'No Content' : 'OK' }
      : { description: 'OK', content: { 'application/json': { schema: outputSchemaOf(schema) } } }
  }
  if (Object.keys(out).length === 0) out[200] = { description: 'OK' }
  const byStatus = new Map<number, ErrorEntry[]>()
  for (const entry of route.errors ?? []) byStatus.set(entry.status, [...byStatus.get(entry.status) ?? [], entry])
  for (const [status, entries] of byStatus) {
    const examples: Record<string, unknown> = {}
    for (const entry of entries) examples[entry.code] = { summary: entry.text(...entry.example), value: entry(...entry.example).body }
    out[status] = { description: entries.map((entry) => entry.code).join(', '), content: { 'application/json': { examples } } }
  }
  return out
}

const security = {
  secret: [{ doctorSecret: [] }],
  admin: [{ bearer: [] }],
  staff: [{ bearer: [] }],
  'admin-or-staff': [{ bearer: [] }],
  'secret-or-admin': [{ doctorSecret: [] }, { bearer: [] }],
  none: []
} as const

export function openApiDocument (routes: RouteDef[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const path = route.pattern.replace(/:(\w+)/g, '{$1}')
    const method = route.method === 'del' ? 'delete' : route.method
    const operation: Record<string, unknown> = { responses: { 200: { description: 'OK' } } }
    if (isDocumented(route)) {
      operation.responses = responsesOf(route)
      operation.summary = route.summary
      operation.security = security[route.auth]
      if (route.permission !== undefined) operation['x-permission'] = route.permission
      if (route.body !== undefined) {
        const schema = schemaOf(route.body)
        const forms = route.form === true ? { 'application/x-www-form-urlencoded': { schema }, 'multipart/form-data': { schema } } : {}
        operation.requestBody = { content: { 'application/json': { schema }, ...forms } }
      }
      if (route.query !== undefined) {
        const query = schemaOf(route.query) as { properties?: Record<string, unknown>, required?: string[] }
        operation.parameters = Object.entries(query.properties ?? {}).map(([name, schema]) => ({
          name, in: 'query', required: query.required?.includes(name) ?? false, schema
        }))
      }
    }
    const params = [...route.pattern.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
    if (params.length > 0) operation.parameters = [...(operation.parameters as unknown[] ?? []), ...params]
    paths[path] = { ...paths[path], [method]: operation }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Tabeby API', version: VERSION, description: 'Clinic booking API; the wire format of the legacy Tabeby apps (see docs/COMPATIBILITY.md).' },
    components: {
      securitySchemes: {
        doctorSecret: { type: 'apiKey', in: 'header', name: 'Doctor-Secret' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }
      }
    },
    paths
  }
}

export function openApiRoutes (routes: RouteDef[]): RouteDef[] {
  const document = JSON.stringify(openApiDocument(routes))
  return [
    { method: 'get', pattern: '/openapi.json', tier: 'exempt', handler: () => ({ status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: document }) },
    {
      method: 'get',
      pattern: '/docs',
      tier: 'exempt',
      handler: () => json(200, { openapi: '/openapi.json', routes: routes.map((r) => `${r.method === 'del' ? 'DELETE' : r.method.toUpperCase()} ${r.pattern}`) })
    }
  ]
}
