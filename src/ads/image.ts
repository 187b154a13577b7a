import { createHash } from 'node:crypto'

// Ad images are checked by their bytes, never by a name or a declared type: the first bytes of a PNG, a JPEG and a
// WebP file are fixed by their formats. Anything else is refused before it is stored.

export type ImageType = 'image/png' | 'image/jpeg' | 'image/webp'

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

function startsWith (bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false
  return prefix.every((byte, i) => bytes[at + i] === byte)
}

/** The image format its bytes declare, or null for anything that is not a PNG, a JPEG or a WebP image. */
export function sniffImage (bytes: Uint8Array): ImageType | null {
  if (startsWith(bytes, PNG)) return 'image/png'
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg'
  // RIFF <size> WEBP, then a VP8 / VP8L / VP8X chunk.
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8) && startsWith(bytes, [0x56, 0x50, 0x38], 12)) return 'image/webp'
  return null
}

export function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export interface ImageUpload {
  bytes: Buffer
  declaredType: string | null
}

// `data:image/jpeg;base64,…`: the form the legacy server wrote into ad_image_url for an uploaded file, which a client
// may well send back. Null for any other text (a URL).
export function dataUriBytes (text: string): Buffer | null {
  const match = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[\w.+-]+=[\w.+-]+)*;base64,/i.exec(text)
  if (match === null) return null
  const payload = text.slice(match[0].length).replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) return Buffer.alloc(0)
  return Buffer.from(payload, 'base64')
}

/** How large the base64 text of a `bytes`-long image is, with room for the data URI's prefix. */
export function dataUriLength (bytes: number): number {
  return Math.ceil(bytes / 3) * 4 + 64
}

// Our own image URLs, whatever host the client reached us by: `…/api/ads/images/<sha256>`.
const OWN_IMAGE = /\/api\/ads\/images\/([0-9a-f]{64})(?:[?#].*)?$/

export function ownImageSha (url: string): string | null {
  return OWN_IMAGE.exec(url)?.[1] ?? null
}

export const IMAGE_PATH = '/api/ads/images/'
