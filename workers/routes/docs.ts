import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { CachedResponse } from '../../src/ipc/messages.ts'
import { compressed, replyFrom } from '../cache.ts'
import { json, type Reply, type Request } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { openApiDocument } from './openapi.ts'

// /openapi.json, and /docs: the interactive reference integrators opened on the legacy server (FastAPI's Swagger
// UI), rendered in the browser from /openapi.json by Swagger UI. Its scripts come from the swagger-ui-dist package
// installed with the server (pinned in package.json), served from here: no CDN, so the page works wherever the API
// does and loads nothing from elsewhere (the Content-Security-Policy says so).

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
const swaggerVersion = (createRequire(import.meta.url)('swagger-ui-dist/package.json') as { version: string }).version

// Deep links (`/docs#/Bookings/postApiPatientBooking`) open an operation with its example.
const init = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    displayOperationId: true,
    filter: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  })
})
`

const page = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tabeby API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css?v=${swaggerVersion}">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png?v=${swaggerVersion}">
</head>
<body>
<noscript>This reference needs JavaScript; the document itself is <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js?v=${swaggerVersion}"></script>
<script src="/docs/init.js?v=${swaggerVersion}"></script>
</body>
</html>
`

// Swagger UI styles elements inline; everything else is this server's own.
const pageHeaders = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache'
}

interface Asset {
  path: string
  contentType: string
  load: () => Promise<Uint8Array>
}

const fromPackage = (file: string) => async () => await readFile(join(swaggerDir, file))

const assets: Asset[] = [
  { path: '/docs/swagger-ui-bundle.js', contentType: 'text/javascript; charset=utf-8', load: fromPackage('swagger-ui-bundle.js') },
  { path: '/docs/swagger-ui.css', contentType: 'text/css; charset=utf-8', load: fromPackage('swagger-ui.css') },
  { path: '/docs/favicon-32x32.png', contentType: 'image/png', load: fromPackage('favicon-32x32.png') },
  { path: '/docs/init.js', contentType: 'text/javascript; charset=utf-8', load: async () => Buffer.from(init) }
]

// Read and compressed on a worker's first request for each (off the event loop), then kept: the bundle is 1.7 MB,
// about 0.4 MB as gzip.
function assetRoute (asset: Asset): RouteDef {
  let ready: Promise<CachedResponse> | undefined
  const etag = `"swagger-ui-${swaggerVersion}-${asset.path.slice('/docs/'.length)}"`
  return {
    method: 'get',
    pattern: asset.path,
    tier: 'exempt',
    handler: async (request) => {
      if (ready === undefined) {
        ready = asset.load().then(async (body) => await compressed(body, asset.contentType, 0, etag))
        ready.catch(() => { ready = undefined }) // a failed read is tried again by the next request
      }
      // Named by the package's version (the page asks with ?v=): a day in caches, revalidated by ETag after.
      return replyFrom(await ready, request, { 'Cache-Control': 'public, max-age=86400', 'X-Content-Type-Options': 'nosniff' })
    }
  }
}

// Before the page existed, /docs answered a JSON list of the routes; a client that asks for JSON still gets it.
function wantsJson (request: Request): boolean {
  const accept = request.headers.get('accept') ?? ''
  return accept.includes('application/json') && !accept.includes('text/html')
}

export function docsRoutes (ctx: WorkerContext, routes: RouteDef[]): RouteDef[] {
  const document = Buffer.from(JSON.stringify(openApiDocument(routes, ctx.config.authMode)))
  // About 600 KB, a tenth of that compressed; revalidated by its ETag, which changes with the routes.
  const documentEtag = `"openapi-${createHash('sha256').update(document).digest('hex').slice(0, 16)}"`
  let documentReply: Promise<CachedResponse> | undefined
  const list = routes.map((r) => `${r.method === 'del' ? 'DELETE' : r.method.toUpperCase()} ${r.pattern}`)
  const docs = (request: Request): Reply => wantsJson(request)
    ? json(200, { openapi: '/openapi.json', routes: list }, { Vary: 'Accept' })
    : { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8', Vary: 'Accept', ...pageHeaders }, body: page }
  return [
    {
      method: 'get',
      pattern: '/openapi.json',
      tier: 'exempt',
      handler: async (request) => {
        documentReply ??= compressed(document, 'application/json; charset=utf-8', 0, documentEtag)
        return replyFrom(await documentReply, request)
      }
    },
    { method: 'get', pattern: '/docs', tier: 'exempt', handler: docs },
    { method: 'get', pattern: '/docs/', tier: 'exempt', handler: docs },
    // FastAPI also served ReDoc there; one reference page now.
    { method: 'get', pattern: '/redoc', tier: 'exempt', handler: () => ({ status: 302, headers: { Location: '/docs' }, body: '' }) },
    ...assets.map(assetRoute)
  ]
}
