import { z } from 'zod'
import { adErrors } from '../../../src/errors.ts'
import { iraqToday } from '../../../src/domain/calendar.ts'
import { ADMINS_ONLY, SECRETARIES } from '../../../src/auth/actors.ts'
import { EXPIRY_ON_ACTIVATION, legacyBool, payloadOf, shortOf } from '../../../src/ads/payload.ts'
import { adByPublicId, deleteAd, insertAd, toggleAd, updateAd, type AdFields } from '../../../src/ads/store.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import {
  adBool, adDigits, adLocation, adShape, adText, announceAds, clinicIdOf, clinicOfNamedAd, imageOfText, imageText,
  isAdId, jsonImageLimit, missing, publicBase, storeUpload
} from './shared.ts'
import { updateWithImageRoute } from './upload.ts'

// The doctor app's and the dashboard's ad writes (legacy-api.md §2.12), found by the public ad_ID, which is indexed
// here (legacy scanned every ad's JSON for it).

const adUpdated = 'تم تحديث الإعلان بنجاح'

// Legacy `payload: dict` routes: any object, the handler reads what it needs.
const adIdBody = z.object({ ad_ID: z.unknown().optional() })

// The documented answers (OpenAPI only).
const shortAd = z.object({
  ad_ID: z.string(), ad_image: z.string().nullable(), ad_state: z.string().nullable(), clinic_id: z.number().int(),
  ad_status: z.boolean(), expired_date: z.string().nullable()
})
const updatedAd = z.object({ message: z.string(), ad_ID: z.string(), updated_data: z.record(z.string(), z.unknown()) })

// The ad an ad_ID names: missing → 400, anything but a known id → 404 (legacy compared it with every ad's).
function namedAdId (raw: unknown): string {
  if (missing(raw)) throw adErrors.adIdRequired()
  if (!isAdId(raw)) throw adErrors.notFound()
  return raw
}

export function adWriteRoutes (ctx: WorkerContext): DocumentedRoute[] {
  const createBody = z.object({
    clinic_id: z.unknown().optional(),
    ad_image_url: imageText(ctx),
    ad_state: adText(200),
    request_date: adText(100),
    clinic_name: adText(300),
    ad_subtitle: adText(500),
    ad_description: adText(4000),
    ad_address: adText(500),
    ad_phonenumber: adDigits,
    ad_discount: adDigits,
    ad_price: adDigits,
    team_message: adText(2000),
    ad_status: adBool // read and ignored: a new ad waits for the dashboard to activate it
  })

  // update_ad's allowed fields; `ad_phone` and `discount_percentage` are older names of two of them.
  const updateBody = z.object({
    ad_ID: z.unknown().optional(),
    created_date: adText(100),
    request_date: adText(100),
    clinic_name: adText(300),
    ad_subtitle: adText(500),
    ad_image_url: imageText(ctx),
    ad_status: adBool,
    ad_phone: adDigits,
    ad_phonenumber: adDigits,
    ad_description: adText(4000),
    ad_address: adText(500),
    ad_state: adText(200),
    ad_price: adDigits,
    discount_percentage: adDigits,
    ad_discount: adDigits,
    clinic_address: adText(500),
    ad_location: adLocation
  })

  return [
    adShape(defineRoute(ctx, {
      method: 'post',
      pattern: '/api/create_clinic_ad',
      summary: "A clinic's ad request from the doctor app; it stays inactive until the dashboard activates it",
      auth: 'secret',
      body: createBody,
      example: { clinic_id: 7, clinic_name: 'عيادة د. علي حسن', ad_subtitle: 'خصم على تنظيف الأسنان', ad_description: 'تنظيف وتلميع الأسنان بخصم خاص لمدة شهر', ad_address: 'بغداد - المنصور', ad_phonenumber: '07701234567', ad_state: 'بغداد', ad_discount: '٢٠', ad_price: '25000', team_message: '', request_date: '14/11/2025' },
      maxBodyBytes: jsonImageLimit(ctx), // ad_image_url may be a data URI
      scope: { actors: SECRETARIES, clinicId: ({ body }) => clinicIdOf(body.clinic_id) },
      responses: { 200: shortAd },
      errors: [adErrors.bodyNotObject, adErrors.fieldRequired, adErrors.clinicIdNotNumber, adErrors.fieldInvalid, adErrors.imageEmpty, adErrors.imageTooLarge, adErrors.imageUnsupported],
      handler: async ({ body, request }) => {
        for (const field of ['clinic_id', 'ad_image_url', 'ad_state'] as const) if (missing(body[field])) throw adErrors.fieldRequired(field)
        const clinicId = clinicIdOf(body.clinic_id)
        if (clinicId === null) throw adErrors.clinicIdNotNumber()
        const image = await imageOfText(ctx, body.ad_image_url as string)
        const row = await ctx.db.transaction(async (tx) => {
          await storeUpload(tx, image.upload)
          return await insertAd(tx, clinicId, {
            request_date: body.request_date ?? iraqToday().split('-').reverse().join('/'),
            clinic_name: body.clinic_name ?? '',
            ad_subtitle: body.ad_subtitle ?? '',
            ad_description: body.ad_description ?? '',
            ad_address: body.ad_address ?? '',
            ad_phonenumber: body.ad_phonenumber ?? '',
            ad_state: body.ad_state,
            ad_discount: body.ad_discount ?? '',
            ad_price: body.ad_price ?? '',
            team_message: body.team_message ?? '',
            image: image.ref,
            ad_status: false,
            expired_date: EXPIRY_ON_ACTIVATION
          })
        })
        await announceAds(ctx)
        return json(200, shortOf(row, publicBase(ctx, request)))
      }
    }), adErrors.bodyNotObject),

    adShape(defineRoute(ctx, {
      method: 'post',
      pattern: '/api/toggle_ad_status',
      summary: 'Switch an ad on (for 24 hours from now) or off',
      auth: 'secret',
      body: adIdBody,
      example: { ad_ID: 3 },
      // Switching an ad on publishes it: the dashboard's decision, not the clinic's.
      scope: { actors: ADMINS_ONLY },
      responses: { 200: z.object({ message: z.string(), ad_ID: z.string(), old_status: z.boolean(), new_status: z.boolean() }) },
      errors: [adErrors.adIdRequired, adErrors.notFound],
      handler: async ({ body }) => {
        const publicId = namedAdId(body.ad_ID)
        const flipped = await ctx.db.transaction((tx) => toggleAd(tx, publicId))
        if (flipped === null) throw adErrors.notFound()
        await announceAds(ctx)
        return json(200, { message: 'تم تغيير حالة الإعلان بنجاح', ad_ID: publicId, old_status: flipped.old, new_status: flipped.new })
      }
    })),

    adShape(defineRoute(ctx, {
      method: 'post',
      pattern: '/api/delete_ad',
      summary: 'Delete an ad for good',
      auth: 'secret',
      body: adIdBody,
      example: { ad_ID: 3 },
      scope: { actors: SECRETARIES, clinicId: ({ body }) => clinicOfNamedAd(ctx, body.ad_ID) },
      responses: { 200: z.object({ message: z.string(), ad_ID: z.string(), deleted: z.literal(true) }) },
      errors: [adErrors.adIdRequired, adErrors.notFound],
      handler: async ({ body }) => {
        const publicId = namedAdId(body.ad_ID)
        if (!await ctx.db.run((sql) => deleteAd(sql, publicId))) throw adErrors.notFound()
        await announceAds(ctx)
        return json(200, { message: 'تم حذف الإعلان بنجاح', ad_ID: publicId, deleted: true })
      }
    })),

    adShape(defineRoute(ctx, {
      method: 'post',
      pattern: '/api/update_ad',
      summary: "Change an ad's fields (the allowed ones); setting ad_status here sets no expiry, as legacy",
      auth: 'secret',
      body: updateBody,
      example: { ad_ID: 3, ad_subtitle: 'خصم على تبييض الأسنان', discount_percentage: '٣٠', ad_status: true },
      maxBodyBytes: jsonImageLimit(ctx),
      scope: {
        actors: SECRETARIES,
        clinicId: ({ body }) => clinicOfNamedAd(ctx, body.ad_ID),
        adminAction: ({ body }) => body.ad_status !== undefined && legacyBool(body.ad_status)
      },
      responses: { 200: updatedAd },
      errors: [adErrors.adIdRequired, adErrors.notFound, adErrors.fieldInvalid, adErrors.imageEmpty, adErrors.imageTooLarge, adErrors.imageUnsupported],
      handler: async ({ body, request }) => {
        const publicId = namedAdId(body.ad_ID)
        const fields: AdFields = {}
        if (body.created_date !== undefined) fields.created_date = body.created_date
        if (body.request_date !== undefined) fields.request_date = body.request_date
        if (body.clinic_name !== undefined) fields.clinic_name = body.clinic_name
        if (body.ad_subtitle !== undefined) fields.ad_subtitle = body.ad_subtitle
        if (body.ad_status !== undefined) fields.ad_status = legacyBool(body.ad_status)
        // Legacy walked its field list in order, so the newer name wins when both come.
        const phone = body.ad_phonenumber !== undefined ? body.ad_phonenumber : body.ad_phone
        if (phone !== undefined) fields.ad_phonenumber = phone
        if (body.ad_description !== undefined) fields.ad_description = body.ad_description
        if (body.ad_address !== undefined) fields.ad_address = body.ad_address
        if (body.ad_state !== undefined) fields.ad_state = body.ad_state
        if (body.ad_price !== undefined) fields.ad_price = body.ad_price
        const discount = body.ad_discount !== undefined ? body.ad_discount : body.discount_percentage
        if (discount !== undefined) fields.ad_discount = discount
        if (body.clinic_address !== undefined) fields.clinic_address = body.clinic_address
        if (body.ad_location !== undefined) fields.ad_location = body.ad_location as AdFields['ad_location']
        const image = typeof body.ad_image_url === 'string' ? await imageOfText(ctx, body.ad_image_url) : null
        if (image !== null) fields.image = image.ref
        else if (body.ad_image_url === null) fields.image = { url: null }
        const row = await ctx.db.transaction(async (tx) => {
          if (await adByPublicId(tx, publicId, true) === null) return null
          await storeUpload(tx, image?.upload ?? null)
          return await updateAd(tx, publicId, fields)
        })
        if (row === null) throw adErrors.notFound()
        await announceAds(ctx)
        return json(200, { message: adUpdated, ad_ID: publicId, updated_data: payloadOf(row, publicBase(ctx, request)) })
      }
    })),

    updateWithImageRoute(ctx, adUpdated)
  ]
}
