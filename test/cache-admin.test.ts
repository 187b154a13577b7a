import t from 'tap'
import { adminRequest, login, withAdmin } from './helpers/admin.ts'
import { day } from './helpers/booking-api.ts'
import { startStack } from './helpers/stack.ts'

// seed-v2.md §6: /cache/stats for the whole instance; /cache/clear, open to anyone in the legacy server, is admin-only.

const { api } = await startStack(t, { mode: 'in-process', env: withAdmin() })

interface CacheStatsBody { cache: { size: number, hits: number, misses: number, hit_rate: string, max_size: number, usage: string }, timestamp: string }

t.test('/cache/stats has the v2 shape, for the whole instance', async (t) => {
  await api.post('/api/create_table', { clinic_id: 501, days: { [day(2)]: { capacity_total: 5 } } })
  for (let i = 0; i < 6; i++) await api.get('/api/booking_days?clinic_id=501')
  const stats = (await api.get('/cache/stats', { secret: null })).json<CacheStatsBody>()
  t.match(stats.cache, { size: Number, hits: Number, misses: Number, hit_rate: /^\d+\.\d\d%$/, max_size: 10000, usage: /^\d+\.\d%$/ })
  t.ok(stats.cache.size >= 1, 'the clinic is cached')
  t.ok(stats.cache.hits >= 5, `hits counted by the coordinator (${stats.cache.hits})`)
  t.match(stats.timestamp, /Z$/)
})

t.test('/cache/clear needs an admin: 401 without a token, even with the app secret', async (t) => {
  const anonymous = await api.post('/cache/clear', undefined, { secret: null })
  t.equal(anonymous.status, 401)
  const withSecret = await api.post('/cache/clear')
  t.equal(withSecret.status, 401)
  t.ok((await api.get('/cache/stats', { secret: null })).json<CacheStatsBody>().cache.size >= 1, 'nothing was cleared')
  const { accessToken: token } = await login(api)
  const cleared = await adminRequest(api, 'POST', '/cache/clear', { token })
  t.equal(cleared.status, 200)
  t.match(cleared.json(), { message: 'Cache cleared successfully', timestamp: /Z$/ })
  t.equal((await api.get('/cache/stats', { secret: null })).json<CacheStatsBody>().cache.size, 0, 'the instance cache is empty')
})
