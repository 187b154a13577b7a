import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { isRecord } from '../domain/json.ts'

// HS256 JSON Web Tokens with node:crypto alone: one algorithm, five claims, plus the clinic of a secretary or a doctor
// (so scoping a request costs no lookup of it), a dashboard session's family (so revoking a session costs no query
// per request), and the phone-verified mark of patient and doctor tokens.
// A general JWT library would have to honour the header's `alg`; we never do: the header must say HS256, and the
// signature is always recomputed with HMAC-SHA256, so `alg: none` or an RS256/HS256 confusion has nothing to hold on to.

// 'access' (an admin's), 'staff' (a staff member's, sub `staff:<id>`, as legacy had it) and 'refresh' (either's) are
// the admin dashboard's; 'secretary', 'patient' and 'doctor' are the apps' actor tokens (src/auth/actors.ts). Every
// guard checks the type, so no token opens a door meant for another kind.
export type TokenType = 'access' | 'staff' | 'refresh' | 'secretary' | 'patient' | 'doctor'
const TOKEN_TYPES: readonly string[] = ['access', 'staff', 'refresh', 'secretary', 'patient', 'doctor']
const isTokenType = (value: unknown): value is TokenType => typeof value === 'string' && TOKEN_TYPES.includes(value)

export interface Claims {
  sub: string
  type: TokenType
  jti: string
  iat: number // seconds since the epoch, as RFC 7519 has it
  exp: number
  clinic_id?: number // secretary tokens, and doctor tokens once the doctor has a clinic
  fam?: string // dashboard access tokens: the session (refresh-token family) that issued it (src/auth/sessions.ts)
  // Patient and doctor tokens issued against a verified Firebase ID token of the account's phone; AUTH_MODE=strict
  // accepts no other (one issued in legacy mode proves only that its holder knew the app secret).
  phv?: true
}

export type VerifyFailure = 'malformed' | 'algorithm' | 'signature' | 'expired'

export type Verified =
  | { ok: true, claims: Claims }
  | { ok: false, reason: VerifyFailure }

export const ACCESS_TOKEN_SECONDS = 15 * 60
export const REFRESH_TOKEN_SECONDS = 7 * 24 * 60 * 60 // legacy REFRESH_TOKEN_EXPIRE_DAYS default

// Far above any token we issue (~300 bytes); a bound keeps a hostile header from costing a large HMAC and parse.
const MAX_TOKEN_LENGTH = 2048
const SEGMENT = /^[A-Za-z0-9_-]+$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

function signature (secret: string, signingInput: string): string {
  return createHmac('sha256', secret).update(signingInput).digest('base64url')
}

export interface SignOptions {
  sub: string
  type: TokenType
  ttlSeconds: number
  clinicId?: number
  family?: string
  phoneVerified?: boolean
  jti?: string
  now?: number // seconds; tests use it to mint expired tokens
}

export function signToken (secret: string, options: SignOptions): { token: string, claims: Claims } {
  const iat = options.now ?? nowSeconds()
  const claims: Claims = { sub: options.sub, type: options.type, jti: options.jti ?? randomUUID(), iat, exp: iat + options.ttlSeconds }
  if (options.clinicId !== undefined) claims.clinic_id = options.clinicId
  if (options.family !== undefined) claims.fam = options.family
  if (options.phoneVerified === true) claims.phv = true
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return { token: `${signingInput}.${signature(secret, signingInput)}`, claims }
}

function decodeJson (segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
}

function claimsOf (payload: unknown): Claims | null {
  if (!isRecord(payload)) return null
  const { sub, type, jti, iat, exp, clinic_id: clinicId, fam, phv } = payload
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 64) return null
  if (!isTokenType(type)) return null
  // jti is looked up in uuid columns: anything else would be a query error rather than a refusal.
  if (typeof jti !== 'string' || !UUID.test(jti)) return null
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return null
  const claims: Claims = { sub, type, jti, iat: iat as number, exp: exp as number }
  if (clinicId !== undefined) {
    if (!Number.isSafeInteger(clinicId) || (clinicId as number) <= 0) return null
    claims.clinic_id = clinicId as number
  }
  if (fam !== undefined) {
    if (typeof fam !== 'string' || !UUID.test(fam)) return null
    claims.fam = fam
  }
  if (phv === true) claims.phv = true
  return claims
}

export function verifyToken (secret: string, token: string, now: number = nowSeconds()): Verified {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' }
  const parts = token.split('.')
  if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part))) return { ok: false, reason: 'malformed' }
  const [header, payload, sent] = parts as [string, string, string]

  const head = decodeJson(header)
  if (!isRecord(head)) return { ok: false, reason: 'malformed' }
  if (head['alg'] !== 'HS256') return { ok: false, reason: 'algorithm' }

  // The expected signature is compared as text, not as decoded bytes: base64url's last character carries spare
  // bits, and a decoder ignores them, so a token altered only there would otherwise still pass.
  const expected = Buffer.from(signature(secret, `${header}.${payload}`))
  const given = Buffer.from(sent)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' }

  const claims = claimsOf(decodeJson(payload))
  if (claims === null) return { ok: false, reason: 'malformed' }
  if (claims.exp <= now) return { ok: false, reason: 'expired' }
  return { ok: true, claims }
}

// `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235).
export function bearerToken (authorization: string | undefined): string | null {
  if (authorization === undefined) return null
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)
  return match?.[1] ?? null
}
