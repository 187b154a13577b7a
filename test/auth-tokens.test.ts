import { createHmac } from 'node:crypto'
import t from 'tap'
import { bearerToken, signToken, verifyToken } from '../src/auth/tokens.ts'

const SECRET = 'a-test-signing-key-of-reasonable-length'
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const hmac = (secret: string, input: string): string => createHmac('sha256', secret).update(input).digest('base64url')

function forge (header: unknown, payload: unknown, secret = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${hmac(secret, input)}`
}

const now = Math.floor(Date.now() / 1000)
const validClaims = { sub: '1', type: 'access', jti: '4f0e8f5e-8a3b-4c1d-9e2f-0a1b2c3d4e5f', iat: now, exp: now + 60 }

t.test('a signed token verifies and carries sub, type, jti, iat and exp', async (t) => {
  const { token, claims } = signToken(SECRET, { sub: '42', type: 'access', ttlSeconds: 900 })
  t.equal(token.split('.').length, 3)
  t.same(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' })
  const verified = verifyToken(SECRET, token)
  t.ok(verified.ok)
  if (!verified.ok) return
  t.same(verified.claims, claims)
  t.equal(claims.sub, '42')
  t.equal(claims.type, 'access')
  t.equal(claims.exp - claims.iat, 900)
  t.match(claims.jti, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a v4 uuid')
  t.not(signToken(SECRET, { sub: '42', type: 'access', ttlSeconds: 900 }).claims.jti, claims.jti, 'a new jti each time')
})

t.test('a token produced elsewhere with the same key and HS256 verifies (interoperable)', async (t) => {
  t.ok(verifyToken(SECRET, forge({ alg: 'HS256', typ: 'JWT' }, validClaims)).ok)
  t.ok(verifyToken(SECRET, forge({ alg: 'HS256' }, validClaims)).ok, 'typ is optional')
})

t.test('an expired token is refused, from the second of its exp on', async (t) => {
  const { token, claims } = signToken(SECRET, { sub: '1', type: 'access', ttlSeconds: 900, now: now - 1000 })
  t.same(verifyToken(SECRET, token), { ok: false, reason: 'expired' })
  t.same(verifyToken(SECRET, token, claims.exp), { ok: false, reason: 'expired' })
  t.ok(verifyToken(SECRET, token, claims.exp - 1).ok)
})

t.test('another key, or any changed byte, breaks the signature', async (t) => {
  const { token } = signToken(SECRET, { sub: '1', type: 'access', ttlSeconds: 900 })
  t.same(verifyToken('another-key', token), { ok: false, reason: 'signature' })

  const [header, payload, signature] = token.split('.') as [string, string, string]
  const promoted = b64({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: '2' })
  t.same(verifyToken(SECRET, `${header}.${promoted}.${signature}`), { ok: false, reason: 'signature' }, 'a changed sub')

  // Every other value of the last character: its two spare bits are ignored by base64 decoders, so a byte-level
  // comparison would accept some of these.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  for (const c of alphabet) {
    if (c === signature.at(-1)) continue
    const tampered = `${header}.${payload}.${signature.slice(0, -1)}${c}`
    t.notOk(verifyToken(SECRET, tampered).ok, `last character ${c}`)
  }
  t.notOk(verifyToken(SECRET, `${header}.${payload}.${signature}A`).ok, 'a longer signature')
  t.notOk(verifyToken(SECRET, `${header}.${payload}.${signature.slice(1)}`).ok, 'a shorter signature')
})

t.test('only HS256 is accepted, whatever the header claims', async (t) => {
  t.same(verifyToken(SECRET, `${b64({ alg: 'none', typ: 'JWT' })}.${b64(validClaims)}.`), { ok: false, reason: 'malformed' }, 'alg none, empty signature')
  t.same(verifyToken(SECRET, `${b64({ alg: 'none' })}.${b64(validClaims)}.x`), { ok: false, reason: 'algorithm' })
  t.same(verifyToken(SECRET, forge({ alg: 'HS512' }, validClaims)), { ok: false, reason: 'algorithm' })
  t.same(verifyToken(SECRET, forge({ alg: 'hs256' }, validClaims)), { ok: false, reason: 'algorithm' })
  t.same(verifyToken(SECRET, forge({ typ: 'JWT' }, validClaims)), { ok: false, reason: 'algorithm' }, 'no alg')
  // The RS256/HS256 confusion: signing with what would be a public key changes nothing, the key is ours.
  t.same(verifyToken(SECRET, forge({ alg: 'RS256' }, validClaims, '-----BEGIN PUBLIC KEY-----')), { ok: false, reason: 'algorithm' })
})

t.test('malformed tokens are refused without throwing', async (t) => {
  const cases: Array<[string, string]> = [
    ['', 'empty'],
    ['abc', 'one part'],
    ['a.b', 'two parts'],
    ['a.b.c.d', 'four parts'],
    ['a..c', 'an empty part'],
    ['a b.c.d', 'a space'],
    ['ab+c.de/f.gh=', 'base64 rather than base64url'],
    [`${'a'.repeat(3000)}.b.c`, 'too long'],
    [`${Buffer.from('not json').toString('base64url')}.${b64(validClaims)}.sig`, 'a header that is not JSON'],
    [`${b64([1, 2])}.${b64(validClaims)}.sig`, 'a header that is not an object']
  ]
  for (const [token, what] of cases) {
    const verified = verifyToken(SECRET, token)
    t.equal(verified.ok, false, what)
  }
  const badClaims: Array<[unknown, string]> = [
    ['a string', 'a payload that is not an object'],
    [{ ...validClaims, type: 'superuser' }, 'an unknown type'],
    [{ ...validClaims, jti: 'not-a-uuid' }, 'a jti that is not a uuid'],
    [{ ...validClaims, sub: 1 }, 'a numeric sub'],
    [{ ...validClaims, sub: '' }, 'an empty sub'],
    [{ ...validClaims, exp: String(now + 60) }, 'exp as a string'],
    [{ ...validClaims, exp: now + 0.5 }, 'a fractional exp'],
    [{ sub: '1', type: 'access', jti: validClaims.jti, exp: now + 60 }, 'no iat']
  ]
  for (const [payload, what] of badClaims) {
    t.same(verifyToken(SECRET, forge({ alg: 'HS256' }, payload)), { ok: false, reason: 'malformed' }, what)
  }
  const notJson = `${b64({ alg: 'HS256' })}.${Buffer.from('{"sub":').toString('base64url')}`
  t.same(verifyToken(SECRET, `${notJson}.${hmac(SECRET, notJson)}`), { ok: false, reason: 'malformed' }, 'a signed payload that is not JSON')
})

t.test('the bearer token is read from the Authorization header', async (t) => {
  t.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi')
  t.equal(bearerToken('bearer abc'), 'abc', 'the scheme is case-insensitive')
  t.equal(bearerToken('Bearer   abc  '), 'abc')
  t.equal(bearerToken(undefined), null)
  t.equal(bearerToken(''), null)
  t.equal(bearerToken('Basic dXNlcjpwYXNz'), null)
  t.equal(bearerToken('Bearer'), null)
  t.equal(bearerToken('Bearer a b'), null)
  t.equal(bearerToken('abc.def.ghi'), null, 'no scheme')
})
