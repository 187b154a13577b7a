import t from 'tap'
import { SMTPServer } from 'smtp-server'
import { simpleParser } from 'mailparser'
import { ADMIN_EMAIL, withAdmin } from './helpers/admin.ts'
import { waitFor } from './helpers/server.ts'
import { startStack } from './helpers/stack.ts'
import { dashboard } from './helpers/dashboard.ts'

// Password reset by e-mail (legacy-api.md §2.2), for admins and staff, against a real SMTP server running in this
// process: the link is read from the message the server delivered. Every request of a test comes from its own
// address (X-Forwarded-For, one trusted hop), so the auth tier's limit is per test, and one test can exhaust it.

interface Delivered { to: string, from: string, subject: string, text: string, html: string }
const inbox: Delivered[] = []
let holdMail: Promise<void> = Promise.resolve()

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData (stream, _session, callback) {
    simpleParser(stream).then(async (mail) => {
      await holdMail
      inbox.push({
        to: mail.to === undefined ? '' : (Array.isArray(mail.to) ? mail.to[0]?.text ?? '' : mail.to.text),
        from: mail.from?.text ?? '',
        subject: mail.subject ?? '',
        text: mail.text ?? '',
        html: typeof mail.html === 'string' ? mail.html : ''
      })
      callback()
    }, callback)
  }
})
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve))
t.teardown(() => new Promise<void>((resolve) => smtp.close(() => resolve())))
const smtpPort = (smtp.server.address() as { port: number }).port

const { app, sql } = await startStack(t, {
  mode: 'in-process',
  env: withAdmin(undefined, {
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    MAIL_FROM: 'Tabeby <no-reply@tabeby.test>',
    FRONTEND_BASE_URL: 'https://dashboard.tabeby.test/',
    RATE_LIMIT_AUTH: '6',
    TRUST_PROXY_HOPS: '1'
  })
})
const api = dashboard(app)

type Json = Record<string, unknown>
let nextAddress = 0
// A client address of its own: the auth tier counts per address.
const from = (): Record<string, string> => ({ 'X-Forwarded-For': `10.9.0.${++nextAddress}` })

async function mailTo (address: string): Promise<Delivered & { token: string }> {
  const mail = await waitFor(`a mail to ${address}`, async () => inbox.find((m) => m.to === address) ?? null)
  inbox.splice(inbox.indexOf(mail), 1)
  const token = /https:\/\/dashboard\.tabeby\.test\/auth\/reset\?token=([0-9a-f]{64})/.exec(mail.text)?.[1]
  if (token === undefined) throw new Error(`no link in ${mail.text}`)
  return { ...mail, token }
}

const forgot = async (email: unknown, headers = from()) => await api.send('POST', '/auth/forgot-password', { email }, { headers })
const verify = async (token: string) => await api.get(`/auth/reset-password/verify?token=${token}`, { headers: from() })
const reset = async (token: string, password: string) => await api.send('POST', '/auth/reset-password', { token, new_password: password }, { headers: from() })

t.test('an admin resets a password through the link in the e-mail; every session ends; the link works once', async (t) => {
  const root = await api.adminLogin()
  const sent = await forgot(ADMIN_EMAIL.toUpperCase())
  t.same([sent.status, sent.json()], [200, { status: 'sent' }])
  const mail = await mailTo(ADMIN_EMAIL)
  t.equal(mail.subject, 'Reset your password')
  t.match(mail.from, /^"?Tabeby"? <no-reply@tabeby\.test>$/, 'MAIL_FROM')
  t.match(mail.html, `https://dashboard.tabeby.test/auth/reset?token=${mail.token}`, 'the link in both parts')
  const [stored] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM password_reset_tokens WHERE token_hash = ${mail.token}`
  t.equal(stored?.n, 0, 'the token itself is not stored')

  const valid = await verify(mail.token)
  t.equal(valid.status, 200)
  const state = valid.json<Json>()
  t.same(Object.keys(state).sort(), ['expires_in', 'reason', 'valid'])
  t.same([state['valid'], state['reason']], [true, null])
  t.ok((state['expires_in'] as number) > 1700 && (state['expires_in'] as number) <= 1800, `expires in ${String(state['expires_in'])} s`)

  t.equal((await reset(mail.token, 'short')).status, 422, 'the new password must be 8 characters or more')
  const done = await reset(mail.token, 'a-brand-new-password')
  t.same([done.status, done.json()], [200, { status: 'ok' }])
  t.equal((await api.get('/users/me', { token: root.accessToken })).status, 401, 'the access token from before stops (legacy: it stayed valid)')
  t.equal((await api.send('POST', '/auth/refresh', { refreshToken: root.refreshToken })).status, 401)
  const again = await reset(mail.token, 'another-password-9')
  t.same([again.status, again.json()], [410, { detail: 'used', code: 'reset_token_used' }])
  t.same((await verify(mail.token)).json(), { valid: false, expires_in: null, reason: 'used' })

  t.equal((await api.send('POST', '/auth/admin/auth', { email: ADMIN_EMAIL, password: 'root-password-for-tests' }, { secret: true, headers: from() })).status, 401)
  const session = await api.send('POST', '/auth/admin/auth', { email: ADMIN_EMAIL, password: 'a-brand-new-password' }, { secret: true, headers: from() })
  t.equal(session.status, 200)
  const trail = await api.get('/users/me/activity?page_size=100', { token: session.json<{ accessToken: string }>().accessToken })
  const events = trail.json<{ items: Json[] }>().items.map((item) => item['event'])
  t.ok(events.includes('password_reset_requested') && events.includes('password_reset'), 'both are in the trail')
})

t.test('an unknown e-mail gets the very same answer and no mail', async (t) => {
  const unknown = await forgot('nobody@tabeby.test')
  const staff = await api.send('POST', '/api/staff/create', { email: 'member@tabeby.test', name: 'Member', password: 'member-password' }, { secret: true })
  t.equal(staff.status, 200)
  const known = await forgot('member@tabeby.test')
  t.same([unknown.status, unknown.text], [known.status, known.text], 'byte for byte')
  await mailTo('member@tabeby.test')
  t.notOk(inbox.some((mail) => mail.to === 'nobody@tabeby.test'), 'nothing went to the unknown address')
  t.equal((await forgot('not-an-address')).status, 422)
  t.equal((await forgot(undefined)).status, 422)
})

t.test('a staff member resets too; a newer link replaces an older one; expired and invalid tokens', async (t) => {
  const session = await api.staffLogin('member@tabeby.test', 'member-password', { headers: from() })
  await forgot('member@tabeby.test')
  const older = await mailTo('member@tabeby.test')
  await forgot('member@tabeby.test')
  const newer = await mailTo('member@tabeby.test')
  t.same((await verify(older.token)).json<Json>()['valid'], false, 'only the newest link works')
  t.equal((await reset(newer.token, 'member-new-password')).status, 200)
  t.equal((await api.get('/staff/me', { token: session.accessToken })).status, 401, "the member's session ended")
  await api.staffLogin('member@tabeby.test', 'member-new-password', { headers: from() })

  await forgot('member@tabeby.test')
  const late = await mailTo('member@tabeby.test')
  await sql`UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`
  t.same((await verify(late.token)).json(), { valid: false, expires_in: null, reason: 'expired' })
  t.same((await reset(late.token, 'too-late-password')).json(), { detail: 'expired', code: 'reset_token_expired' })
  t.equal((await reset(late.token, 'too-late-password')).status, 410)
  for (const token of ['0'.repeat(64), 'abc', '']) {
    t.same((await verify(token)).json<Json>()['reason'], 'invalid', `verify ${JSON.stringify(token)}`)
    const res = await reset(token, 'whatever-password')
    t.same([res.status, res.json()], [400, { detail: 'invalid', code: 'reset_token_invalid' }], `reset ${JSON.stringify(token)}`)
  }
  t.equal((await api.get('/auth/reset-password/verify', { headers: from() })).status, 422, 'no token at all')
})

t.test('the answer never waits for the mail server', async (t) => {
  let release = (): void => {}
  holdMail = new Promise((resolve) => { release = resolve })
  inbox.length = 0
  const res = await forgot('member@tabeby.test')
  t.same(res.json(), { status: 'sent' }, 'answered while the SMTP server still holds the message')
  t.equal(inbox.length, 0, 'the message has not been accepted yet')
  release()
  holdMail = Promise.resolve()
  await mailTo('member@tabeby.test')
})

t.test('/auth/forgot-password is in the auth rate-limit tier, counted per address', async (t) => {
  const address = from()
  const answers: number[] = []
  for (let i = 0; i < 7; i++) answers.push((await forgot('nobody@tabeby.test', address)).status)
  t.same(answers, [200, 200, 200, 200, 200, 200, 429])
  t.equal((await forgot('nobody@tabeby.test')).status, 200, 'another address is not limited')
})
