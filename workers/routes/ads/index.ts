import type { WorkerContext } from '../../context.ts'
import type { DocumentedRoute } from '../define.ts'
import { adWriteRoutes } from './manage.ts'
import { adReadRoutes } from './reads.ts'
import { adLegacyRoutes } from './legacy.ts'
import { adImageRoutes } from './images.ts'

// Clinic ads (legacy-api.md §2.12; not mirrored under /backend). Rules and rendering live in src/ads/, SQL in
// src/ads/store.ts; these modules are the wire, one file per resource.
export function adRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    ...adWriteRoutes(ctx), // the doctor app's and the dashboard's writes, by ad_ID (incl. the multipart upload)
    ...adReadRoutes(ctx), // lookups and the cached active listings
    ...adLegacyRoutes(ctx), // /api/ads: the older routes by row id
    ...adImageRoutes(ctx) // /api/ads/images/<sha256>
  ]
}
