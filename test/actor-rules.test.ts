import t from 'tap'
import { bindPatient, judge, patientActor, type RouteScope, type SecretaryActor } from '../src/auth/actors.ts'
import { ownersIn, redactDays } from '../src/booking/patient-view.ts'
import { accountOfPatientRef } from '../src/domain/identifiers.ts'

// The strict-mode rules of src/auth/actors.ts as plain functions, without a server (test/actors.test.ts has the wire).

const me = patientActor(71)
const secretary: SecretaryActor = { kind: 'secretary', code: 123456, clinicId: 7 }

t.test('only P-<id> names an account: a secretary walk-in\'s "002" is nobody\'s', async (t) => {
  t.equal(accountOfPatientRef('P-71'), 71)
  t.equal(accountOfPatientRef('p-71'), 71)
  t.equal(accountOfPatientRef('002'), null)
  t.equal(accountOfPatientRef('71'), null)
  t.equal(accountOfPatientRef('B-7-20251114-0001'), null)
  t.equal(accountOfPatientRef(null), null)
})

t.test('a patient request naming no patient, or itself loosely, is bound to its own P-<id>', async (t) => {
  t.same(bindPatient({ name: 'x' }, 'patient_id', me), { name: 'x', patient_id: 'P-71' })
  t.same(bindPatient({ patient_id: '' }, 'patient_id', me), { patient_id: 'P-71' })
  t.same(bindPatient({ patient_id: null }, 'patient_id', me), { patient_id: 'P-71' })
  t.same(bindPatient({ patient_id: 71 }, 'patient_id', me), { patient_id: 'P-71' })
  t.same(bindPatient({ patient_id: '٧١' }, 'patient_id', me), { patient_id: 'P-71' })
  t.same(bindPatient({ patient_id: 'P-72' }, 'patient_id', me), { patient_id: 'P-72' }, 'another id is left for the rule to refuse')
  t.same(bindPatient([1], 'patient_id', me), [1], 'not an object: the schema refuses it')
})

t.test('judge: secretaries by clinic, patients by patient and booking owner, admins always', async (t) => {
  interface In { clinic: number | null, patient?: string, owner?: string | null, secretaryApp?: boolean }
  const scope: RouteScope<In> = {
    clinicId: (i) => i.clinic,
    patientId: (i) => i.patient ?? 'P-71',
    bookingOwner: async (i) => i.owner,
    clinicAction: (i) => i.secretaryApp === true
  }
  t.equal(await judge(secretary, scope, { clinic: 7 }), 'allowed')
  t.equal(await judge(secretary, scope, { clinic: 8 }), 'refused')
  t.equal(await judge(secretary, scope, { clinic: null }), 'allowed', 'no clinic named: the handler answers')
  t.equal(await judge(me, scope, { clinic: 8 }), 'allowed', 'a patient may use any clinic')
  t.equal(await judge(me, scope, { clinic: 8, patient: 'P-72' }), 'refused')
  t.equal(await judge(me, scope, { clinic: 8, owner: 'P-72' }), 'refused')
  t.equal(await judge(me, scope, { clinic: 8, owner: '071' }), 'refused', 'a walk-in booking is not the patient\'s')
  t.equal(await judge(me, scope, { clinic: 8, owner: 'P-71' }), 'allowed')
  t.equal(await judge(me, scope, { clinic: 8, owner: undefined }), 'allowed', 'no such booking: the handler\'s 404')
  t.equal(await judge(me, scope, { clinic: 8, secretaryApp: true }), 'refused')
  t.equal(await judge(me, { actors: ['secretary'] }, {}), 'refused')
  t.equal(await judge(secretary, { actors: [] }, {}), 'refused')
  t.equal(await judge({ kind: 'admin', id: 1, name: 'a', email: 'a@b', isSuperuser: false, permissions: [], token: { jti: 'j', exp: 0, family: 'f' } }, { actors: [] }, {}), 'allowed')
})

t.test('redaction hides other patients\' name, phone, patient_id and code, and keeps everything else', async (t) => {
  const rendering = {
    clinic_id: 7,
    days: {
      '2026-01-01': {
        status: 'open',
        capacity_used: 3,
        patients: [
          { booking_id: 'G-7-20260101-0001', token: 1, patient_id: 'P-71', name: 'أنا', phone: '+1', status: 'تم الحجز', code: '1234' },
          { booking_id: 'G-7-20260101-0002', token: 2, patient_id: 'P-72', name: 'غيري', phone: '+2', status: 'تم الحجز', code: '5678' },
          { booking_id: 'S-7-20260101-003', token: 3, patient_id: '003', name: 'مراجع', phone: '+3', status: 'تمت المعاينة' }
        ]
      }
    }
  }
  t.same([...ownersIn(rendering)], [71, 72])
  const mine = redactDays(rendering, 71) as typeof rendering
  const patients = mine.days['2026-01-01'].patients
  t.same(patients[0], rendering.days['2026-01-01'].patients[0], 'its own entry untouched')
  t.same(patients[1], { booking_id: 'G-7-20260101-0002', token: 2, patient_id: '', name: '', phone: '', status: 'تم الحجز', code: '' })
  t.same(patients[2], { booking_id: 'S-7-20260101-003', token: 3, patient_id: '', name: '', phone: '', status: 'تمت المعاينة' }, 'no code key added')
  t.same({ ...mine.days['2026-01-01'], patients: [] }, { ...rendering.days['2026-01-01'], patients: [] }, 'the day as it is')
  t.equal(rendering.days['2026-01-01'].patients[1]?.name, 'غيري', 'the parsed rendering itself is not changed')
  const hidden = redactDays(rendering, null) as typeof rendering
  t.ok(hidden.days['2026-01-01'].patients.every((p) => p.name === ''), 'null hides every entry')
})
