import t from 'tap'
import {
  deriveColumns, explicitStatus, hasUnstorableText, mergeProfile, normalizeProfile, patchedColumns, profileForReading,
  specializationId, specializationList, specialtyView, withAccount, withAccountStatus, wholeNumber
} from '../src/clinics/profile.ts'

// The doctor-profile rules of legacy-api.md §1.3 and §2.7, as plain functions.

t.test('a stored profile keeps the app’s keys but drops accountStatus, old waiting times and Arabic certificates', async (t) => {
  const sent = {
    general_info: { clinic_id: 7, doctor_name: 'عمر', accountStatus: false, account_status: true },
    certifications: ['MSc', 'ماجستير', '', '  ', 'B.Sc (Hons), O\'Neil', 3],
    clinic_waiting_time: { value: '20 min' },
    clinck_days: { from: 'السبت', to: 'الجمعة' }
  }
  const stored = normalizeProfile(sent)
  t.same(stored, {
    general_info: { clinic_id: 7, doctor_name: 'عمر', account_status: true },
    certifications: ['MSc', 'B.Sc (Hons), O\'Neil'],
    clinic_waiting_time: { id: 3, name: '15 دقيقة' },
    clinck_days: { from: 'السبت', to: 'الجمعة' }
  })
  t.same(sent.general_info, { clinic_id: 7, doctor_name: 'عمر', accountStatus: false, account_status: true }, 'the input is not changed')
  t.same(normalizeProfile({ clinic_waiting_time: { id: 5, name: '30 دقيقة', value: 'x' } }).clinic_waiting_time,
    { id: 5, name: '30 دقيقة', value: 'x' }, 'a waiting time with an id is the new shape already')
})

t.test('the columns come from the profile, Arabic digits included', async (t) => {
  const columns = deriveColumns({
    general_info: {
      doctor_name: ' عمر حازم ', email_address: 'o@example.com', doctor_phone_number: '0770',
      clinic_states: 'كركوك', experience_years: '٥', number_patients_treated: '٨٠٠٠', receiving_patients: '٢٠',
      profile_image_URL: 'http://img/7.jpg'
    },
    specializations: [{ id: 15, name: 'طب الأسنان' }, 'الغدد الصماء']
  })
  t.same(columns, {
    name: 'عمر حازم',
    email: 'o@example.com',
    phone: '0770',
    image_url: 'http://img/7.jpg',
    specialty: 'طب الأسنان',
    clinic_state: 'كركوك',
    status: 'active',
    experience_years: 5,
    patients_count: 8000,
    receiving_patients: 20
  })
  t.equal(deriveColumns({}).name, 'Doctor', 'a profile without a name is "Doctor"')
  t.equal(deriveColumns({ specializations: ['طب أطفال'] }).specialty, 'طب أطفال')
  for (const capacity of ['0', '٠', -3, 'عشرين', '99999999999', null]) {
    t.equal(deriveColumns({ general_info: { receiving_patients: capacity } }).receiving_patients, null, `capacity ${String(capacity)} is not stored`)
  }
  t.equal(wholeNumber('0'), 0)
  t.equal(wholeNumber('٠'), 0, 'a new doctor’s Arabic zero years of experience')
  t.equal(wholeNumber(-2), null)
  t.equal(wholeNumber('٣٠'), 30)
  t.equal(wholeNumber('12.5'), null)
  t.equal(wholeNumber(2 ** 31), null, 'past the integer column is not a number we can keep')
})

t.test('the status is what the profile states, and nothing when it states nothing', async (t) => {
  t.equal(explicitStatus({ general_info: { account_status: false } }), 'inactive')
  t.equal(explicitStatus({ general_info: { account_status: 'yes' } }), 'active')
  t.equal(explicitStatus({ general_info: { accountStatus: 0 } }), 'inactive', 'the older key still counts')
  t.equal(explicitStatus({ general_info: { account_status: 'maybe', accountStatus: false } }), 'inactive')
  t.equal(explicitStatus({ general_info: {} }), null)
  t.equal(explicitStatus({}), null)
  t.equal(deriveColumns({}).status, 'active', 'a new doctor is active unless the profile says otherwise')
  t.same(withAccountStatus({ general_info: { accountStatus: true, doctor_name: 'x' } }, 'inactive').general_info,
    { doctor_name: 'x', account_status: false })
})

t.test('specialization names get the ids of the apps’ list, whatever the spelling', async (t) => {
  t.equal(specializationId('طب اسنان'), 15)
  t.equal(specializationId('  طب   الأسنان '), 15, 'spaces do not matter')
  t.equal(specializationId('نسائية وتوليد / رعاية حوامل'), 8)
  t.equal(specializationId('General'), 1)
  t.equal(specializationId('أشعة وسونار'), 25)
  t.equal(specializationId('تقويم'), null)
  t.same(specializationList(['طب أطفال', { id: 40, name: 'تقويم' }, { name: 'جراحة العيون' }, { id: 2 }, '', null, 7], true), [
    { id: 7, name: 'طب أطفال' },
    { id: 40, name: 'تقويم' },
    { id: 10, name: 'جراحة العيون' },
    { id: null, name: '7' }
  ])
  t.same(specializationList('طب أطفال', true), [], 'not a list: no specializations')
})

t.test('a dentist shows dentistry only, the other specializations move to dents_addition', async (t) => {
  const view = specialtyView({
    specializations: ['الغدد الصماء', { id: 15, name: 'طب أسنان' }, 'تقويم', 'زراعة'],
    dents_addition: [{ id: 1, name: 'زراعة' }, 'تبييض']
  })
  t.same(view, {
    specializations: [{ id: 15, name: 'طب أسنان' }],
    dents_addition: [{ id: 1, name: 'زراعة' }, { id: null, name: 'تبييض' }, { id: 12, name: 'الغدد الصماء' }, { id: null, name: 'تقويم' }]
  })
  t.notOk('plastic_addition' in view)
})

t.test('a plastic surgeon shows plastic surgery only, the rest in plastic_addition', async (t) => {
  t.same(specialtyView({ specializations: ['جراحة تجميلية', 'بوتكس'] }), {
    specializations: [{ id: 16, name: 'جراحة تجميلية' }],
    plastic_addition: [{ id: null, name: 'بوتكس' }]
  })
  t.same(specialtyView({ specializations: ['جراحة تجميلة'] }), { specializations: [{ id: 16, name: 'جراحة تجميلة' }], plastic_addition: [] },
    'the list’s own spelling of plastic surgery counts too')
})

t.test('a doctor with both mains, or neither, keeps every specialization', async (t) => {
  t.same(specialtyView({ specializations: ['طب الأسنان', 'جراحة تجميلية', 'بوتكس'] }), {
    specializations: [{ id: 15, name: 'طب الأسنان' }, { id: 16, name: 'جراحة تجميلية' }, { id: null, name: 'بوتكس' }]
  })
  t.same(specialtyView({ specializations: ['طب أطفال', 'تغذية'] }), {
    specializations: [{ id: 7, name: 'طب أطفال' }, { id: 22, name: 'تغذية' }]
  })
  t.same(specialtyView({}), { specializations: [] })
})

t.test('a dashboard patch merges objects one level deep and replaces everything else', async (t) => {
  const current = { general_info: { doctor_name: 'a', clinic_id: 7 }, specializations: ['طب أطفال'], certifications: ['MSc'] }
  const merged = mergeProfile(current, {
    general_info: { doctor_name: 'b', email_address: 'b@x' },
    specializations: ['تغذية'],
    clinic_location: { latitude: '1' },
    account: { email: 'ignored@x' }
  })
  t.same(merged, {
    general_info: { doctor_name: 'b', clinic_id: 7, email_address: 'b@x' },
    specializations: ['تغذية'],
    certifications: ['MSc'],
    clinic_location: { latitude: '1' }
  })
  const before = deriveColumns({ general_info: { doctor_name: 'a', email_address: 'a@x', experience_years: '3', clinic_states: 'بغداد' } })
  const after = patchedColumns(before, { general_info: { doctor_name: 'b' } })
  t.equal(after.name, 'b')
  t.equal(after.email, 'a@x', 'email moves only through account')
  t.equal(after.experience_years, 3, 'a field the patch cleared keeps its column value')
  t.equal(after.clinic_state, 'بغداد')
  const accounted = withAccount(after, { email: '', phone: '+9647700000000', status: null })
  t.equal(accounted.email, null, 'an empty email clears it')
  t.equal(accounted.phone, '+9647700000000')
  t.equal(accounted.status, 'active', 'an empty status keeps the current one')
  t.equal(withAccount(after, { status: 'inactive' }).status, 'inactive')
})

t.test('a profile is read back with its account block and without accountStatus', async (t) => {
  const out = profileForReading({ general_info: { accountStatus: true, doctor_name: 'x' }, specializations: ['طب أطفال'], account: { stale: true } },
    { email: 'e', phone: 'p', status: 'inactive' }, true)
  t.same(out, { general_info: { doctor_name: 'x' }, specializations: [{ id: 7, name: 'طب أطفال' }], account: { email: 'e', phone: 'p', status: 'inactive' } })
  t.same(profileForReading({ specializations: ['طب أطفال'] }, { email: null, phone: null, status: 'active' }, false).specializations, ['طب أطفال'])
})

t.test('text PostgreSQL cannot store is found anywhere in a body', async (t) => {
  t.ok(hasUnstorableText({ a: [{ b: 'x\u0000' }] }))
  t.ok(hasUnstorableText({ 'k\u0000': 1 }), 'in a key too')
  t.ok(hasUnstorableText({ a: 'x\ud800y' }), 'an unpaired surrogate')
  t.notOk(hasUnstorableText({ a: 'طب 😀', b: 1, c: null, d: ['\\u0000'] }), 'a pair, Arabic and an escaped backslash are fine')
})
