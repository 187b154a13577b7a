import { errors } from '../src/errors.ts'
import { json, type Handler, type Method } from './http.ts'
import type { Cors } from './cors.ts'

// What a known path answers to a method it has no route for. uWS hands such a request to the catch-all (`/*`),
// which would say 404 as if the path did not exist; this tells the client the methods the path takes instead:
// 405 with `Allow` (RFC 9110 §15.5.6), and OPTIONS answered for every known path, which is also the browsers' CORS
// preflight. HEAD is served by each GET route itself (headRoutes), as RFC 9110 §9.3.2 expects of a GET.

interface Pattern { method: Method, pattern: string }

const wire: Record<Method, string> = { get: 'GET', head: 'HEAD', post: 'POST', put: 'PUT', patch: 'PATCH', del: 'DELETE' }
const order: readonly Method[] = ['get', 'head', 'post', 'put', 'patch', 'del']

// Every GET route again for HEAD, with the same handler, tier and limits (the body is dropped on the way out,
// workers/http.ts). Registering HEAD per route keeps its rate-limit tier that of its GET.
export function headRoutes<R extends Pattern> (routes: readonly R[]): R[] {
  const heads = new Set(routes.filter((r) => r.method === 'head').map((r) => r.pattern))
  return routes.filter((r) => r.method === 'get' && !heads.has(r.pattern)).map((r) => ({ ...r, method: 'head' as const }))
}

// The methods that have a route matching `path`, matched as uWS matches: segments compared as sent, a `:param`
// takes one non-empty segment. Any match counts: for each of these methods uWS would have found a route.
export function methodMatcher (routes: readonly Pattern[]): (path: string) => string[] {
  const bySegments = new Map<number, Array<{ method: Method, segments: string[] }>>()
  for (const route of routes) {
    const segments = route.pattern.split('/')
    const list = bySegments.get(segments.length) ?? []
    list.push({ method: route.method, segments })
    bySegments.set(segments.length, list)
  }
  return (path) => {
    const sent = path.split('/')
    const found = new Set<Method>()
    for (const { method, segments } of bySegments.get(sent.length) ?? []) {
      if (found.has(method)) continue
      if (segments.every((want, i) => want.startsWith(':') ? sent[i] !== '' : want === sent[i])) found.add(method)
    }
    return order.filter((method) => found.has(method)).map((method) => wire[method])
  }
}

// The catch-all's handler: 404 for an unknown path, the preflight or a plain OPTIONS answer for a known one, and
// 405 for any other method there.
export function unmatched (routes: readonly Pattern[], cors: Cors): Handler {
  const methodsOf = methodMatcher(routes)
  return (request) => {
    const methods = methodsOf(request.path)
    if (methods.length === 0) throw errors.notFound()
    const allow = [...methods, 'OPTIONS'].join(', ')
    if (request.method === 'OPTIONS') {
      return { status: 204, headers: { Allow: allow, ...cors.preflight(request.headers, methods) }, body: '' }
    }
    const error = errors.methodNotAllowed()
    return json(error.status, error.body, { ...error.headers, Allow: allow })
  }
}
