import t from 'tap'
import { request, startDatabase, startServer } from './helpers/server.ts'
import { adminRequest, login, withAdmin } from './helpers/admin.ts'
import { appHeaders, day } from './helpers/booking-api.ts'

// seed-v2.md §6: /cache/stats for the whole instance; /cache/clear, open to anyone in the legacy server, is admin-only.

const db = await startDatabase()
const server = await startServer({ workers: 2, env: withAdmin(db.url) })
t.teardown(async () => {
  await server.cleanup()
  await db.destroy()
})

interface CacheStatsBody { cache: { size: number, hits: number, misses: number, hit_rate: string, max_size: number, usage: string }, timestamp: string }

t.test('/cache/stats has the v2 shape, for the whole instance', async (t) => {
  await request(`${server.url}/api/create_table`, { method: 'POST', headers: appHeaders, body: JSON.stringify({ clinic_id: 501, days: { [day(2)]: { capacity_total: 5 } } }) })
  for (let i = 0; i < 6; i++) await request(`${server.url}/api/booking_days?clinic_id=501`, { headers: appHeaders })
  const stats = (await request(`${server.url}/cache/stats`)).json<CacheStatsBody>()
  t.match(stats.cache, { size: Number, hits: Number, misses: Number, hit_rate: /^\d+\.\d\d%$/, max_size: 10000, usage: /^\d+\.\d%$/ })
  t.ok(stats.cache.size >= 1, 'the clinic is cached')
  t.ok(stats.cache.hits >= 5, `hits counted across workers (${stats.cache.hits})`)
  t.match(stats.timestamp, /Z$/)
})

t.test('/cache/clear needs an admin: 401 without a token, even with the app secret', async (t) => {
  const anonymous = await request(`${server.url}/cache/clear`, { method: 'POST' })
  t.equal(anonymous.status, 401)
  const withSecret = await request(`${server.url}/cache/clear`, { method: 'POST', headers: appHeaders })
  t.equal(withSecret.status, 401)
  t.ok((await request(`${server.url}/cache/stats`)).json<CacheStatsBody>().cache.size >= 1, 'nothing was cleared')
  const { accessToken: token } = await login(server.url)
  const cleared = await adminRequest(server.url, 'POST', '/cache/clear', { token })
  t.equal(cleared.status, 200)
  t.match(cleared.json(), { message: 'Cache cleared successfully', timestamp: /Z$/ })
  t.equal((await request(`${server.url}/cache/stats`)).json<CacheStatsBody>().cache.size, 0, 'the instance cache is empty')
})
