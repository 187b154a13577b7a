import { z } from 'zod'
import { adErrors } from '../../../src/errors.ts'
import { ADMINS_ONLY } from '../../../src/auth/actors.ts'
import { activeListedOf, listedOf, shortOf, type AdRow } from '../../../src/ads/payload.ts'
import { adByPublicId, adsOfClinic, listAds } from '../../../src/ads/store.ts'
import { json, type Reply, type Request } from '../../http.ts'
import { cachedJson, replyFrom } from '../../cache.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, field, type DocumentedRoute } from '../define.ts'
import { isAdId, publicBase } from './shared.ts'

// Reading ads (legacy-api.md §2.12): the doctor app's lookups and the two active listings the patient app shows on
// every start, which come from the shared cache (architecture.md §4) and are dropped by every ads write.

const lookupQuery = z.object({
  ad_ID: z.string().max(128).refine((value) => value === '' || isAdId(value), 'ad_ID must be text without NUL characters').optional(),
  // FastAPI's Optional[int]: a non-integer is its 422; 0 counts as not sent, as legacy's `elif clinic_id:`.
  clinic_id: z.union([field.id('clinic_id'), z.literal('0').transform(() => 0)]).optional()
})

const shortAd = z.object({
  ad_ID: z.string(),
  ad_image: z.string().nullable().describe('a URL: the app’s own, or ours for an image uploaded here'),
  ad_state: z.string().nullable(),
  clinic_id: z.number().int(),
  ad_status: z.boolean(),
  expired_date: z.string().nullable()
})
const shortList = z.object({ items: z.array(shortAd), count: z.number().int() })
const fullList = z.object({ items: z.array(z.record(z.string(), z.unknown())), count: z.number().int() })

export function adReadRoutes (ctx: WorkerContext): DocumentedRoute[] {
  // The active ads, rendered once per version for the host the client used (the image URLs carry it).
  const activeList = async (request: Request, form: 'short' | 'full'): Promise<Reply> => {
    const base = publicBase(ctx, request)
    const entry = await ctx.cache.read(`ads:active:${form}:${base}`, 'ads:0', async () => {
      const version = Date.now()
      const rows = await ctx.db.run((sql) => listAds(sql, true))
      const items = rows.map((row: AdRow) => form === 'short' ? shortOf(row, base) : activeListedOf(row, base))
      return await cachedJson({ items, count: items.length }, version, `"a${form[0]}-${version}"`)
    })
    if (entry === null) throw new Error('the active ads listing rendered nothing')
    return replyFrom(entry, request)
  }

  return [
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/get_ad_image',
      summary: 'One ad by ?ad_ID=, or a clinic’s ads by ?clinic_id=, in the short form',
      auth: 'secret',
      query: lookupQuery,
      responses: { 200: z.union([shortAd, shortList]) },
      errors: [adErrors.notFound, adErrors.lookupMissing],
      handler: async ({ query, request }) => {
        const base = publicBase(ctx, request)
        if (query.ad_ID !== undefined && query.ad_ID !== '') {
          const row = await ctx.db.run((sql) => adByPublicId(sql, query.ad_ID as string))
          if (row === null) throw adErrors.notFound()
          return json(200, shortOf(row, base))
        }
        if (query.clinic_id === undefined || query.clinic_id === 0) throw adErrors.lookupMissing()
        const clinicId = query.clinic_id
        const items = (await ctx.db.run((sql) => adsOfClinic(sql, clinicId))).map((row) => shortOf(row, base))
        return json(200, { items, count: items.length })
      }
    }),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/get_all_ads',
      summary: 'The active ads, short form (cached; ETag)',
      auth: 'secret',
      responses: { 200: shortList },
      handler: async ({ request }) => await activeList(request, 'short')
    }),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/clinic_ads',
      summary: 'The active ads with every field and the doctor’s name (cached; ETag)',
      auth: 'secret',
      responses: { 200: fullList },
      handler: async ({ request }) => await activeList(request, 'full')
    }),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/clinic_ads_all',
      summary: 'Every ad, active or not, with every field and the doctor’s name (the dashboard)',
      auth: 'secret',
      scope: { actors: ADMINS_ONLY },
      responses: { 200: fullList },
      handler: async ({ request }) => {
        const base = publicBase(ctx, request)
        const items = (await ctx.db.run((sql) => listAds(sql, false))).map((row) => listedOf(row, base))
        return json(200, { items, count: items.length })
      }
    })
  ]
}
