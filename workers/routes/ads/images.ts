import { adErrors } from '../../../src/errors.ts'
import { imageBySha } from '../../../src/ads/store.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import { etagMatches } from '../../negotiate.ts'

// An uploaded ad image, served by the SHA-256 of its bytes. The URL names the content, so the answer never changes:
// the apps (and any proxy) may keep it for a year, and a revalidation is a 304 without reading the database.

const SHA256 = /^[0-9a-f]{64}$/

export function adImageRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/ads/images/:sha256',
      summary: 'An ad image uploaded here (PNG, JPEG or WebP), cached for a year',
      // Public, like the images the apps link from their own storage: an image tag sends no app secret.
      auth: 'none',
      responses: { 200: null, 304: null }, // the image's bytes, image/png, image/jpeg or image/webp; no JSON
      errors: [adErrors.imageNotFound],
      handler: async ({ params, request }) => {
        const sha = params[0] ?? ''
        if (!SHA256.test(sha)) throw adErrors.imageNotFound()
        const etag = `"${sha}"`
        const headers = { ETag: etag, 'Cache-Control': 'public, max-age=31536000, immutable', 'X-Content-Type-Options': 'nosniff' }
        // A tag the client holds needs no lookup; `*` asks whether the image exists, which only the lookup knows.
        const held = request.headers.get('if-none-match')
        if (held?.trim() !== '*' && etagMatches(held, etag)) return { status: 304, headers, body: '' }
        const image = await ctx.db.run((sql) => imageBySha(sql, sha))
        if (image === null) throw adErrors.imageNotFound()
        if (etagMatches(held, etag)) return { status: 304, headers, body: '' }
        return { status: 200, headers: { ...headers, 'Content-Type': image.content_type }, body: image.bytes }
      }
    })
  ]
}
