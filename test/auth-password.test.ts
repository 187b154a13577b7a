import t from 'tap'
import { DECOY_HASH, hashPassword, hashPasswordSync, verifyPassword, verifyPasswordSync } from '../src/auth/password.ts'
import { CpuPool } from '../workers/cpu/pool.ts'

const FORMAT = /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/

t.test('a hash is one string with the scrypt parameters, a salt and the key; it verifies the password only', async (t) => {
  const encoded = await hashPassword('correct horse battery staple')
  t.match(encoded, FORMAT, 'N=2^15, r=8, p=1, 16-byte salt, 32-byte key')
  t.ok(await verifyPassword('correct horse battery staple', encoded))
  t.notOk(await verifyPassword('correct horse battery stapl', encoded))
  t.notOk(await verifyPassword('', encoded))
  t.not(await hashPassword('correct horse battery staple'), encoded, 'a fresh salt each time')
})

t.test('the synchronous form (for the piscina thread) and the async one read each other', async (t) => {
  const fromSync = hashPasswordSync('كلمة سر طويلة')
  t.match(fromSync, FORMAT)
  t.ok(await verifyPassword('كلمة سر طويلة', fromSync))
  t.ok(verifyPasswordSync('كلمة سر طويلة', await hashPassword('كلمة سر طويلة')))
  t.notOk(verifyPasswordSync('كلمة سر', fromSync))
})

t.test('nothing is truncated: passwords that share their first 72 bytes differ (legacy bcrypt cut there)', async (t) => {
  const head = 'ب'.repeat(40) // 80 bytes of UTF-8
  const encoded = await hashPassword(`${head}1`)
  t.notOk(await verifyPassword(`${head}2`, encoded))
  t.ok(await verifyPassword(`${head}1`, encoded))
})

t.test('composed and decomposed spellings of one password are the same password', async (t) => {
  const composed = 'caf\u00e9-secret'
  const decomposed = 'cafe\u0301-secret'
  t.not(composed, decomposed)
  t.ok(await verifyPassword(decomposed, await hashPassword(composed)))
})

t.test('cheaper or stronger stored parameters are honoured within bounds; corrupt strings never verify', async (t) => {
  const cheap = await hashPassword('pw-with-ln14', { ln: 14, r: 8, p: 1 })
  t.match(cheap, /^\$scrypt\$ln=14,r=8,p=1\$/)
  t.ok(await verifyPassword('pw-with-ln14', cheap))

  const [, , , salt, key] = cheap.split('$')
  const corrupt = [
    '',
    'not a hash',
    '$2b$12$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234', // a legacy bcrypt hash
    `$scrypt$ln=30,r=8,p=1$${salt}$${key}`, // 2^30: a stored value must not cost gigabytes
    `$scrypt$ln=4,r=8,p=1$${salt}$${key}`, // below the floor
    `$scrypt$ln=14,r=8,p=1$${salt}$`,
    `$scrypt$ln=14,r=8,p=1$AAAA$${key}`, // a 3-byte salt
    `$scrypt$ln=14,r=8,p=1$${salt}$${key}$extra`
  ]
  for (const encoded of corrupt) {
    t.equal(await verifyPassword('pw-with-ln14', encoded), false, encoded || '(empty)')
    t.equal(verifyPasswordSync('pw-with-ln14', encoded), false)
  }
})

t.test('the decoy hash has the real cost and matches nothing', async (t) => {
  t.match(DECOY_HASH, FORMAT)
  t.notOk(await verifyPassword('', DECOY_HASH))
  t.notOk(await verifyPassword('password', DECOY_HASH))
})

t.test('hashing runs on the piscina pool, and the event loop keeps ticking meanwhile', async (t) => {
  const pool = new CpuPool(1)
  t.teardown(() => pool.close())

  // A 1 ms timer on this thread: the largest gap between its ticks is how long the loop was blocked.
  let last = performance.now()
  let worstGap = 0
  const ticker = setInterval(() => {
    const now = performance.now()
    worstGap = Math.max(worstGap, now - last)
    last = now
  }, 1)
  const started = performance.now()
  const hashes = await Promise.all(['one', 'two', 'three', 'four'].map((password) => pool.run({ kind: 'hashPassword', password })))
  const elapsed = performance.now() - started
  clearInterval(ticker)

  for (const result of hashes) t.match(result.encoded, FORMAT)
  t.ok(verifyPasswordSync('three', (hashes[2] as { encoded: string }).encoded), 'a pool hash verifies here')
  const check = await pool.run({ kind: 'verifyPassword', password: 'one', encoded: (hashes[0] as { encoded: string }).encoded })
  t.same(check, { kind: 'verifyPassword', ok: true })
  t.same(await pool.run({ kind: 'verifyPassword', password: 'two', encoded: (hashes[0] as { encoded: string }).encoded }), { kind: 'verifyPassword', ok: false })
  t.equal(pool.stats().completed, 6, 'all six ran on the pool')
  // One thread runs the four one after the other, so one hash took about elapsed / 4. Hashed on this thread, the
  // loop would have stood still for at least that long; off it, the worst gap is scheduling noise.
  const oneHash = elapsed / 4
  t.ok(worstGap < Math.max(oneHash / 2, 20), `the loop never stood still for a hash (worst gap ${worstGap.toFixed(1)} ms; one hash ≈ ${oneHash.toFixed(0)} ms)`)
})
