import { z } from 'zod'
import { json } from '../http.ts'
import type { RouteDef } from '../context.ts'
import type { DocumentedRoute } from './define.ts'
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

const security = {
  secret: [{ doctorSecret: [] }],
  admin: [{ bearer: [] }],
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
      operation.summary = route.summary
      operation.security = security[route.auth]
      if (route.body !== undefined) operation.requestBody = { content: { 'application/json': { schema: schemaOf(route.body) } } }
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
