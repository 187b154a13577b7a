import t from 'tap'
import { adminRequest, login, withAdmin } from './helpers/admin.ts'
import { day } from './helpers/booking-api.ts'
import { startStack } from './helpers/stack.ts'

// seed-v2.md §6: /cache/stats for the whole instance; /cache/clear, open to anyone in the legacy server, is admin-only.

const { api } = await startStack(t, { mode: 'in-process', env: withAdmin() })

interface CacheStatsBody { cache: { size: number, hits: number, misses: number, hit_rate: string, max_size: number, usage: string }, timestamp: number, timestamp_iso: string }

t.test('/cache/stats has the v2 shape, for the whole instance', async (t) => {
  await api.post('/api/create_table', { clinic_id: 501, days: { [day(2)]: { capacity_total: 5 } } })
  for (let i = 0; i < 6; i++) await api.get('/api/booking_days?clinic_id=501')
  const stats = (await api.get('/cache/stats', { secret: null })).json<CacheStatsBody>()
  t.match(stats.cache, { size: Number, hits: Number, misses: Number, hit_rate: /^\d+\.\d\d%$/, max_size: 10000, usage: /^\d+\.\d%$/ })
  t.ok(stats.cache.size >= 1, 'the clinic is cached')
  t.ok(stats.cache.hits >= 5, `hits counted by the coordinator (${stats.cache.hits})`)
  // Legacy's time.time(): seconds since the epoch, with a fraction (issue 9 item 7); the ISO form rides beside it.
  t.type(stats.timestamp, 'number')
  t.ok(Math.abs(stats.timestamp - Date.now() / 1000) < 300, `a current epoch in seconds (${stats.timestamp})`)
  t.equal(Date.parse(stats.timestamp_iso), Math.round(stats.timestamp * 1000))
})

t.test('/stats keeps the legacy float timestamp too; /health keeps its ISO string', async (t) => {
  const stats = (await api.get('/stats', { secret: null })).json<{ timestamp: unknown, timestamp_iso: string }>()
  t.type(stats.timestamp, 'number')
  t.match(stats.timestamp_iso, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.type((await api.get('/health', { secret: null })).json<{ timestamp: unknown }>().timestamp, 'string')
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
  t.match(cleared.json(), { message: 'Cache cleared successfully', timestamp: Number, timestamp_iso: /Z$/ })
  t.equal((await api.get('/cache/stats', { secret: null })).json<CacheStatsBody>().cache.size, 0, 'the instance cache is empty')
})
