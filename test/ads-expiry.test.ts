import t from 'tap'
import postgres from 'postgres'
import { migrate } from '../src/db/migrate.ts'
import { expireAdsOnce } from '../coordinator/jobs.ts'
import { legacyClient } from './helpers/legacy-client.ts'
import { startDatabase, startServer, waitFor } from './helpers/server.ts'

// Ad expiry (legacy-api.md §2.12): legacy deleted expired ads from every worker at once, hourly. Ours runs in the
// coordinator, once a minute for the whole cluster, and marks them expired: kept, shown nowhere.

const db = await startDatabase()
await migrate(db.url)
const sql = postgres(db.url, { max: 4, onnotice: () => {} })
t.teardown(async () => {
  await sql.end()
  await db.destroy()
})

async function seedAd (publicId: string, expiresAt: Date | null, active = true): Promise<void> {
  await sql`
    INSERT INTO ads (public_id, clinic_id, ad_status, ad_state, expires_at, expired_date, activated_at)
    VALUES (${publicId}, 7, ${active}, 'كركوك', ${expiresAt}, ${expiresAt === null ? 'سيُحدد عند التفعيل' : '01/01/2020 10:00'}, now())`
}

t.test('the job marks ads past their expiry, keeps them, and runs once per minute however many ask', async (t) => {
  await sql`TRUNCATE ads, job_runs`
  await seedAd('7_00000001_1', new Date(Date.now() - 60_000))
  await seedAd('7_00000002_1', new Date(Date.now() + 3600_000))
  await seedAd('7_00000003_1', null, false)
  const other = postgres(db.url, { max: 1, onnotice: () => {} })
  t.teardown(() => other.end())
  const now = new Date()
  const [a, b] = await Promise.all([expireAdsOnce(sql, now), expireAdsOnce(other, now)])
  t.equal([a, b].filter((run) => run !== null).length, 1, 'two coordinators in the same minute: one run')
  t.equal((a ?? b)?.expired, 1)
  const rows = await sql<Array<{ public_id: string, expired: boolean }>>`SELECT public_id, expired_at IS NOT NULL AS expired FROM ads ORDER BY public_id`
  t.same(rows, [{ public_id: '7_00000001_1', expired: true }, { public_id: '7_00000002_1', expired: false }, { public_id: '7_00000003_1', expired: false }],
    'kept, marked; an ad not yet activated has no expiry')
  t.equal(await expireAdsOnce(sql, now), null, 'the same minute again: nothing')
  const next = await expireAdsOnce(sql, new Date(now.getTime() + 60_000))
  t.equal(next?.expired, 0, 'the next minute runs, and finds nothing new')
})

t.test('an image no ad points to any more goes once a day old; one in use stays', async (t) => {
  await sql`TRUNCATE ads, job_runs`
  await sql`DELETE FROM ad_images`
  await sql`INSERT INTO ad_images (sha256, content_type, size, bytes, created_at) VALUES
    (${'a'.repeat(64)}, 'image/png', 1, '\\x00', now() - interval '2 days'),
    (${'b'.repeat(64)}, 'image/png', 1, '\\x00', now() - interval '2 days'),
    (${'c'.repeat(64)}, 'image/png', 1, '\\x00', now())`
  await sql`INSERT INTO ads (public_id, clinic_id, image_sha256) VALUES ('7_0000000b_1', 7, ${'b'.repeat(64)})`
  const run = await expireAdsOnce(sql)
  t.equal(run?.imagesDropped, 1)
  t.same((await sql<Array<{ sha256: string }>>`SELECT sha256 FROM ad_images ORDER BY sha256`).map((r) => r.sha256[0]), ['b', 'c'])
})

t.test('in a cluster of two workers the coordinator alone runs it, once per minute, and the listings follow', async (t) => {
  await sql`TRUNCATE ads, job_runs`
  await seedAd('7_0000000a_1', new Date(Date.now() - 60_000)) // expired before the server starts
  const server = await startServer({ workers: 2, env: { DATABASE_URL: db.url } })
  t.teardown(server.cleanup)
  const api = legacyClient(server.url)
  const runs = (): Array<{ proc?: string, runKey?: string, expired?: number }> => server.output().split('\n')
    .filter((line) => line.includes('ad expiry run'))
    .map((line) => { try { return JSON.parse(line) as { proc?: string, runKey?: string, expired?: number } } catch { return {} } })

  const first = await waitFor('the first expiry run', async () => runs().length > 0 ? runs() : null, 20_000)
  t.equal(first.length, 1, 'one run at start for the whole cluster, not one per worker')
  t.equal(first[0]?.proc, 'coordinator')
  t.equal(first[0]?.expired, 1)

  // An active ad, listed (and so cached), then past its expiry: the next minute's run drops it from the listings.
  await seedAd('7_0000000b_1', new Date(Date.now() + 3600_000))
  await api.post('/api/update_ad', { ad_ID: '7_0000000b_1', ad_state: 'بغداد' }) // a write: the listing is rendered afresh
  const listed = (await api.get('/api/get_all_ads')).json<{ items: Array<{ ad_ID: string }> }>()
  t.same(listed.items.map((item) => item.ad_ID), ['7_0000000b_1'])
  await sql`UPDATE ads SET expires_at = now() - interval '1 second' WHERE public_id = '7_0000000b_1'`
  await waitFor('the next minute’s run', async () => {
    const res = await api.get('/api/get_all_ads')
    return res.json<{ count: number }>().count === 0 ? true : null
  }, 75_000, 500)
  const all = runs()
  t.equal(all.length, 2, 'two runs with something to do, one line each')
  t.same(new Set(all.map((run) => run.proc)), new Set(['coordinator']))
  t.equal(new Set(all.map((run) => run.runKey)).size, all.length, 'one run per minute')
  const [jobs] = await sql<Array<{ n: number, expired: number }>>`
    SELECT count(*)::int AS n, sum((detail->>'expired')::int)::int AS expired FROM job_runs WHERE job = 'ad-expiry'`
  t.equal(jobs?.expired, 2, 'each ad marked once')
  t.ok((jobs?.n ?? 0) >= 2)
  t.equal((await api.get('/api/get_ad_image?ad_ID=7_0000000b_1')).status, 404, 'an expired ad is gone for the apps, as legacy deleted it')
  const [kept] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM ads WHERE expired_at IS NOT NULL`
  t.equal(kept?.n, 2, 'and kept in the database')
})
