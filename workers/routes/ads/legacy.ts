import { z } from 'zod'
import { adErrors } from '../../../src/errors.ts'
import { ADMINS_ONLY } from '../../../src/auth/actors.ts'
import { expiryOf, legacyBool, priceDigits, rawOf, rawPayloadOf } from '../../../src/ads/payload.ts'
import { adById, adsOfClinic, insertAd, type AdFields } from '../../../src/ads/store.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import { pathId } from '../doctors/wire.ts'
import { adBool, adDigits, adLocation, adShape, adText, announceAds, clinicIdOf, imageOfText, imageText, jsonImageLimit, publicBase, storeUpload } from './shared.ts'

// The older ad routes (legacy-api.md §2.12 "Legacy"): an ad posted whole, and read back by row id or by clinic. The
// legacy server left all three open to anyone; they take the app secret like every other ads route.

const rawAd = z.object({
  id: z.number().int(),
  clinic_id: z.number().int(),
  ad_status: z.boolean(),
  created_at: z.string(),
  data: z.record(z.string(), z.unknown())
})

export function adLegacyRoutes (ctx: WorkerContext): DocumentedRoute[] {
  // The fields of an ad; legacy stored any key it was sent, we store these (COMPATIBILITY.md).
  const postBody = z.object({
    clinic_id: z.unknown().optional(),
    request_date: adText(100),
    created_date: adText(100),
    clinic_name: adText(300),
    ad_subtitle: adText(500),
    ad_description: adText(4000),
    ad_address: adText(500),
    ad_phonenumber: adDigits,
    ad_state: adText(200),
    ad_discount: adDigits,
    ad_price: z.union([z.string().max(64), z.number()]).nullable().optional(),
    team_message: adText(2000),
    ad_image_url: imageText(ctx),
    ad_status: adBool,
    expired_date: adText(100),
    clinic_address: adText(500),
    ad_location: adLocation
  })

  return [
    adShape(defineRoute(ctx, {
      method: 'post',
      pattern: '/api/ads',
      summary: 'Post an ad whole (the older dashboard form); ad_status as sent, no expiry unless expired_date is sent',
      auth: 'secret',
      body: postBody,
      example: { clinic_id: 7, clinic_name: 'عيادة د. علي حسن', ad_subtitle: 'خصم على تنظيف الأسنان', ad_description: 'تنظيف وتلميع الأسنان بخصم خاص لمدة شهر', ad_address: 'بغداد - المنصور', ad_phonenumber: '07701234567', ad_state: 'بغداد', ad_discount: '٢٠', ad_price: '25000', team_message: '', request_date: '14/11/2025' },
      maxBodyBytes: jsonImageLimit(ctx),
      scope: { actors: ADMINS_ONLY },
      responses: { 200: z.object({ message: z.literal('success'), ad_id: z.number().int(), clinic_id: z.number().int(), data: z.record(z.string(), z.unknown()) }) },
      errors: [adErrors.bodyNotObject, adErrors.clinicIdNumeric, adErrors.fieldInvalid, adErrors.imageEmpty, adErrors.imageTooLarge, adErrors.imageUnsupported],
      handler: async ({ body, request }) => {
        const clinicId = clinicIdOf(body.clinic_id)
        if (clinicId === null) throw adErrors.clinicIdNumeric()
        const fields: AdFields = { ad_status: legacyBool(body.ad_status) }
        for (const key of ['request_date', 'created_date', 'clinic_name', 'ad_subtitle', 'ad_description', 'ad_address', 'ad_phonenumber', 'ad_state', 'ad_discount', 'team_message', 'clinic_address'] as const) {
          if (body[key] !== undefined) fields[key] = body[key]
        }
        // Legacy coerced the price to the number its digits spell, or nothing.
        if (body.ad_price !== undefined) fields.ad_price = body.ad_price === null ? null : priceDigits(body.ad_price)
        if (body.ad_location !== undefined) fields.ad_location = body.ad_location as AdFields['ad_location']
        if (typeof body.expired_date === 'string') {
          fields.expired_date = body.expired_date
          fields.expires_at = expiryOf(body.expired_date)
        }
        const image = typeof body.ad_image_url === 'string' ? await imageOfText(ctx, body.ad_image_url) : null
        if (image !== null) fields.image = image.ref
        const row = await ctx.db.transaction(async (tx) => {
          await storeUpload(tx, image?.upload ?? null)
          return await insertAd(tx, clinicId, fields)
        })
        await announceAds(ctx)
        return json(200, { message: 'success', ad_id: row.id, clinic_id: row.clinic_id, data: rawPayloadOf(row, publicBase(ctx, request)) })
      }
    }), adErrors.bodyNotObject),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/ads/by-clinic/:clinic_id',
      summary: "A clinic's ads by row, newest first",
      auth: 'secret',
      responses: { 200: z.object({ items: z.array(rawAd), count: z.number().int() }) },
      handler: async ({ params, request }) => {
        const clinicId = pathId(params[0], 'clinic_id')
        const base = publicBase(ctx, request)
        const items = (await ctx.db.run((sql) => adsOfClinic(sql, clinicId))).map((row) => rawOf(row, base))
        return json(200, { items, count: items.length })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/ads/:ad_id',
      summary: 'One ad by its row id',
      auth: 'secret',
      responses: { 200: rawAd },
      errors: [adErrors.notFound],
      handler: async ({ params, request }) => {
        const row = await ctx.db.run((sql) => adById(sql, pathId(params[0], 'ad_id')))
        if (row === null) throw adErrors.notFound()
        return json(200, rawOf(row, publicBase(ctx, request)))
      }
    })
  ]
}
