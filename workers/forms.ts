import busboy from 'busboy'
import { errors } from '../src/errors.ts'

// HTML form bodies, for the legacy staff routes that read `request.form()` (FastAPI took urlencoded and multipart
// alike): a browser's FormData is multipart, a URLSearchParams body urlencoded. busboy parses both; the body is
// already in memory and bounded by MAX_BODY_BYTES, so this only turns it into fields. Files are not read: no staff
// route takes one.

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
