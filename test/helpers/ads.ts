import { randomBytes } from 'node:crypto'

// Ad images and multipart bodies as the apps send them, for the ads tests.

// A real 1×1 PNG; the JPEG and WebP below are only their formats' first bytes, which is all the server reads.
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==', 'base64')
export const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), randomBytes(64)])
export const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x40, 0, 0, 0]), Buffer.from('WEBPVP8 '), randomBytes(64)])

export interface Part {
  name: string
  value?: string
  file?: { filename: string, type: string, bytes: Buffer }
}

export function multipart (parts: Part[]): { body: Buffer, contentType: string } {
  const boundary = `----tabeby${randomBytes(8).toString('hex')}`
  const chunks: Buffer[] = []
  for (const part of parts) {
    const disposition = part.file === undefined
      ? `form-data; name="${part.name}"`
      : `form-data; name="${part.name}"; filename="${part.file.filename}"`
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.file === undefined ? '' : `Content-Type: ${part.file.type}\r\n`}\r\n`
    chunks.push(Buffer.from(head), part.file?.bytes ?? Buffer.from(part.value ?? '', 'utf8'), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` }
}

export const dataUri = (bytes: Buffer, type = 'image/png'): string => `data:${type};base64,${bytes.toString('base64')}`
