import t from 'tap'
import { digests } from './helpers/legacy-client.ts'
import { startStack } from './helpers/stack.ts'

// The doctor app's profile and the directory reads (legacy-api.md §2.1 /doctor/profile*, §2.7), against the
// routes in-process and a real database.

const { sql, api } = await startStack(t, { mode: 'in-process' })

type Json = Record<string, unknown>

// The profile as the doctor app sends it (§1.3), digits in Arabic, a legacy accountStatus, an old waiting time.
function appProfile (clinicId: number, info: Json = {}, rest: Json = {}): Json {
  return {
    general_info: {
      clinic_id: clinicId,
      doctor_name: 'عمر حازم',
      email_address: 'Omar.Hazim@example.com',
      doctor_phone_number: '07701234569',
      gender: 'رجل',
      clinic_states: 'كركوك',
      experience_years: '٥',
      number_patients_treated: '٨٠٠٠',
      examination_fees: '٢٠٠٠٠',
      receiving_patients: '٢٠',
      accountStatus: true,
      profile_image_URL: 'http://img.example/7.jpg',
      ...info
    },
    specializations: ['طب الأسنان', { id: 40, name: 'تقويم' }, 'الغدد الصماء'],
    dents_addition: [{ id: 1, name: 'زراعة' }],
    certifications: ['MSc', 'ماجستير', 'BSN', ''],
    clinic_phone_number: { phone_1: '٠٧٧٠١٢٣٥٧٨٦٥', phone_2: '', phone_3: '' },
    clinic_days: { from: 'السبت', to: 'الخميس' },
    clinic_waiting_time: { value: '15' },
    ...rest
  }
}

interface ListItem {
  id: number
  name: string
  image: string | null
  specialty: string | null
  status: string
  patients: number | null
  experience: number | null
  email: string | null
  phone: string | null
  specializations: Array<{ id: number | null, name: string }>
  dents_addition?: Array<{ id: number | null, name: string }>
  plastic_addition?: Array<{ id: number | null, name: string }>
}
interface ListReply { items: ListItem[], total: number, page: number, pageSize: number }

async function list (query = ''): Promise<ListReply> {
  const res = await api.get(`/api/doctors${query}`)
  if (res.status !== 200) throw new Error(`list answered ${res.status}: ${res.text}`)
  return res.json<ListReply>()
}

async function postProfile (body: Json, path = '/doctor/profile'): Promise<void> {
  const res = await api.post(path, body)
  if (res.status !== 200) throw new Error(`profile post answered ${res.status}: ${res.text}`)
}

t.test('an empty directory lists no doctors: no placeholder "Doctor" row is invented', async (t) => {
  t.same(await list(), { items: [], total: 0, page: 1, pageSize: 100 })
  const [row] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM clinics`
  t.equal(row?.n, 0, 'the table is still empty')
})

t.test('a clinic closed before its doctor posted a profile is not listed as a doctor', async (t) => {
  await sql`INSERT INTO clinics (id, is_closed) VALUES (99, true)`
  t.teardown(async () => { await sql`DELETE FROM clinics WHERE id = 99` })
  t.same(await list(), { items: [], total: 0, page: 1, pageSize: 100 })
  t.same((await api.get('/api/doctors/stats/count')).json(), { total: 0, active: 0, inactive: 0, active_list: [], inactive_list: [] })
  t.same((await api.get('/api/clinics')).json(), [])
})

t.test('the legacy profile check answers success on both paths', async (t) => {
  for (const path of ['/doctor/profile', '/doctor/profile.json']) {
    const res = await api.get(path, { secret: null })
    t.equal(res.status, 200)
    t.same(res.json(), { status: 'success', message: 'Profile exists and valid' })
  }
})

t.test('the doctor app cannot post a profile without the secret', async (t) => {
  const before = await digests(sql, ['clinics'])
  for (const secret of [null, 'wrong-secret']) {
    const res = await api.post('/doctor/profile', appProfile(7), { secret })
    t.equal(res.status, 403)
    t.same(res.json<Json>()['detail'], 'forbidden')
  }
  t.same(await digests(sql, ['clinics']), before, 'nothing stored')
})

t.test('a raw profile post stores the doctor under its clinic_id, normalized as legacy did', async (t) => {
  const res = await api.post('/doctor/profile', appProfile(7))
  t.equal(res.status, 200)
  t.same(res.json(), { message: 'success' })

  const read = await api.get('/doctor/profile/7')
  t.equal(read.status, 200)
  const profile = read.json<{ general_info: Json, certifications: string[], clinic_waiting_time: Json, specializations: unknown[], account: Json }>()
  t.equal(profile.general_info['doctor_name'], 'عمر حازم')
  t.equal(profile.general_info['experience_years'], '٥', 'the profile keeps what the app sent')
  t.notOk('accountStatus' in profile.general_info, 'the legacy accountStatus is dropped')
  t.same(profile.certifications, ['MSc', 'BSN'], 'English certificates only')
  t.same(profile.clinic_waiting_time, { id: 3, name: '15 دقيقة' }, 'an old-style waiting time becomes 15 minutes')
  t.same(profile.specializations, ['طب الأسنان', { id: 40, name: 'تقويم' }, 'الغدد الصماء'], 'specializations as sent')
  t.same(profile.account, { email: 'Omar.Hazim@example.com', phone: '07701234569', status: 'active' })

  const same = await api.get('/doctor/profile.json/7')
  t.same(same.json(), profile, 'the .json path answers the same')

  const [row] = await sql<Array<Json>>`
    SELECT name, email, phone, image_url, specialty, clinic_state, status, experience_years, patients_count, receiving_patients
    FROM clinics WHERE id = 7`
  t.same(row, {
    name: 'عمر حازم',
    email: 'Omar.Hazim@example.com',
    phone: '07701234569',
    image_url: 'http://img.example/7.jpg',
    specialty: 'طب الأسنان',
    clinic_state: 'كركوك',
    status: 'active',
    experience_years: 5,
    patients_count: 8000,
    receiving_patients: 20
  }, 'the columns the lists and the booking rules read, Arabic digits parsed')
})

t.test('a daily capacity that is not a positive number is stored as none', async (t) => {
  for (const capacity of ['٠', '', 'عشرين', '-4']) {
    await postProfile(appProfile(8, { receiving_patients: capacity }))
    const [row] = await sql<Array<{ receiving_patients: number | null }>>`SELECT receiving_patients FROM clinics WHERE id = 8`
    t.equal(row?.receiving_patients, null, `"${capacity}"`)
  }
})

t.test('a profile without a clinic_id is refused and nothing is stored', async (t) => {
  const before = await digests(sql, ['clinics'])
  for (const clinicId of [undefined, 'abc', 0, -3, 2 ** 31, '٩٩٩٩٩٩٩٩٩٩٩']) {
    const res = await api.post('/doctor/profile', appProfile(0, { clinic_id: clinicId }))
    t.equal(res.status, 400, `clinic_id ${String(clinicId)}`)
    t.same(res.json(), { error: { code: 'bad_request', message: 'clinic_id is required in general_info' } })
  }
  t.same(await digests(sql, ['clinics']), before)
})

t.test('a wrapped post links the doctor’s phone account and keeps its login phone', async (t) => {
  const [account] = await sql<Array<{ id: number }>>`
    INSERT INTO accounts (user_role, phone_number) VALUES ('doctor', '+9647701111111') RETURNING id`
  const accountId = account?.id ?? 0
  // json_profile as a JSON string, as one app build sends it, and a user_server_id that wins over the phone sent.
  const res = await api.post('/doctor/profile.json', {
    user_server_id: accountId, phone: '+46765588441', json_profile: JSON.stringify(appProfile(11, { doctor_name: 'سارة' }))
  })
  t.equal(res.status, 200)
  t.same(res.json(), { message: 'success' })
  const [linked] = await sql<Array<{ doctor_id: number | null }>>`SELECT doctor_id FROM accounts WHERE id = ${accountId}`
  t.equal(linked?.doctor_id, 11, 'the account now names its doctor')

  const byUser = await api.get(`/doctor/profile/by-user/${accountId}`)
  t.equal(byUser.status, 200)
  t.same(byUser.json(), { id: 11, name: 'سارة', email: 'Omar.Hazim@example.com', phone: '+9647701111111', specialty: 'طب الأسنان', status: 'active' })

  await postProfile({ user_server_id: accountId, json_profile: appProfile(12) })
  const [still] = await sql<Array<{ doctor_id: number | null }>>`SELECT doctor_id FROM accounts WHERE id = ${accountId}`
  t.equal(still?.doctor_id, 11, 'an account already linked keeps its doctor')

  const [other] = await sql<Array<{ id: number }>>`
    INSERT INTO accounts (user_role, phone_number) VALUES ('doctor', '+9647702222222') RETURNING id`
  await postProfile({ phone: '+٩٦٤٧٧٠٢٢٢٢٢٢٢', json_profile: appProfile(13) })
  const [byPhone] = await sql<Array<{ doctor_id: number | null, phone: string }>>`
    SELECT a.doctor_id, c.phone FROM accounts a, clinics c WHERE a.id = ${other?.id ?? 0} AND c.id = 13`
  t.same(byPhone, { doctor_id: 13, phone: '+9647702222222' }, 'a phone in Arabic digits finds its account too')

  const unmapped = await api.get('/doctor/profile/by-user/999999')
  t.equal(unmapped.status, 404)
  t.same(unmapped.json(), { error: { code: 'not_found', message: 'No doctor mapped to this user' } })
})

t.test('a wrapped post without a usable phone is refused and nothing is stored', async (t) => {
  const before = await digests(sql, ['clinics', 'accounts'])
  for (const body of [
    { phone: '07701234569', json_profile: appProfile(14) },
    { user_server_id: 999999, json_profile: appProfile(14) },
    { phone: { number: '+9647701234567' }, json_profile: appProfile(14) }
  ]) {
    const res = await api.post('/doctor/profile', body)
    t.equal(res.status, 400)
    t.same(res.json(), { error: { code: 'bad_request', message: 'phone must be E.164 like +46765588441 or provide valid user_server_id' } })
  }
  t.same(await digests(sql, ['clinics', 'accounts']), before)
})

t.test('a profile re-post does not re-activate a doctor the admin deactivated', async (t) => {
  const off = await api.post('/api/doctor/status', { doctor_id: 7, is_active: false })
  t.equal(off.status, 200)
  t.equal(off.json<Json>()['status'], 'inactive')

  // The doctor app saves its profile again: legacy's default "active" used to bring the doctor back.
  const { accountStatus: _legacy, ...info } = appProfile(7).general_info as Json
  await postProfile({ ...appProfile(7), general_info: { ...info, doctor_name: 'عمر حازم الجديد' } })
  const status = await api.get('/api/doctor/7/status')
  t.same(status.json(), { doctor_id: 7, name: 'عمر حازم الجديد', status: 'inactive', is_active: false }, 'still inactive, profile updated')

  // The app posting back the profile it read keeps the admin's choice as well.
  const { account: _account, ...readBack } = (await api.get('/doctor/profile/7')).json<Json>()
  t.equal((readBack['general_info'] as Json)['account_status'], false, 'the profile shows the admin’s choice')
  await postProfile(readBack)
  t.equal((await api.get('/api/doctor/7/status')).json<Json>()['is_active'], false)

  const on = await api.post('/api/doctor/status', { doctor_id: 7, is_active: true })
  t.equal(on.json<Json>()['status'], 'active')
})

t.test('a profile that states its account status sets it, except that the app cannot re-activate', async (t) => {
  await postProfile(appProfile(9, { account_status: false, accountStatus: undefined }))
  t.equal((await api.get('/api/doctor/9/status')).json<Json>()['status'], 'inactive', 'a new doctor created inactive')
  await postProfile(appProfile(9, { account_status: 'true' }))
  t.equal((await api.get('/api/doctor/9/status')).json<Json>()['status'], 'inactive', 'only an admin brings a doctor back')
  const { account: _account, ...stored } = (await api.get('/doctor/profile/9')).json<Json>()
  t.equal((stored['general_info'] as Json)['account_status'], false, 'the stored profile says what holds')
  await api.post('/api/doctor/status', { doctor_id: 9, is_active: true })
  await postProfile(appProfile(9, { account_status: false }))
  t.equal((await api.get('/api/doctor/9/status')).json<Json>()['status'], 'inactive', 'the app may still switch its doctor off')
})

t.test("doctors' e-mails, phones and licence numbers need the app secret (legacy: open to anyone)", async (t) => {
  for (const path of ['/api/doctors', '/backend/api/doctors', '/doctor/profile/7', '/doctor/profile.json/7', '/doctor/profile/by-user/1']) {
    const res = await api.get(path, { secret: null })
    t.equal(res.status, 403, path)
    t.same(res.json(), { detail: 'forbidden', code: 'forbidden' }, path)
  }
})

t.test('a doctor profile that does not exist is a custom 404', async (t) => {
  for (const path of ['/doctor/profile/404', '/doctor/profile.json/404']) {
    const res = await api.get(path)
    t.equal(res.status, 404)
    t.same(res.json(), { error: { code: 'not_found', message: 'Doctor not found' } })
  }
})

t.test('the directory pages, filters and sorts', async (t) => {
  await sql`DELETE FROM clinics WHERE id NOT IN (7)`
  const doctors: Array<[number, string, string, string, string]> = [
    // id, name, experience, patients treated, specialty
    [21, 'Ahmad', '١٢', '300', 'طب أطفال'],
    [22, 'Baraa', '3', '٥٠٠٠', 'طب أطفال'],
    [23, 'Dalia', '20', '100', 'تغذية'],
    [24, 'Carol', '7', '', 'تغذية']
  ]
  for (const [id, name, experience, patients, specialty] of doctors) {
    await postProfile(appProfile(id, {
      doctor_name: name, email_address: `${name.toLowerCase()}@clinic.iq`, experience_years: experience, number_patients_treated: patients
    }, { specializations: [specialty] }))
  }
  await api.post('/api/doctor/status', { doctor_id: 24, is_active: false })

  const all = await list()
  t.equal(all.total, 5)
  t.same(all.items.map((d) => d.id), [21, 22, 24, 23, 7], 'by name by default')
  const first = all.items[0]
  t.same(first, {
    id: 21, name: 'Ahmad', image: 'http://img.example/7.jpg', specialty: 'طب أطفال', status: 'active', patients: 300,
    experience: 12, email: 'ahmad@clinic.iq', phone: '07701234569', specializations: [{ id: 7, name: 'طب أطفال' }]
  }, 'the legacy item shape, numbers as numbers')

  const page1 = await list('?pageSize=2&page=1&sort=-experience')
  const page2 = await list('?pageSize=2&page=2&sort=-experience')
  const page3 = await list('?pageSize=2&page=3&sort=-experience')
  t.same([page1, page2, page3].map((p) => p.items.map((d) => d.id)), [[23, 21], [24, 7], [22]], 'pages of two, most experienced first')
  t.same([page1.total, page1.page, page1.pageSize], [5, 1, 2])
  t.same((await list('?page=9')).items, [], 'past the end: an empty page, the total still counted')
  t.equal((await list('?page=9')).total, 5)

  t.same((await list('?sort=patients')).items.map((d) => d.patients), [100, 300, 5000, 8000, null], 'ascending, unknown last')
  t.same((await list('?sort=-patients')).items.map((d) => d.patients), [null, 8000, 5000, 300, 100])
  t.same((await list('?sort=shoe-size')).items.map((d) => d.id), all.items.map((d) => d.id), 'an unknown sort key sorts by name')
  t.same((await list('?q=CLINIC.IQ')).items.map((d) => d.id), [21, 22, 24, 23], 'q matches the email, any case')
  t.same((await list('?q=dal')).items.map((d) => d.id), [23], 'q matches the name')
  t.same((await list('?q=%25')).items, [], 'a % in q is a character, not a wildcard')
  t.same((await list(`?specialty=${encodeURIComponent('تغذية')}`)).items.map((d) => d.id), [24, 23])
  t.same((await list('?status=inactive')).items.map((d) => d.id), [24])
  t.same((await list('?expMin=5&expMax=12&sort=experience')).items.map((d) => d.id), [7, 24, 21])
})

t.test('a dentist is listed under dentistry only, the rest as dents_addition; plastic surgery likewise', async (t) => {
  await postProfile(appProfile(31, { doctor_name: 'زيد' }, { specializations: ['جراحة تجميلية', 'بوتكس', 'فيلر'], dents_addition: [] }))
  await postProfile(appProfile(32, { doctor_name: 'هند' }, { specializations: ['طب اسنان', 'جراحة تجميلية', 'بوتكس'] }))
  const items = new Map((await list()).items.map((d) => [d.id, d]))
  const dentist = items.get(7)
  t.same(dentist?.specializations, [{ id: 15, name: 'طب الأسنان' }])
  t.same(dentist?.dents_addition, [{ id: 1, name: 'زراعة' }, { id: 40, name: 'تقويم' }, { id: 12, name: 'الغدد الصماء' }],
    'the profile’s additions first, then the other specializations')
  t.notOk(dentist !== undefined && 'plastic_addition' in dentist)
  const surgeon = items.get(31)
  t.same(surgeon?.specializations, [{ id: 16, name: 'جراحة تجميلية' }])
  t.same(surgeon?.plastic_addition, [{ id: null, name: 'بوتكس' }, { id: null, name: 'فيلر' }])
  const both = items.get(32)
  t.same(both?.specializations, [{ id: 15, name: 'طب اسنان' }, { id: 16, name: 'جراحة تجميلية' }, { id: null, name: 'بوتكس' }],
    'a dentist who is also a plastic surgeon keeps everything')
  t.notOk(both !== undefined && ('dents_addition' in both || 'plastic_addition' in both))
})

t.test('one doctor by id answers the profile with [{id, name}] specializations and the account block', async (t) => {
  const res = await api.get('/api/doctors/7')
  t.equal(res.status, 200)
  const body = res.json<{ id: number, profile: { specializations: unknown, account: Json, general_info: Json } }>()
  t.equal(body.id, 7)
  t.same(body.profile.specializations, [{ id: 15, name: 'طب الأسنان' }, { id: 40, name: 'تقويم' }, { id: 12, name: 'الغدد الصماء' }])
  t.same(body.profile.account, { email: 'Omar.Hazim@example.com', phone: '07701234569', status: 'active' })
  t.equal(body.profile.general_info['doctor_name'], 'عمر حازم الجديد')

  const missing = await api.get('/api/doctors/404')
  t.equal(missing.status, 404)
  t.same(missing.json(), { error: { code: 'not_found', message: 'Doctor not found' } })
  t.equal((await api.get('/api/doctors/7', { secret: null })).status, 403, 'the secret is required')
})

t.test('a clinic is found by its clinic id on both legacy paths', async (t) => {
  for (const path of ['/api/doctors/clinic/7', '/api/doctors/by-clinic-id/7', '/backend/api/doctors/clinic/7']) {
    const res = await api.get(path)
    t.equal(res.status, 200, path)
    const body = res.json<{ id: number, profile: { specializations: unknown, account: Json } }>()
    t.equal(body.id, 7)
    t.same(body.profile.specializations, ['طب الأسنان', { id: 40, name: 'تقويم' }, 'الغدد الصماء'], 'specializations as stored')
    t.equal(body.profile.account['status'], 'active')
  }
  const missing = await api.get('/api/doctors/clinic/404')
  t.equal(missing.status, 404)
  t.same(missing.json(), { error: { code: 'clinic_id_not_found', message: 'clinic_id not found. Please verify the value.' } })
})

t.test('doctor_profile?doctor_id= answers the stored profile with its account block', async (t) => {
  const res = await api.get('/api/doctor_profile?doctor_id=7')
  t.equal(res.status, 200)
  const body = res.json<{ id: number, profile: { specializations: unknown, account: Json } }>()
  t.equal(body.id, 7)
  t.same(body.profile.specializations, ['طب الأسنان', { id: 40, name: 'تقويم' }, 'الغدد الصماء'])
  t.same((await api.get('/api/doctor_profile?doctor_id=404')).json(), { error: { code: 'not_found', message: 'Doctor not found' } })
  t.equal((await api.get('/api/doctor_profile')).status, 422, 'doctor_id is required')
})

t.test('the clinics list shows each clinic with its main specialty only', async (t) => {
  const res = await api.get('/api/clinics')
  t.equal(res.status, 200)
  const clinics = res.json<Array<Json>>()
  t.same(clinics.map((c) => c['clinic_id']), [7, 21, 22, 23, 24, 31, 32], 'ordered by clinic id')
  t.same(clinics[0], {
    clinic_id: 7,
    doctor_name: 'عمر حازم الجديد',
    status: 'active',
    profile_image_URL: 'http://img.example/7.jpg',
    state: 'كركوك',
    specializations: [{ id: 15, name: 'طب الأسنان' }]
  }, 'no additions in this list')
  t.equal(clinics.find((c) => c['clinic_id'] === 24)?.['status'], 'inactive', 'the real status')
  t.equal((await api.get('/api/clinics', { secret: null })).status, 403)
})

t.test('the lookups list each specialty and state once, sorted', async (t) => {
  await postProfile(appProfile(33, { clinic_states: 'بغداد' }, { specializations: [{ id: 22, name: 'تغذية' }] }))
  const specialties = await api.get('/api/lookups/specialties', { secret: null })
  t.same(specialties.json(), { items: ['تغذية', 'جراحة تجميلية', 'طب أطفال', 'طب اسنان', 'طب الأسنان'] })
  const states = await api.get('/api/lookups/clinic-states', { secret: null })
  t.same(states.json(), { items: ['بغداد', 'كركوك'] })
})

t.test('the counts list active and inactive doctors', async (t) => {
  const res = await api.get('/api/doctors/stats/count')
  t.equal(res.status, 200)
  const body = res.json<{ total: number, active: number, inactive: number, active_list: Json[], inactive_list: Json[] }>()
  t.same([body.total, body.active, body.inactive], [8, 7, 1])
  t.same(body.inactive_list.map((d) => d['id']), [24])
  t.same(Object.keys(body.active_list[0] ?? {}), ['id', 'name', 'email', 'phone', 'created_at'])
  t.match(body.active_list[0]?.['created_at'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'UTC with Z')
  t.equal((await api.get('/api/doctors/stats/count', { secret: null })).status, 403)
})

t.test('the doctors router is also served under /backend, the doctor-profile routes are not', async (t) => {
  t.same(await api.get('/backend/api/doctors').then((r) => r.json()), await list())
  for (const path of ['/backend/api/doctors/7', '/backend/api/doctor_profile?doctor_id=7', '/backend/api/clinics', '/backend/api/lookups/specialties', '/backend/api/doctors/stats/count']) {
    t.equal((await api.get(path)).status, 200, path)
  }
  for (const path of ['/backend/doctor/profile/7', '/backend/api/doctor/7/status']) {
    t.equal((await api.get(path)).status, 404, `${path} is not mirrored`)
  }
})
