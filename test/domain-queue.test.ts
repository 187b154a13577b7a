import t from 'tap'
import type { BookingStatus } from '../src/domain/status.ts'
import { capacityFromProfile, queueAfterCancel } from '../src/domain/queue.ts'

interface Entry {
  id: number
  token: number
  status: BookingStatus
}

const queue: Entry[] = [
  { id: 10, token: 1, status: 'served' },
  { id: 11, token: 2, status: 'in_progress' },
  { id: 13, token: 4, status: 'booked' },
  { id: 14, token: 5, status: 'no_show' },
]

t.test('everyone behind a cancelled booking moves up one place', async (t) => {
  // Token 3 was cancelled; 1 and 2 keep their places.
  t.same(queueAfterCancel(queue, 3), [
    { id: 13, token: 3, status: 'booked' },
    { id: 14, token: 4, status: 'no_show' },
  ])
})

t.test('the tokens match a legacy 1..n renumbering when the queue was contiguous', async (t) => {
  // Tokens 1..5 for bookings 1..5; booking 2 cancels. Legacy renumbered the remaining list to 1, 2, 3, 4.
  const remaining = [1, 3, 4, 5].map((id) => ({ id, token: id }))
  const moved = new Map(queueAfterCancel(remaining, 2).map((e) => [e.id, e.token]))
  t.same(remaining.map((e) => moved.get(e.id) ?? e.token), [1, 2, 3, 4])
})

t.test('cancelling the last booking moves nobody', async (t) => {
  t.same(queueAfterCancel(queue, 5), [])
  t.same(queueAfterCancel([], 1), [])
})

t.test('moves come back in ascending token order so each fills the slot just freed', async (t) => {
  const shuffled = [queue[3], queue[2], queue[0]].filter((e): e is Entry => e !== undefined)
  t.same(queueAfterCancel(shuffled, 3).map((e) => e.token), [3, 4])
})

t.test('the input queue is left untouched', async (t) => {
  const copy = structuredClone(queue)
  queueAfterCancel(queue, 1)
  t.same(queue, copy)
})

t.test('daily capacity is read from the doctor profile', async (t) => {
  t.equal(capacityFromProfile({ general_info: { receiving_patients: '٢٠' } }), 20, 'Arabic digits')
  t.equal(capacityFromProfile({ general_info: { receiving_patients: 15 } }), 15)
  t.equal(capacityFromProfile({ general_info: { receivingPatients: '12' } }), 12, 'camelCase key')
  t.equal(capacityFromProfile({ general_info: { receiving_patients_count: 8 } }), 8, 'count key')
  t.equal(
    capacityFromProfile({ general_info: { receiving_patients: '', receivingPatients: '9' } }),
    9,
    'an empty first key falls through to the next'
  )
  t.equal(capacityFromProfile(JSON.stringify({ general_info: { receiving_patients: '٣٠' } })), 30, 'profile as JSON text')
})

t.test('no capacity is derived from a missing, zero or unreadable value', async (t) => {
  t.equal(capacityFromProfile({ general_info: { receiving_patients: '٠' } }), null)
  t.equal(capacityFromProfile({ general_info: { receiving_patients: -5 } }), null)
  t.equal(capacityFromProfile({ general_info: { receiving_patients: 'عشرون' } }), null)
  t.equal(capacityFromProfile({ general_info: {} }), null)
  t.equal(capacityFromProfile({ receiving_patients: 20 }), null, 'only general_info is read')
  t.equal(capacityFromProfile(null), null)
  t.equal(capacityFromProfile('not json'), null)
  t.equal(capacityFromProfile([]), null)
})
