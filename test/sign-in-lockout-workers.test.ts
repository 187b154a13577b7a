import t from 'tap'
import { client, type Response } from './helpers/client.ts'
import { startStack } from './helpers/stack.ts'

// The sign-in lockout (test/sign-in-lockout.test.ts) is counted by the coordinator, so it is one count for all of
// an instance's workers: five failures spread over two workers lock the target, as five on one worker would.

const ADMIN = { email: 'lock-admin@example.com', password: 'a-long-admin-password' }
const LOCKED_TEXT = 'محاولات فاشلة كثيرة. يرجى المحاولة لاحقاً.'
const isLockout = (res: Response): boolean => res.status === 429 && res.json<{ message?: string }>().message === LOCKED_TEXT

const { app } = await startStack(t, {
  mode: 'cluster',
  workers: 2,
  env: { AUTH_LOCKOUT_FAILURES: '5', AUTH_LOCKOUT_SECONDS: '60', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }
})

t.test('two workers lock the e-mail at the fifth failure, wherever each landed', async (t) => {
  const login = client(app)
  // Each request on a connection of its own: the kernel spreads them over both workers.
  const wrong = await Promise.all(Array.from({ length: 5 }, (_, i) => login.post('/auth/admin/auth', { email: ADMIN.email, password: `nope-${i}` })))
  t.same(wrong.map((res) => res.status), [401, 401, 401, 401, 401])
  const refused = await Promise.all(Array.from({ length: 4 }, () => login.post('/auth/admin/auth', ADMIN)))
  t.ok(refused.every(isLockout), `locked on every worker: ${refused.map((res) => res.status).join(', ')}`)
})
