import { z } from 'zod'
import { adErrors } from '../../../src/errors.ts'
import { SECRETARIES } from '../../../src/auth/actors.ts'
import { hasUnstorableText } from '../../../src/clinics/profile.ts'
import { asciiDigits, payloadOf } from '../../../src/ads/payload.ts'
import { adByPublicId, updateAd, type AdFields } from '../../../src/ads/store.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { parseUpload, type FormFile } from '../../forms.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import { announceAds, checkedImage, clinicOfNamedAd, imageOfText, publicBase, storeUpload, type CheckedImage } from './shared.ts'

// POST /api/update_ad_with_image: the one multipart route. The image is read by its bytes (PNG, JPEG or WebP, at most
// MAX_AD_IMAGE_BYTES) and stored once; the legacy server wrote any upload into the ad as a base64 JPEG data URI,
// whatever it was. This route's body limit is the image's plus room for the text fields, for this route alone.

const FORM_ROOM = 64 * 1024
const TEXT_FIELDS = ['clinic_name', 'ad_subtitle', 'ad_description', 'ad_phonenumber', 'ad_state', 'ad_discount', 'ad_price', 'ad_address', 'team_message'] as const

const storable = (value: string): boolean => !hasUnstorableText(value)
const formText = z.string().max(4000).refine(storable, 'text must not contain NUL characters or unpaired surrogates').optional()

// The form as legacy's Form() parameters took it: every field text, ad_ID required, one file field `image`.
const formBody = z.object({
  ad_ID: z.string({ message: 'Field required' }).min(1, 'Field required').max(128).refine(storable, 'text must not contain NUL characters or unpaired surrogates'),
  ad_image_url: z.string().max(8192).refine(storable, 'text must not contain NUL characters or unpaired surrogates').optional(),
  image: z.custom<FormFile>().optional(),
  ...Object.fromEntries(TEXT_FIELDS.map((name) => [name, formText])) as Record<typeof TEXT_FIELDS[number], typeof formText>
})

export function updateWithImageRoute (ctx: WorkerContext, message: string): DocumentedRoute {
  const limits = { fileSize: ctx.config.maxAdImageBytes, files: 2, fields: 30, fieldSize: 8192 }
  // Form fields are all text, so a bad one is a FastAPI 422 here (a missing ad_ID too), not the router's 400.
  return defineRoute(ctx, {
    method: 'post',
    pattern: '/api/update_ad_with_image',
    summary: "Change an ad's fields and its image (multipart form: ad_ID, image or ad_image_url, text fields)",
    auth: 'secret',
    body: formBody,
    example: { ad_ID: '3', ad_subtitle: 'خصم على تبييض الأسنان', ad_state: 'بغداد' },
    form: true,
    maxBodyBytes: ctx.config.maxAdImageBytes + FORM_ROOM,
    readBody: async (request) => {
      const form = await parseUpload(request.headers.get('content-type'), request.body, limits, adErrors.formInvalid)
      // Legacy read the `image` field only, and only when it came with a file name.
      const image = form.files.find((file) => file.field === 'image' && file.filename !== '')
      return { ...form.fields, ...(image === undefined ? {} : { image }) }
    },
    scope: { actors: SECRETARIES, clinicId: ({ body }) => clinicOfNamedAd(ctx, body.ad_ID) },
    responses: { 200: z.object({ message: z.string(), ad_ID: z.string(), updated_data: z.record(z.string(), z.unknown()) }) },
    errors: [adErrors.notFoundShown, adErrors.formInvalid, adErrors.imageEmpty, adErrors.imageTooLarge, adErrors.imageUnsupported],
    handler: async ({ body, request }) => {
      const fields: AdFields = {}
      let upload: CheckedImage | null = null
      // A URL the app uploaded elsewhere wins over a file, as in legacy.
      if (body.ad_image_url !== undefined && body.ad_image_url !== '') {
        const image = await imageOfText(ctx, body.ad_image_url)
        fields.image = image.ref
        upload = image.upload
      } else if (body.image !== undefined) {
        upload = checkedImage(ctx, body.image.bytes, body.image.truncated)
        fields.image = { sha256: upload.sha256 }
      }
      for (const name of TEXT_FIELDS) {
        const value = body[name]
        if (value === undefined) continue
        fields[name] = name === 'ad_phonenumber' || name === 'ad_discount' || name === 'ad_price' ? asciiDigits(value) : value
      }
      const row = await ctx.db.transaction(async (tx) => {
        if (await adByPublicId(tx, body.ad_ID, true) === null) return null
        await storeUpload(tx, upload)
        return await updateAd(tx, body.ad_ID, fields)
      })
      if (row === null) throw adErrors.notFoundShown()
      await announceAds(ctx)
      return json(200, { message, ad_ID: body.ad_ID, updated_data: payloadOf(row, publicBase(ctx, request)) })
    }
  })
}
