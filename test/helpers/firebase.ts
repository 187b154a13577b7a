import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'

// A Firebase token issuer of our own, for tests: RSA keys made here, their public halves served as a JWKS by a real
// HTTP server on loopback (the server under test points FIREBASE_JWKS_URL at it), and ID tokens signed as Firebase
// signs them. Nothing in the test leaves the machine, and nothing in the server is stubbed.

export const PROJECT_ID = 'tabeby-test'
export const ISSUER = `https://securetoken.google.com/${PROJECT_ID}`

export interface IdTokenOptions {
  phone?: string | null // null: no phone_number claim
  sub?: string
  aud?: string
  iss?: string
  iat?: number // seconds
  exp?: number
  authTime?: number
  kid?: string
  key?: CryptoKey // sign with another key than the published one
  alg?: 'RS256' | 'RS384'
}

export interface FakeFirebase {
  jwksUrl: string
  env: Record<string, string>
  hits: () => number // JWKS fetches the server under test made
  idToken: (options?: IdTokenOptions) => Promise<string>
  otherKey: () => Promise<CryptoKey> // a key of the right shape that Google never published
  close: () => Promise<void>
}

interface KeyPair { kid: string, privateKey: CryptoKey, jwk: JWK }

async function keyPair (kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const jwk = { ...await exportJWK(publicKey), kid, alg: 'RS256', use: 'sig' }
  return { kid, privateKey, jwk }
}

export async function startFirebase (options: { maxAgeSeconds?: number } = {}): Promise<FakeFirebase> {
  const published = await keyPair('test-key-1')
  let hits = 0
  const server: Server = createServer((_req, res) => {
    hits++
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': `public, max-age=${options.maxAgeSeconds ?? 3600}, must-revalidate, no-transform` })
    res.end(JSON.stringify({ keys: [published.jwk] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/service_accounts/v1/jwk/securetoken`

  const idToken = async (o: IdTokenOptions = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000)
    const claims: Record<string, unknown> = { auth_time: o.authTime ?? now - 10, firebase: { sign_in_provider: 'phone' } }
    if (o.phone !== null) claims['phone_number'] = o.phone ?? '+9647701234567'
    return await new SignJWT(claims)
      .setProtectedHeader({ alg: o.alg ?? 'RS256', kid: o.kid ?? published.kid, typ: 'JWT' })
      .setIssuer(o.iss ?? ISSUER)
      .setAudience(o.aud ?? PROJECT_ID)
      .setSubject(o.sub ?? 'firebase-uid-1')
      .setIssuedAt(o.iat ?? now - 5)
      .setExpirationTime(o.exp ?? now + 3600)
      // A key of the other algorithm's kind when one is asked for: jose signs with nothing else.
      .sign(o.key ?? (o.alg === undefined || o.alg === 'RS256' ? published.privateKey : (await generateKeyPair(o.alg)).privateKey))
  }

  return {
    jwksUrl,
    env: { FIREBASE_PROJECT_ID: PROJECT_ID, FIREBASE_JWKS_URL: jwksUrl },
    hits: () => hits,
    idToken,
    otherKey: async () => (await keyPair('test-key-1')).privateKey,
    close: () => new Promise((resolve) => server.close(() => resolve()))
  }
}
