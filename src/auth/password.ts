import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto'

// Admin passwords, hashed with scrypt: memory-hard, in node:crypto, no native add-on. One string holds everything
// a later verification needs, so the cost can be raised without a migration:
//   $scrypt$ln=15,r=8,p=1$<salt, base64>$<hash, base64>
// (the PHC string format; ln is log2 of N). Hashing costs ~50 ms of one core and 32 MiB: in an HTTP worker it runs
// on the piscina pool (workers/cpu/tasks.ts), the *Sync functions below; the primary and the operator script
// use the async ones, which run on libuv's thread pool.
//
// Unlike the legacy bcrypt, nothing is truncated: bcrypt read 72 bytes when verifying but 72 characters when
// hashing, so a long multi-byte password could never be verified.

export interface ScryptParams {
  ln: number // N = 2^ln
  r: number
  p: number
}

export const DEFAULT_PARAMS: ScryptParams = { ln: 15, r: 8, p: 1 }
const SALT_BYTES = 16
const KEY_BYTES = 32

// Bounds on what a stored string may ask for: a corrupt or hostile row must not make one verification take
// gigabytes or minutes.
const LIMITS = { ln: [14, 20], r: [1, 32], p: [1, 16], salt: [16, 64], key: [16, 64] } as const

const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/

const within = (value: number, [min, max]: readonly [number, number]): boolean => value >= min && value <= max

function options ({ ln, r, p }: ScryptParams): ScryptOptions {
  const N = 2 ** ln
  // node's default maxmem (32 MiB) is exactly 128·N·r at N=2^15, r=8, which OpenSSL rejects: leave headroom.
  return { N, r, p, maxmem: 2 * 128 * N * r * p + 1024 * 1024 }
}

const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '')

function encode (params: ScryptParams, salt: Buffer, key: Buffer): string {
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`
}

interface Decoded {
  params: ScryptParams
  salt: Buffer
  key: Buffer
}

function decode (encoded: string): Decoded | null {
  const match = FORMAT.exec(encoded)
  if (match === null) return null
  const params: ScryptParams = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) }
  const salt = Buffer.from(match[4] as string, 'base64')
  const key = Buffer.from(match[5] as string, 'base64')
  if (!within(params.ln, LIMITS.ln) || !within(params.r, LIMITS.r) || !within(params.p, LIMITS.p)) return null
  if (!within(salt.length, LIMITS.salt) || !within(key.length, LIMITS.key)) return null
  return { params, salt, key }
}

function deriveAsync (password: string, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options(params), (error, key) => error === null ? resolve(key) : reject(error))
  })
}

// NFC: the same password typed on an iPhone and on Windows may arrive as different code-point sequences.
const deriveSync = (password: string, salt: Buffer, length: number, params: ScryptParams): Buffer =>
  scryptSync(password.normalize('NFC'), salt, length, options(params))

export function hashPasswordSync (password: string, params: ScryptParams = DEFAULT_PARAMS): string {
  const salt = randomBytes(SALT_BYTES)
  return encode(params, salt, deriveSync(password, salt, KEY_BYTES, params))
}

export async function hashPassword (password: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  return encode(params, salt, await deriveAsync(password, salt, KEY_BYTES, params))
}

export function verifyPasswordSync (password: string, encoded: string): boolean {
  const stored = decode(encoded)
  if (stored === null) return false
  return timingSafeEqual(deriveSync(password, stored.salt, stored.key.length, stored.params), stored.key)
}

export async function verifyPassword (password: string, encoded: string): Promise<boolean> {
  const stored = decode(encoded)
  if (stored === null) return false
  return timingSafeEqual(await deriveAsync(password, stored.salt, stored.key.length, stored.params), stored.key)
}

// A well-formed hash of nothing anyone knows, with the default cost: a login for an unknown e-mail verifies
// against it, so it takes as long as a login with a wrong password and the answer's timing names no account.
export const DECOY_HASH = encode(DEFAULT_PARAMS, randomBytes(SALT_BYTES), randomBytes(KEY_BYTES))
