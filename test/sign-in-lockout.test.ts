import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError, loadConfig } from '../src/config.ts'
import { LockoutStore } from '../src/rate-limit/lockout.ts'
import { startStack } from './helpers/stack.ts'
import { client, type Client, type Response } from './helpers/client.ts'
import { day } from './helpers/booking-api.ts'

// Issue 12 item 1: every route that mints a credential or tests a guessable secret counts in the auth tier by
// address (an actor token buys no allowance there), and wrong guesses count per target towards a lockout that
// refuses every attempt, a correct one included, until it ends.

const ADMIN = { email: 'lock-admin@example.com', password: 'a-long-admin-password' }
const LOCKED_TEXT = 'محاولات فاشلة كثيرة. يرجى المحاولة لاحقاً.'

// The window is long (5 min) so that five failures fall in it however slow a loaded machine is; the test of the
// lockout's end has an app of its own with a short one.

// The one trusted proxy's X-Forwarded-For: each test's "address".
const from = (address: string): Record<string, string> => ({ 'X-Forwarded-For': address })

const { api, launch } = await startStack(t, {
  mode: 'in-process',
  env: { TRUST_PROXY_HOPS: '1', AUTH_LOCKOUT_FAILURES: '5', AUTH_LOCKOUT_SECONDS: '300', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }
})

async function newSecretary (app: Client, clinicId: number, address: string): Promise<number> {
  const res = await app.post('/api/secretary_code_generator', { clinic_id: clinicId, doctor_name: 'د. علي', secretary_name: 'سارة', created_date: '10/07/2025 10:00 am' }, { headers: from(address) })
  if (res.status !== 200) throw new Error(`secretary_code_generator: ${res.status} ${res.text}`)
  return res.json<{ secretary_id: number }>().secretary_id
}

// Codes that are not `code` (nor one another): 6 digits, as the app sends them.
function wrongCodes (code: number, count: number): number[] {
  const out: number[] = []
  for (let candidate = 100_000; out.length < count; candidate += 7_919) if (candidate !== code) out.push(candidate)
  return out
}

function isLockout (res: Response): boolean {
  return res.status === 429 && res.json<{ message?: string }>().message === LOCKED_TEXT
}

t.test("the reviewer's attack: tokens minted from one address buy no secretary-code guesses", async (t) => {
  // The production limits: 10 a minute in the auth tier, 100 in the default one. Lockout off here, so what stops
  // the attack is the tier alone.
  const app = client(await launch(t, { RATE_LIMIT_AUTH: '10', RATE_LIMIT_DEFAULT: '100', AUTH_LOCKOUT_FAILURES: 'off' }))
  const code = await newSecretary(app, 9101, '198.51.100.1')
  const attacker = from('203.0.113.66')

  const tokens: string[] = []
  let registrations = 0
  for (let i = 0; i < 30; i++) {
    const res = await app.post('/api/patient/register', { user_uid: `attacker-${i}`, user_role: 'patient', phone_number: `+96477000${String(10_000 + i)}` }, { headers: attacker })
    if (res.status === 200) {
      registrations++
      tokens.push(res.json<{ access_token: string }>().access_token)
    } else {
      t.equal(res.status, 429, 'refused by the limit, nothing else')
      t.equal(res.headers['ratelimit-policy'], '"auth";q=10;w=60', 'registration counts in the auth tier')
    }
  }
  t.equal(registrations, 10, 'ten registrations a minute from one address, not a hundred')

  const answers: number[] = []
  for (const [i, guess] of wrongCodes(code, 40).entries()) {
    const res = await app.post('/api/secretary_login_code', { secretary_code: guess }, { token: tokens[i % tokens.length], headers: attacker })
    answers.push(res.status)
  }
  t.same([...new Set(answers)], [429], 'every guess refused: each token shares the address’s spent auth allowance')

  // Another address has its own allowance and logs in.
  const secretary = await app.post('/api/secretary_login_code', { secretary_code: code }, { headers: from('198.51.100.2') })
  t.equal(secretary.status, 200)
})

t.test('secretary codes: wrong guesses lock the address; the correct code is refused until the lockout ends', async (t) => {
  const api = client(await launch(t, { AUTH_LOCKOUT_SECONDS: '20' }))
  const code = await newSecretary(api, 9102, '198.51.100.3')
  const other = await newSecretary(api, 9103, '198.51.100.3')
  const attacker = from('203.0.113.7')
  // With the auth tier out of the way (30,000 a minute here), the lockout alone stops the guessing, whatever
  // patient tokens the guesses carry.
  const tokens: string[] = []
  for (let i = 0; i < 3; i++) {
    const res = await api.post('/api/patient/register', { user_uid: `guesser-${i}`, user_role: 'patient', phone_number: `+96477001${String(20_000 + i)}` }, { headers: attacker })
    tokens.push(res.json<{ access_token: string }>().access_token)
  }
  for (const [i, guess] of wrongCodes(code, 6).filter((guess) => guess !== other).slice(0, 5).entries()) {
    const res = await api.post('/api/secretary_login_code', { secretary_code: guess }, { token: tokens[i % tokens.length], headers: attacker })
    t.equal(res.status, 404, 'a wrong code is still "not found" until the fifth')
  }
  const refused = await api.post('/api/secretary_login_code', { secretary_code: code }, { token: tokens[0], headers: attacker })
  t.ok(isLockout(refused), `the correct code is refused while the address is locked: ${refused.status} ${refused.text}`)
  const retryAfter = Number(refused.headers['retry-after'])
  t.ok(retryAfter >= 1 && retryAfter <= 20, `Retry-After within the lockout: ${String(refused.headers['retry-after'])}`)

  const elsewhere = await api.post('/api/secretary_login_code', { secretary_code: other }, { headers: from('198.51.100.4') })
  t.equal(elsewhere.status, 200, "another clinic's secretary, from its own address, is not affected")

  await sleep(retryAfter * 1000 + 300)
  const after = await api.post('/api/secretary_login_code', { secretary_code: code }, { headers: attacker })
  t.equal(after.status, 200, 'the correct code works once the lockout has ended')
})

t.test('golden codes: wrong codes lock the clinic; other clinics keep verifying', async (t) => {
  const booked: Record<number, string> = {}
  for (const clinicId of [9201, 9202]) {
    const table = await api.post('/api/create_golden_table', { clinic_id: clinicId, days: { [day(3)]: { capacity_total: 5 } } })
    t.equal(table.status, 200)
    const res = await api.post('/api/patient_golden_booking', { clinic_id: clinicId, date: day(3), patient_id: 'P-5', name: 'مراجع', phone: '+9647701234567', auto_assign: true })
    t.equal(res.status, 200)
    booked[clinicId] = res.json<{ code: string }>().code
  }
  const wrong = (code: string, i: number): string => String((Number(code) + 1 + i) % 10_000).padStart(4, '0')
  for (let i = 0; i < 5; i++) {
    // Each from its own address: the lockout is the clinic's, not an address's.
    const res = await api.post('/api/verify_golden_code', { clinic_id: 9201, code: wrong(booked[9201] ?? '', i) }, { headers: from(`203.0.113.${20 + i}`) })
    t.match(res.json(), { status: 'error' }, 'a wrong code answers as legacy until the fifth')
  }
  const refused = await api.post('/api/verify_golden_code', { clinic_id: 9201, code: booked[9201] }, { headers: from('198.51.100.9') })
  t.ok(isLockout(refused), `the right code for the locked clinic is refused: ${refused.status} ${refused.text}`)
  const other = await api.post('/api/verify_golden_code', { clinic_id: 9202, code: booked[9202] }, { headers: from('198.51.100.9') })
  t.match(other.json(), { status: 'success' }, 'another clinic is unaffected')
})

t.test('admin login: five wrong passwords lock the e-mail, logged at warn with the address', async (t) => {
  const app = await launch(t)
  const login = client(app)
  for (let i = 0; i < 5; i++) {
    const res = await login.post('/auth/admin/auth', { email: ADMIN.email, password: `wrong-${i}` }, { headers: from('203.0.113.40') })
    t.equal(res.status, 401)
  }
  const refused = await login.post('/auth/admin/auth', ADMIN, { headers: from('198.51.100.40') })
  t.ok(isLockout(refused), 'the right password is refused while the e-mail is locked, from any address')
  const line = app.output().split('\n').find((entry) => entry.includes('sign-in target locked'))
  t.ok(line !== undefined, 'a log line names the lockout')
  t.match(line ?? '', /"level":"warn"/)
  t.match(line ?? '', /"target":"lock-admin@example.com"/)
  t.match(line ?? '', /"address":"203\.0\.113\.40"/)
  const otherEmail = await login.post('/auth/admin/auth', { email: 'someone-else@example.com', password: 'whatever-it-is' }, { headers: from('203.0.113.40') })
  t.equal(otherEmail.status, 401, 'another e-mail is not locked')
})

t.test('the lockout store: a window from the first failure, a lockout as long, bounded', async (t) => {
  let now = 1000
  const store = new LockoutStore(3, () => now)
  const policy = { failures: 3, windowMs: 10_000 }
  t.same(store.fail('a', policy), { retryMs: 0, locked: false })
  now += 9_000
  t.same(store.fail('a', policy), { retryMs: 0, locked: false })
  now += 1_000 // the window of the first failure has ended: counting starts again
  t.same(store.fail('a', policy), { retryMs: 0, locked: false })
  t.same(store.fail('a', policy), { retryMs: 0, locked: false })
  t.same(store.fail('a', policy), { retryMs: 10_000, locked: true }, 'the third failure in one window locks')
  now += 4_000
  t.equal(store.check('a'), 6_000)
  t.same(store.fail('a', policy), { retryMs: 6_000, locked: false }, 'failures while locked do not extend it')
  now += 6_000
  t.equal(store.check('a'), 0, 'unlocked when it ends')
  store.fail('b', policy)
  store.fail('c', policy)
  store.fail('d', policy)
  t.ok(store.size() <= 3, 'bounded')
  now += 20_000
  store.sweep()
  t.equal(store.size(), 0, 'ended entries are swept')
})

t.test('AUTH_LOCKOUT_* are validated like every variable', async (t) => {
  t.equal(loadConfig({}).authLockoutFailures, 10)
  t.equal(loadConfig({}).authLockoutSeconds, 900)
  t.equal(loadConfig({ AUTH_LOCKOUT_FAILURES: 'OFF' }).authLockoutFailures, null)
  for (const value of ['0', '-1', 'ten', '1001']) t.throws(() => loadConfig({ AUTH_LOCKOUT_FAILURES: value }), ConfigError, `AUTH_LOCKOUT_FAILURES="${value}"`)
  t.throws(() => loadConfig({ AUTH_LOCKOUT_SECONDS: '0' }), ConfigError)
})
