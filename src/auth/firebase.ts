import { createLocalJWKSet, errors as jose, jwtVerify, type JSONWebKeySet } from 'jose'
import { log, errorFields } from '../log.ts'

// Firebase phone sign-in, verified on the server as Firebase documents it for third-party JWT libraries: an RS256
// signature by one of Google's published keys, `aud` = the project id, `iss` = https://securetoken.google.com/<project>,
// `exp`, `iat` and `auth_time` sane, a non-empty `sub`. The legacy server trusted whatever phone an app said it had
// (it verified tokens only for doctors, with the Admin SDK). jose does the JOSE work; this module only fetches the
// keys and keeps them as long as Google's Cache-Control says, which jose's remote key set does not read.

export interface PhoneIdentity {
  uid: string
  phone: string | null // the `phone_number` claim, as Firebase wrote it (E.164)
}

export type PhoneVerdict =
  | { ok: true, identity: PhoneIdentity }
  | { ok: false, reason: string }

// Google's keys could not be had (network, 5xx, garbage): the token may be good, so this is no 401.
export class KeysUnavailable extends Error {
  constructor (detail: string) {
    super(`Firebase signing keys unavailable: ${detail}`)
    this.name = 'KeysUnavailable'
  }
}

const CLOCK_SKEW_SECONDS = 30
// Far above a real ID token (~1 KB); parsing a hostile megabyte is not worth it.
const MAX_TOKEN_LENGTH = 8192
// Google's answer carries max-age (hours); without one the keys are kept this long, and never longer than a day.
const DEFAULT_MAX_AGE_S = 300
const LONGEST_MAX_AGE_S = 24 * 3600
// A token naming a key we do not hold may mean Google rotated early; we ask again, but not more often than this, so
// forged `kid`s cannot make us hammer the endpoint.
const REFETCH_COOLDOWN_MS = 60_000
const FETCH_TIMEOUT_MS = 5000

export function maxAgeOf (cacheControl: string | null): number {
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl ?? '')
  if (match === null) return DEFAULT_MAX_AGE_S
  return Math.min(Number(match[1]), LONGEST_MAX_AGE_S)
}

type KeySet = ReturnType<typeof createLocalJWKSet>

class SigningKeys {
  private keys: KeySet | null = null
  private freshUntil = 0
  private fetchedAt = 0
  private inFlight: Promise<KeySet> | null = null
  fetches = 0

  constructor (private readonly url: string) {}

  // The cached keys while Cache-Control allows; then a new fetch (one at a time). A failed refresh keeps serving the
  // keys we have: the tokens they verify were signed by Google either way.
  async current (): Promise<KeySet> {
    if (this.keys !== null && Date.now() < this.freshUntil) return this.keys
    try {
      return await this.refresh()
    } catch (error) {
      if (this.keys === null) throw error
      log.warn('Firebase key refresh failed; keeping the keys we have', errorFields(error))
      this.freshUntil = Date.now() + REFETCH_COOLDOWN_MS
      return this.keys
    }
  }

  // After a token named a key we lack: one more fetch, unless one happened within the cooldown.
  async afterUnknownKey (): Promise<KeySet | null> {
    if (Date.now() - this.fetchedAt < REFETCH_COOLDOWN_MS) return null
    return await this.refresh().catch(() => null)
  }

  private refresh (): Promise<KeySet> {
    this.inFlight ??= this.fetchKeys().finally(() => { this.inFlight = null })
    return this.inFlight
  }

  private async fetchKeys (): Promise<KeySet> {
    this.fetches++
    this.fetchedAt = Date.now()
    let response: Response
    try {
      response = await fetch(this.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } })
    } catch (error) {
      throw new KeysUnavailable(error instanceof Error ? error.message : String(error))
    }
    if (!response.ok) throw new KeysUnavailable(`HTTP ${response.status}`)
    let body: unknown
    try {
      body = await response.json()
    } catch {
      throw new KeysUnavailable('the answer is not JSON')
    }
    if (typeof body !== 'object' || body === null || !Array.isArray((body as { keys?: unknown }).keys)) {
      throw new KeysUnavailable('the answer is not a JSON Web Key Set')
    }
    const keys = createLocalJWKSet(body as JSONWebKeySet)
    this.keys = keys
    this.freshUntil = Date.now() + maxAgeOf(response.headers.get('cache-control')) * 1000
    return keys
  }
}

export class FirebaseVerifier {
  private readonly keys: SigningKeys
  private readonly issuer: string

  constructor (readonly projectId: string, jwksUrl: string) {
    this.keys = new SigningKeys(jwksUrl)
    this.issuer = `https://securetoken.google.com/${projectId}`
  }

  get keyFetches (): number {
    return this.keys.fetches
  }

  /** Throws KeysUnavailable when Google's keys cannot be had; any fault of the token itself is a verdict. */
  async verify (token: string): Promise<PhoneVerdict> {
    if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'token too long' }
    try {
      return await this.check(token, await this.keys.current())
    } catch (error) {
      if (!(error instanceof jose.JWKSNoMatchingKey)) return refusal(error)
      const again = await this.keys.afterUnknownKey()
      if (again === null) return { ok: false, reason: 'signed by an unknown key' }
      try {
        return await this.check(token, again)
      } catch (retryError) {
        return refusal(retryError instanceof jose.JWKSNoMatchingKey ? new Error('signed by an unknown key') : retryError)
      }
    }
  }

  private async check (token: string, keys: KeySet): Promise<PhoneVerdict> {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: ['RS256'],
      issuer: this.issuer,
      audience: this.projectId,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'iat', 'sub', 'auth_time']
    })
    const now = Math.floor(Date.now() / 1000)
    // jose checks iat only against a maximum age; Firebase also wants iat and auth_time in the past.
    if (typeof payload.iat !== 'number' || payload.iat > now + CLOCK_SKEW_SECONDS) return { ok: false, reason: 'issued in the future' }
    const authTime = payload['auth_time']
    if (typeof authTime !== 'number' || authTime > now + CLOCK_SKEW_SECONDS) return { ok: false, reason: 'auth_time in the future' }
    const sub = payload.sub
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) return { ok: false, reason: 'sub must be a non-empty string of at most 128 characters' }
    const phone = payload['phone_number']
    return { ok: true, identity: { uid: sub, phone: typeof phone === 'string' ? phone : null } }
  }
}

function refusal (error: unknown): PhoneVerdict {
  if (error instanceof KeysUnavailable) throw error
  if (error instanceof jose.JWTExpired) return { ok: false, reason: 'expired' }
  if (error instanceof jose.JWTClaimValidationFailed) return { ok: false, reason: `${error.claim} claim invalid` }
  if (error instanceof jose.JWSSignatureVerificationFailed) return { ok: false, reason: 'signature invalid' }
  if (error instanceof jose.JOSEAlgNotAllowed) return { ok: false, reason: 'algorithm not allowed' }
  if (error instanceof jose.JOSEError) return { ok: false, reason: 'malformed token' }
  if (error instanceof Error && error.message === 'signed by an unknown key') return { ok: false, reason: error.message }
  // Whatever else a hostile token provokes is still the token's fault: a refusal, never a 500.
  log.warn('Firebase ID token refused for an unexpected reason', errorFields(error))
  return { ok: false, reason: 'malformed token' }
}
