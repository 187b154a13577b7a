import busboy from 'busboy'
import { ApiError, errors } from '../src/errors.ts'

// HTML form bodies, for the legacy staff routes that read `request.form()` (FastAPI took urlencoded and multipart
// alike): a browser's FormData is multipart, a URLSearchParams body urlencoded. busboy parses both; the body is
// already in memory and bounded by the route's body limit, so this only turns it into fields, and, for the one route
// that takes a file (the ad image upload), files (parseUpload).

const FORM_TYPES = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data)\s*(;|$)/i

export const isForm = (contentType: string | undefined): boolean => contentType !== undefined && FORM_TYPES.test(contentType)

const MAX_FIELDS = 64

const refusal = (msg: string): Error => errors.validation([{ loc: ['body'], msg, type: 'form_invalid' }])

/** The form's fields as text, the first of a repeated name kept (as a query string is read). */
export async function parseForm (contentType: string, body: Buffer): Promise<Record<string, string>> {
  let parser: busboy.Busboy
  try {
    parser = busboy({ headers: { 'content-type': contentType }, limits: { fields: MAX_FIELDS, files: 0, fieldSize: body.length + 1 }, defCharset: 'utf8', defParamCharset: 'utf8' })
  } catch (error) {
    throw refusal(error instanceof Error ? error.message : 'unreadable form')
  }
  return await new Promise((resolve, reject) => {
    const fields: Record<string, string> = Object.create(null) as Record<string, string>
    let failure: string | null = null
    parser.on('field', (name, value, info) => {
      if (info.nameTruncated || info.valueTruncated) failure ??= 'form field too long'
      else if (value.includes('\u0000')) failure ??= 'text must not contain NUL (\\u0000) characters'
      // What busboy could not decode as UTF-8 arrives as U+FFFD: refused, as a JSON body that is not UTF-8 is.
      else if (value.includes('\ufffd') || name.includes('\ufffd')) failure ??= 'form is not valid UTF-8'
      else if (!(name in fields)) fields[name] = value
    })
    parser.on('file', (_name, stream) => { stream.resume() })
    parser.on('fieldsLimit', () => { failure ??= `more than ${MAX_FIELDS} form fields` })
    parser.on('filesLimit', () => { failure ??= 'files are not accepted here' })
    parser.on('error', (error: unknown) => reject(refusal(error instanceof Error ? error.message : 'unreadable form')))
    parser.on('close', () => failure === null ? resolve({ ...fields }) : reject(refusal(failure)))
    parser.end(body)
  })
}

// ---------------------------------------------------------------------------------------------------------------
// A form with files: POST /api/update_ad_with_image.

export interface FormFile {
  field: string
  filename: string
  mimeType: string
  bytes: Buffer
  truncated: boolean // larger than `fileSize`: only that much was kept
}

export interface Form {
  fields: Record<string, string>
  files: FormFile[]
}

export interface FormLimits {
  fileSize: number
  files: number
  fields: number
  fieldSize: number
}

// A request that is not a form at all (JSON, no content type) reads as an empty form, as FastAPI's Form() params saw
// it: the route then names what is missing. `invalid` is thrown for a form that claims to be one and is not.
export function parseUpload (contentType: string | undefined, body: Buffer, limits: FormLimits, invalid: () => ApiError): Promise<Form> {
  const form: Form = { fields: {}, files: [] }
  let parser: busboy.Busboy
  try {
    parser = busboy({
      headers: { 'content-type': contentType ?? '' },
      limits: { ...limits, parts: limits.files + limits.fields },
      defCharset: 'utf8',
      defParamCharset: 'utf8'
    })
  } catch {
    return Promise.resolve(form) // not multipart or urlencoded
  }
  return new Promise((resolve, reject) => {
    let failed = false
    const fail = (error: ApiError): void => {
      if (failed) return
      failed = true
      reject(error)
    }
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(errors.validation([{ loc: ['body', name], msg: `${name} is longer than ${limits.fieldSize} bytes`, type: 'string_too_long' }]))
      // The first value of a repeated field wins, as for a query string.
      else if (!(name in form.fields)) form.fields[name] = value
    })
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = []
      const file: FormFile = { field: name, filename: info.filename ?? '', mimeType: info.mimeType, bytes: Buffer.alloc(0), truncated: false }
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('limit', () => { file.truncated = true })
      stream.on('close', () => {
        file.bytes = Buffer.concat(chunks)
        form.files.push(file)
      })
    })
    parser.on('error', () => fail(invalid()))
    parser.on('close', () => { if (!failed) resolve(form) })
    parser.end(body)
  })
}
