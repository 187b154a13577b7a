import t from 'tap'
import { randomUUID } from 'node:crypto'
import { ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, withAdmin } from './helpers/admin.ts'
import { connect } from './helpers/legacy-client.ts'
import { startDatabase, startServer, stats, waitFor, alive } from './helpers/server.ts'
import { dashboard, type Dashboard, type Session } from './helpers/dashboard.ts'
import { signToken } from '../src/auth/tokens.ts'

// Issue 12 item 5: an access token dies with its session. Every access token names its refresh-token family; a
// revoked family (a refresh token presented twice, logout, "end every session", a password change or reset) is held
// by the coordinator and pushed to every worker, so the check costs no query, holds on every worker at once, survives
// a worker's and the coordinator's restart, and reaches another instance on the same database through NOTIFY.

const db = await startDatabase({ statements: true })
t.teardown(db.destroy)
const env = withAdmin(db.url, { RATE_LIMIT_AUTH: '30000', RATE_LIMIT_DEFAULT: '30000' })
const server = await startServer({ workers: 3, env })
t.teardown(server.cleanup)
const sql = connect(db.url)
t.teardown(() => sql.end())
await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`
const api = dashboard(server.url)

// Fresh connections spread over the three workers; 24 requests miss a given worker with odds of (2/3)^24 < 1e-4.
const SPREAD = 24
async function everywhere (client: Dashboard, token: string): Promise<number[]> {
  return [...new Set(await Promise.all(Array.from({ length: SPREAD }, async () => (await client.get('/auth/me', { token })).status)))].sort()
}

// Calls of the guard's admin lookup, as pg_stat_statements counts them.
async function adminLookups (): Promise<number> {
  const [row] = await sql<Array<{ n: number }>>`
    SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements WHERE query LIKE '%FROM admins a WHERE a.id%'`
  return row?.n ?? 0
}

t.test('a reused refresh token ends its family: the access tokens it issued stop on every worker, without a query', async (t) => {
  const session = await api.adminLogin()
  const rotated = (await api.send('POST', '/auth/refresh', { refreshToken: session.refreshToken })).json<{ data: { accessToken: string } }>().data
  t.same(await everywhere(api, session.accessToken), [200], 'the first access token works on every worker')
  t.same(await everywhere(api, rotated.accessToken), [200], 'and the rotated one')
  const other = await api.adminLogin()

  const reuse = await api.send('POST', '/auth/refresh', { refreshToken: session.refreshToken })
  t.equal(reuse.status, 401, 'the rotated refresh token, presented again')
  const before = await adminLookups()
  t.same(await everywhere(api, session.accessToken), [401], 'the family\'s first access token stops at once, everywhere')
  t.same(await everywhere(api, rotated.accessToken), [401], 'and the newest one (legacy: both lived up to 15 minutes)')
  t.equal(await adminLookups(), before, `${SPREAD * 2} refusals, not one query`)
  t.same(await everywhere(api, other.accessToken), [200], 'another session of the same admin goes on')
  const [row] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM revoked_families WHERE expires_at > now() + interval '14 minutes'`
  t.ok((row?.n ?? 0) >= 1, 'kept as long as a token issued before it can live')
})

t.test('a token that names no session is refused, however well signed', async (t) => {
  const [admin] = await sql<Array<{ id: number }>>`SELECT id FROM admins WHERE email = ${ADMIN_EMAIL}`
  const bare = signToken(JWT_SECRET, { sub: String(admin?.id), type: 'access', ttlSeconds: 900 })
  t.same(await everywhere(api, bare.token), [401])
  const invented = signToken(JWT_SECRET, { sub: String(admin?.id), type: 'access', ttlSeconds: 900, family: randomUUID() })
  t.same(await everywhere(api, invented.token), [200], 'a family is not looked up: the signature vouches for it, revocation is what is checked')
})

async function loggedOut (): Promise<Session> {
  const session = await api.adminLogin()
  t.equal((await api.send('POST', '/auth/logout', undefined, { token: session.accessToken })).status, 200)
  return session
}

t.test('a restarted worker and a restarted coordinator keep refusing what was revoked before they started', async (t) => {
  const session = await loggedOut()
  t.same(await everywhere(api, session.accessToken), [401])

  const before = await stats(server)
  const victim = before.workers[0]?.pid as number
  process.kill(victim, 'SIGKILL')
  await waitFor('a replacement worker', async () => {
    const now = await stats(server)
    return now.workers.length === 3 && !now.workers.some((w) => w.pid === victim) && !alive(victim) ? now : null
  }, 30_000, 200)
  t.same(await everywhere(api, session.accessToken), [401], 'the new worker loaded the revocation before its first request')

  const coordinator = before.coordinator?.pid as number
  process.kill(coordinator, 'SIGKILL')
  await waitFor('a new coordinator', async () => {
    const now = await stats(server)
    return now.coordinator !== null && now.coordinator.pid !== coordinator && now.coordinator.workers_connected === 3 ? now : null
  }, 30_000, 200)
  const afterRestart = await loggedOut()
  t.same(await everywhere(api, afterRestart.accessToken), [401], 'a revocation made after the restart reaches every worker')
  t.same(await everywhere(api, session.accessToken), [401], 'and the one from before is still held')
})

t.test('another instance on the same database learns a revocation through NOTIFY', async (t) => {
  const second = await startServer({ workers: 1, env })
  t.teardown(second.cleanup)
  const other = dashboard(second.url)
  const session = await api.adminLogin()
  t.same(await everywhere(other, session.accessToken), [200], 'a session opened on the first instance works on the second')
  t.equal((await other.send('POST', '/auth/change-password', { current_password: ADMIN_PASSWORD, new_password: `${ADMIN_PASSWORD}-2` }, { token: (await other.adminLogin()).accessToken })).status, 200,
    'a password change on the second instance')
  await waitFor('the first instance to refuse the session', async () => (await everywhere(api, session.accessToken)).join() === '401' || null)
  t.pass('ended on the first instance too')
  await other.send('POST', '/auth/change-password', { current_password: `${ADMIN_PASSWORD}-2`, new_password: ADMIN_PASSWORD }, { token: (await other.adminLogin(ADMIN_EMAIL, `${ADMIN_PASSWORD}-2`)).accessToken })
})
