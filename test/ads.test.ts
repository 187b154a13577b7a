import t from 'tap'
import { createHash } from 'node:crypto'
import { digests, legacyClient, SECRET, startLegacyStack } from './helpers/legacy-client.ts'
import { request, stats, waitFor, type Response } from './helpers/server.ts'
import { dataUri, JPEG, multipart, PNG, WEBP, type Part } from './helpers/ads.ts'

// Clinic ads (legacy-api.md §2.12) through HTTP against the real server (two workers and the coordinator), each
// route's legacy shape pinned as the legacy server answers it (asked while these were written).

const { sql, api, server } = await startLegacyStack(t)
type Json = Record<string, unknown>

const AD_ID = /^7_[0-9a-f]{8}_\d{10}$/
const EXPIRY = /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/
const OWN_IMAGE = new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/api/ads/images/([0-9a-f]{64})$`)

async function ok (res: Promise<Response>): Promise<Json> {
  const answer = await res
  if (answer.status !== 200) throw new Error(`${answer.status}: ${answer.text}`)
  return answer.json()
}

async function newAd (fields: Json = {}): Promise<Json> {
  return await ok(api.post('/api/create_clinic_ad', { clinic_id: '٧', ad_image_url: 'https://img.example/a.jpg', ad_state: 'كركوك', ...fields }))
}

async function upload (parts: Part[], secret = true): Promise<Response> {
  const { body, contentType } = multipart(parts)
  const headers: Record<string, string> = { 'Content-Type': contentType }
  if (secret) headers['Doctor-Secret'] = SECRET
  return await request(`${server.url}/api/update_ad_with_image`, { method: 'POST', headers, body })
}

const tables = ['ads', 'ad_images'] as const

t.test('the doctor app requests an ad: stored inactive, answered in the legacy short form', async (t) => {
  const res = await api.post('/api/create_clinic_ad', {
    clinic_id: '٧', ad_image_url: 'https://img.example/a.jpg', ad_state: 'كركوك', ad_price: '١٠٠', ad_discount: '٢٠',
    ad_phonenumber: '٠٧٧٠', clinic_name: 'عيادة', ad_status: 'active', extra: 'ignored'
  })
  t.equal(res.status, 200)
  const body = res.json<Json>()
  t.same(Object.keys(body), ['ad_ID', 'ad_image', 'ad_state', 'clinic_id', 'ad_status', 'expired_date'])
  t.match(body, { ad_image: 'https://img.example/a.jpg', ad_state: 'كركوك', clinic_id: 7, ad_status: false, expired_date: 'سيُحدد عند التفعيل' })
  t.match(body['ad_ID'], AD_ID, '"<clinic>_<8 hex>_<unix seconds>"')
  const [row] = await sql<Json[]>`SELECT clinic_id, ad_status, ad_price, ad_discount, ad_phonenumber, clinic_name, team_message FROM ads WHERE public_id = ${body['ad_ID'] as string}`
  t.same(row, { clinic_id: 7, ad_status: false, ad_price: '100', ad_discount: '20', ad_phonenumber: '0770', clinic_name: 'عيادة', team_message: '' },
    'typed columns, digits in ASCII, the fields the app left out empty')
})

t.test('a request without its required fields, or with a clinic_id that is no number, is the legacy 400 and stores nothing', async (t) => {
  const before = await digests(sql, tables)
  const cases: Array<[unknown, string]> = [
    [{ ad_image_url: 'https://x/y.png', ad_state: 'كركوك' }, 'clinic_id مطلوب'],
    [{ clinic_id: 7, ad_state: 'كركوك' }, 'ad_image_url مطلوب'],
    [{ clinic_id: 7, ad_image_url: 'https://x/y.png', ad_state: '' }, 'ad_state مطلوب'],
    [{ clinic_id: 'سبعة', ad_image_url: 'https://x/y.png', ad_state: 'كركوك' }, 'clinic_id يجب أن يكون رقماً'],
    [[], 'Invalid JSON body'],
    ['{"clinic_id": ', 'Invalid JSON body']
  ]
  for (const [body, message] of cases) {
    const res = await api.post('/api/create_clinic_ad', body)
    t.equal(res.status, 400, message)
    t.same(res.json(), { error: { code: 'bad_request', message } })
  }
  const wrongType = await api.post('/api/create_clinic_ad', { clinic_id: 7, ad_image_url: 'https://x/y.png', ad_state: { a: 1 } })
  t.equal(wrongType.status, 400)
  t.equal(wrongType.json<{ error: { code: string } }>().error.code, 'bad_request')
  t.same(await digests(sql, tables), before)
})

t.test('get_ad_image finds one ad by ad_ID, a clinic’s by clinic_id, and asks for one of them', async (t) => {
  const ad = await newAd({ ad_state: 'بغداد' })
  const one = await ok(api.get(`/api/get_ad_image?ad_ID=${ad['ad_ID'] as string}`))
  t.same(one, ad, 'the same short form as at creation')
  const mine = await ok(api.get('/api/get_ad_image?clinic_id=7'))
  t.equal((mine['items'] as Json[])[0]?.['ad_ID'], ad['ad_ID'], 'newest first')
  t.equal(mine['count'], (mine['items'] as Json[]).length)
  t.same((await api.get('/api/get_ad_image?ad_ID=7_00000000_0')).json(), { error: { code: 'not_found', message: 'Ad not found' } })
  for (const query of ['', '?clinic_id=0', '?ad_ID=']) {
    const res = await api.get(`/api/get_ad_image${query}`)
    t.equal(res.status, 400, query)
    t.same(res.json(), { error: { code: 'bad_request', message: 'Either ad_ID or clinic_id is required' } })
  }
  t.equal((await api.get('/api/get_ad_image?clinic_id=seven')).status, 422, "FastAPI's int parse")
})

t.test('activation starts 24 hours; the active listings come from the shared cache and follow every write at once', async (t) => {
  await sql`DELETE FROM ads`
  const ad = await newAd()
  const id = ad['ad_ID'] as string
  t.same((await ok(api.get('/api/get_all_ads'))), { items: [], count: 0 }, 'an ad waits for activation')

  const before = Date.now()
  const on = await ok(api.post('/api/toggle_ad_status', { ad_ID: id }))
  t.same(on, { message: 'تم تغيير حالة الإعلان بنجاح', ad_ID: id, old_status: false, new_status: true })
  const [row] = await sql<Array<{ activated_at: Date, expires_at: Date, expired_date: string }>>`SELECT activated_at, expires_at, expired_date FROM ads WHERE public_id = ${id}`
  t.ok(row !== undefined && Math.abs(row.expires_at.getTime() - row.activated_at.getTime() - 24 * 3600_000) < 1000, 'expires 24 h after activation')
  t.ok(row !== undefined && row.activated_at.getTime() >= before - 1000)
  t.match(row?.expired_date, EXPIRY)

  // Both workers, fresh connections: every read after the write's 200 sees it.
  for (let i = 0; i < 4; i++) {
    const list = await ok(api.get('/api/get_all_ads'))
    t.same(list, { items: [{ ...ad, ad_status: true, expired_date: row?.expired_date }], count: 1 })
  }
  const cached = await api.get('/api/get_all_ads')
  t.match(cached.headers['etag'], /^"as-\d+"$/)
  const revalidated = await request(`${server.url}/api/get_all_ads`, { headers: { 'Doctor-Secret': SECRET, 'If-None-Match': cached.headers['etag'] as string } })
  t.equal(revalidated.status, 304, 'unchanged: 304')
  const hitsBefore = (await ok(request(`${server.url}/cache/stats`)))['cache'] as Json
  await ok(api.get('/api/get_all_ads'))
  // A read a worker answers from its own copy reaches the instance's figures with that worker's next push (1 s).
  const served = await waitFor('the read to show in the cache figures', async () => {
    const hitsAfter = (await ok(request(`${server.url}/cache/stats`)))['cache'] as Json
    return (hitsAfter['hits'] as number) > (hitsBefore['hits'] as number) ? true : null
  }, 5000, 100).catch(() => false)
  t.ok(served, 'served from the cache')

  await ok(api.post('/api/update_ad', { ad_ID: id, ad_state: 'أربيل' }))
  for (let i = 0; i < 4; i++) t.equal(((await ok(api.get('/api/get_all_ads')))['items'] as Json[])[0]?.['ad_state'], 'أربيل', 'an update shows at once')
  t.equal(((await ok(api.get('/api/clinic_ads')))['items'] as Json[])[0]?.['ad_state'], 'أربيل')

  const off = await ok(api.post('/api/toggle_ad_status', { ad_ID: id }))
  t.same([off['old_status'], off['new_status']], [true, false])
  t.same(await ok(api.get('/api/get_all_ads')), { items: [], count: 0 }, 'switched off: gone at once')
  t.same(await ok(api.get('/api/clinic_ads')), { items: [], count: 0 })
})

t.test('clinic_ads shows active ads whole with the doctor’s name; clinic_ads_all shows every ad', async (t) => {
  await sql`DELETE FROM ads`
  await ok(api.post('/doctor/profile', { general_info: { clinic_id: 7, doctor_name: 'د. سلمى' } }))
  const active = await ok(api.post('/api/ads', { clinic_id: 7, ad_status: true, ad_state: 'كركوك' }))
  const pending = await newAd({ clinic_name: 'عيادة' })
  const full = await ok(api.get('/api/clinic_ads'))
  const [item] = full['items'] as Json[]
  t.equal(full['count'], 1)
  t.same(item, {
    ad_ID: (active['data'] as Json)['ad_ID'], ad_state: 'كركوك', clinic_id: 7, ad_status: true, doctor_name: 'د. سلمى',
    ad_phonenumber: '', ad_subtitle: '', ad_discount: ''
  }, 'the three fields the patient app reads default to "", after doctor_name, as legacy appended them')
  const all = await ok(api.get('/api/clinic_ads_all'))
  t.equal(all['count'], 2)
  const newest = (all['items'] as Json[])[0] as Json
  t.same(Object.keys(newest), ['ad_ID', 'request_date', 'clinic_name', 'ad_subtitle', 'ad_description', 'ad_address', 'ad_phonenumber', 'ad_state',
    'ad_discount', 'ad_price', 'team_message', 'ad_image_url', 'clinic_id', 'ad_status', 'expired_date', 'doctor_name'], 'the create payload’s keys, in its order')
  t.match(newest, { ad_ID: pending['ad_ID'], clinic_name: 'عيادة', ad_status: false, doctor_name: 'د. سلمى' })
  t.match(newest['request_date'], /^\d{2}\/\d{2}\/\d{4}$/)
})

t.test('update_ad changes the allowed fields, reads the older names, and sets no expiry with ad_status', async (t) => {
  const ad = await newAd()
  const id = ad['ad_ID'] as string
  const res = await ok(api.post('/api/update_ad', {
    ad_ID: id, ad_phone: '٠٧٨', discount_percentage: '٣٠', ad_price: 55, clinic_address: 'شارع', ad_location: { lat: 35.4, lng: 44.3 },
    created_date: '23/10/2025', ad_status: 'yes', team_message: 'not an update_ad field', bogus: 1
  }))
  t.equal(res['message'], 'تم تحديث الإعلان بنجاح')
  t.equal(res['ad_ID'], id)
  t.match(res['updated_data'], {
    ad_ID: id, ad_phonenumber: '078', ad_discount: '30', ad_price: '55', clinic_address: 'شارع', ad_location: { lat: 35.4, lng: 44.3 },
    created_date: '23/10/2025', ad_status: true, expired_date: 'سيُحدد عند التفعيل', team_message: ''
  })
  t.notOk('activated_at' in (res['updated_data'] as Json), 'no activation here, as legacy')
  const both = await ok(api.post('/api/update_ad', { ad_ID: id, ad_phone: '1', ad_phonenumber: '2', discount_percentage: '3', ad_discount: '4', ad_status: 'active' }))
  t.match(both['updated_data'], { ad_phonenumber: '2', ad_discount: '4', ad_status: false }, 'the newer names win; "active" is not a yes, as legacy')

  t.same((await api.post('/api/update_ad', { ad_ID: '7_00000000_0' })).json(), { error: { code: 'not_found', message: 'Ad not found' } })
  t.same((await api.post('/api/update_ad', {})).json(), { error: { code: 'bad_request', message: 'ad_ID is required' } })
  t.equal((await api.post('/api/update_ad', [])).status, 422, "a body that is no object: FastAPI's 422, as `payload: dict` gave")
})

t.test('update_ad_with_image stores an image once, by its bytes, and serves it from its own URL', async (t) => {
  const ad = await newAd()
  const id = ad['ad_ID'] as string
  const res = await upload([{ name: 'ad_ID', value: id }, { name: 'image', file: { filename: 'ad.png', type: 'application/octet-stream', bytes: PNG } }, { name: 'ad_price', value: '٤٤' }, { name: 'team_message', value: 'مرحبا' }])
  t.equal(res.status, 200)
  const updated = res.json<{ message: string, ad_ID: string, updated_data: Json }>()
  t.same([updated.message, updated.ad_ID], ['تم تحديث الإعلان بنجاح', id])
  t.match(updated.updated_data, { ad_price: '44', team_message: 'مرحبا' })
  const url = updated.updated_data['ad_image_url'] as string
  const sha = OWN_IMAGE.exec(url)?.[1]
  t.equal(sha, createHash('sha256').update(PNG).digest('hex'), 'a URL on this server named by the SHA-256 of the bytes, not a data URI')
  t.equal((await ok(api.get(`/api/get_ad_image?ad_ID=${id}`)))['ad_image'], url, 'what the apps receive as ad_image')

  const image = await request(url)
  t.equal(image.status, 200, 'public, as an image tag sends no secret')
  t.equal(image.headers['content-type'], 'image/png', 'the type read from the bytes, not the one declared')
  t.equal(image.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.equal(image.headers['etag'], `"${sha}"`)
  t.equal(image.headers['x-content-type-options'], 'nosniff')
  t.equal(image.headers['content-length'], String(PNG.length), 'the bytes uploaded')
  t.equal((await request(url, { headers: { 'If-None-Match': `"${sha}"` } })).status, 304)
  t.equal((await request(url.replace(/[0-9a-f]{64}$/, 'f'.repeat(64)))).status, 404)

  const other = await newAd()
  await ok(upload([{ name: 'ad_ID', value: other['ad_ID'] as string }, { name: 'image', file: { filename: 'same.png', type: 'image/png', bytes: PNG } }]))
  const [count] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM ad_images WHERE sha256 = ${sha ?? ''}`
  t.equal(count?.n, 1, 'the same bytes for two ads: stored once')

  for (const [name, bytes, type] of [['JPEG', JPEG, 'image/jpeg'], ['WebP', WEBP, 'image/webp']] as const) {
    const sent = await upload([{ name: 'ad_ID', value: id }, { name: 'image', file: { filename: 'x.bin', type: 'image/png', bytes } }])
    const served = await request((sent.json<{ updated_data: Json }>().updated_data['ad_image_url']) as string)
    t.equal(served.headers['content-type'], type, `${name} sniffed`)
  }
  const byUrl = await upload([{ name: 'ad_ID', value: id }, { name: 'ad_image_url', value: 'https://firebase.example/ad.jpg' }, { name: 'image', file: { filename: 'x.png', type: 'image/png', bytes: PNG } }])
  t.equal(byUrl.json<{ updated_data: Json }>().updated_data['ad_image_url'], 'https://firebase.example/ad.jpg', 'a URL sent along wins over the file, as legacy')
})

t.test('an upload that is not an image, or no ad, is refused and nothing is stored', async (t) => {
  const ad = await newAd()
  const id = ad['ad_ID'] as string
  const before = await digests(sql, tables)
  const text = await upload([{ name: 'ad_ID', value: id }, { name: 'image', file: { filename: 'ad.png', type: 'image/png', bytes: Buffer.from('<html>not an image</html>') } }])
  t.equal(text.status, 415)
  t.same(text.json(), { error: { code: 'image_error', message: 'the image must be a PNG, JPEG or WebP file' } })
  const empty = await upload([{ name: 'ad_ID', value: id }, { name: 'image', file: { filename: 'ad.png', type: 'image/png', bytes: Buffer.alloc(0) } }])
  t.equal(empty.status, 400)
  const gif = await upload([{ name: 'ad_ID', value: id }, { name: 'image', file: { filename: 'ad.gif', type: 'image/gif', bytes: Buffer.from('GIF89a\x01\x00\x01\x00') } }])
  t.equal(gif.status, 415, 'a GIF is not one of the three')
  const fakeUri = await api.post('/api/update_ad', { ad_ID: id, ad_image_url: 'data:image/png;base64,PGh0bWw+' })
  t.equal(fakeUri.status, 415, 'a data URI is checked by its bytes too')
  const missing = await upload([{ name: 'ad_ID', value: '7_00000000_0' }, { name: 'image', file: { filename: 'ad.png', type: 'image/png', bytes: PNG } }])
  t.equal(missing.status, 404)
  t.same(missing.json(), { error: { code: 'not_found', message: 'الإعلان غير موجود' } })
  const noId = await upload([{ name: 'image', file: { filename: 'ad.png', type: 'image/png', bytes: PNG } }])
  t.equal(noId.status, 422)
  t.same(noId.json<{ detail: Array<{ loc: string[] }> }>().detail[0]?.loc, ['body', 'ad_ID'], "FastAPI's missing form field")
  const json = await api.post('/api/update_ad_with_image', { ad_ID: id })
  t.equal(json.status, 422, 'JSON is no form: ad_ID is missing, as legacy')
  t.same(await digests(sql, tables), before, 'nothing stored, no ad changed')
})

t.test('a 3 MiB upload is a 413 and the workers keep serving; an image past MAX_AD_IMAGE_BYTES is a 413 too', async (t) => {
  const ad = await newAd()
  const pids = (await stats(server)).workers.map((w) => w.pid).sort()
  const big = await upload([{ name: 'ad_ID', value: ad['ad_ID'] as string }, { name: 'image', file: { filename: 'big.jpg', type: 'image/jpeg', bytes: Buffer.concat([JPEG, Buffer.alloc(3 * 1024 * 1024)]) } }])
  t.equal(big.status, 413)
  t.equal(big.json<{ code: string }>().code, 'body_too_large', 'past the route’s own body limit')
  const over = await upload([{ name: 'ad_ID', value: ad['ad_ID'] as string }, { name: 'image', file: { filename: 'over.jpg', type: 'image/jpeg', bytes: Buffer.concat([JPEG, Buffer.alloc(2 * 1024 * 1024)]) } }])
  t.equal(over.status, 413)
  t.same(over.json(), { error: { code: 'image_error', message: `the image must not be larger than ${2 * 1024 * 1024} bytes` } }, 'within the body limit, past the image limit')
  const json = await api.post('/api/toggle_ad_status', { ad_ID: 'x', pad: 'x'.repeat(100 * 1024) })
  t.equal(json.status, 413, 'the other routes keep MAX_BODY_BYTES')
  for (let i = 0; i < 6; i++) t.equal((await api.get('/api/get_all_ads')).status, 200, 'still serving')
  t.same((await stats(server)).workers.map((w) => w.pid).sort(), pids, 'no worker was replaced')
  t.equal((await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM ad_images WHERE size > ${2 * 1024 * 1024}`)[0]?.n, 0)
})

t.test('a data URI sent as ad_image_url becomes a stored image; our own URL sent back keeps pointing at it', async (t) => {
  const created = await newAd({ ad_image_url: dataUri(PNG) })
  const url = created['ad_image'] as string
  t.match(url, OWN_IMAGE, 'the listing carries a URL, not the data URI')
  const updated = await ok(api.post('/api/update_ad', { ad_ID: created['ad_ID'], ad_image_url: url.replace('127.0.0.1', 'localhost') }))
  t.equal((updated['updated_data'] as Json)['ad_image_url'], url, 'the dashboard posting back what it read changes nothing')
  const [row] = await sql<Array<{ image_url: string | null, image_sha256: string | null }>>`SELECT image_url, image_sha256 FROM ads WHERE public_id = ${created['ad_ID'] as string}`
  t.same(row, { image_url: null, image_sha256: OWN_IMAGE.exec(url)?.[1] })
})

t.test('the older /api/ads routes: post an ad whole, read it by row id or clinic', async (t) => {
  const posted = await ok(api.post('/api/ads', { clinic_id: '٧', ad_price: '١٠٠ IQD', ad_status: 'yes', ad_phonenumber: '٠٧٧', x: 1 }))
  t.same(Object.keys(posted), ['message', 'ad_id', 'clinic_id', 'data'])
  t.match(posted, { message: 'success', clinic_id: 7, data: { ad_phonenumber: '077', ad_price: 100, clinic_id: 7, ad_status: true } })
  t.match((posted['data'] as Json)['ad_ID'], AD_ID, 'an ad_ID too, so the app routes can find the ad')
  const one = await ok(api.get(`/api/ads/${posted['ad_id'] as number}`))
  t.same(Object.keys(one), ['id', 'clinic_id', 'ad_status', 'created_at', 'data'])
  t.same(one['data'], posted['data'])
  t.match(one['created_at'], /Z$/)
  const mine = await ok(api.get('/api/ads/by-clinic/7'))
  t.equal((mine['items'] as Json[])[0]?.['id'], posted['ad_id'])
  t.same((await api.get('/api/ads/999999')).json(), { error: { code: 'not_found', message: 'Ad not found' } })
  t.equal((await api.get('/api/ads/abc')).status, 422)
  for (const body of [{}, { clinic_id: 'abc' }, { clinic_id: 7.5 }]) {
    t.same((await api.post('/api/ads', body)).json(), { error: { code: 'bad_request', message: 'clinic_id must be provided and numeric' } })
  }
  const dated = await ok(api.post('/api/ads', { clinic_id: 7, expired_date: '01/01/2020 10:00' }))
  const [row] = await sql<Array<{ expires_at: Date | null }>>`SELECT expires_at FROM ads WHERE id = ${dated['ad_id'] as number}`
  t.equal(row?.expires_at?.toISOString(), '2020-01-01T10:00:00.000Z', 'an expired_date sent is honoured by the expiry job')
})

t.test('delete_ad removes an ad for good', async (t) => {
  const ad = await newAd()
  const id = ad['ad_ID'] as string
  t.same(await ok(api.post('/api/delete_ad', { ad_ID: id })), { message: 'تم حذف الإعلان بنجاح', ad_ID: id, deleted: true })
  t.same((await api.post('/api/delete_ad', { ad_ID: id })).json(), { error: { code: 'not_found', message: 'Ad not found' } })
  t.same((await api.post('/api/delete_ad', {})).json(), { error: { code: 'bad_request', message: 'ad_ID is required' } })
})

t.test('every ads route takes the app secret (legacy left /api/ads and its reads open); the images are public', async (t) => {
  const anon = legacyClient(server.url)
  const before = await digests(sql, tables)
  for (const [method, path] of [
    ['POST', '/api/ads'], ['GET', '/api/ads/1'], ['GET', '/api/ads/by-clinic/7'], ['POST', '/api/create_clinic_ad'], ['GET', '/api/get_ad_image?clinic_id=7'],
    ['GET', '/api/get_all_ads'], ['GET', '/api/clinic_ads_all'], ['GET', '/api/clinic_ads'], ['POST', '/api/toggle_ad_status'],
    ['POST', '/api/delete_ad'], ['POST', '/api/update_ad'], ['POST', '/api/update_ad_with_image']
  ] as const) {
    const res = await anon.send(method, path, method === 'POST' ? { clinic_id: 7 } : undefined, { secret: null })
    t.equal(res.status, 403, `${method} ${path}`)
  }
  t.same(await digests(sql, tables), before)
  const [image] = await sql<Array<{ sha256: string }>>`SELECT sha256 FROM ad_images LIMIT 1`
  t.equal((await request(`${server.url}/api/ads/images/${image?.sha256 ?? ''}`)).status, 200)
})
