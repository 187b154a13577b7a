import { customError } from './entry.ts'

// Clinic ads (legacy-api.md §2.12). The ads router answered its own checks in the custom {"error": {code, message}}
// shape, with `bad_request` and `not_found` for several meanings; each has its own entry, the wire keeps the legacy
// code. Bodies that are not objects keep FastAPI's 422 list where the legacy route declared a dict (errors.validation).

export const adErrors = {
  bodyNotObject: customError(400, 'ad_body_not_object', 'Invalid JSON body', { wire: 'bad_request' }),
  clinicIdNumeric: customError(400, 'ad_clinic_id_invalid', 'clinic_id must be provided and numeric', { wire: 'bad_request' }),
  fieldRequired: customError(400, 'ad_field_required', (field: string) => `${field} is required`,
    { wire: 'bad_request', shown: (field: string) => `${field} مطلوب`, example: ['ad_state'] }),
  clinicIdNotNumber: customError(400, 'ad_clinic_id_not_number', 'clinic_id must be a number', { wire: 'bad_request', shown: 'clinic_id يجب أن يكون رقماً' }),
  // A field of the wrong type (legacy stored whatever came, or failed with a 500).
  fieldInvalid: customError(400, 'ad_field_invalid', (message: string) => message, { wire: 'bad_request', example: ['ad_state must be text'] }),
  adIdRequired: customError(400, 'ad_id_required', 'ad_ID is required', { wire: 'bad_request' }),
  lookupMissing: customError(400, 'ad_lookup_missing', 'Either ad_ID or clinic_id is required', { wire: 'bad_request' }),
  notFound: customError(404, 'ad_not_found', 'Ad not found', { wire: 'not_found' }),
  // update_ad_with_image said it in Arabic.
  notFoundShown: customError(404, 'ad_not_found_ar', 'Ad not found', { wire: 'not_found', shown: 'الإعلان غير موجود' }),
  formInvalid: customError(400, 'ad_form_invalid', 'the multipart form could not be read', { wire: 'bad_request' }),
  imageEmpty: customError(400, 'ad_image_empty', 'the image file is empty', { wire: 'image_error' }),
  imageUnsupported: customError(415, 'ad_image_unsupported', 'the image must be a PNG, JPEG or WebP file', { wire: 'image_error' }),
  imageTooLarge: customError(413, 'ad_image_too_large', (limit: number) => `the image must not be larger than ${limit} bytes`,
    { wire: 'image_error', example: [2 * 1024 * 1024] }),
  imageNotFound: customError(404, 'ad_image_not_found', 'Image not found', { wire: 'not_found' })
}
