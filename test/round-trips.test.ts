import t from 'tap'
import { startStack } from './helpers/stack.ts'
import { startRelay, type RelayLink } from './helpers/pg-relay.ts'
import { day } from './helpers/booking-api.ts'
import { Database } from '../src/db/pool.ts'
import { placeRegular, type RegularBookingInput } from '../src/booking/book.ts'

// A booking's CPU on the server is mostly its round trips to PostgreSQL (docs/BENCHMARKS.md): each is a socket write
// and a wake-up on both sides, and the day row stays locked across all of them. This counts them for real, with a
// loopback proxy between the pool and the database: a round trip is the client speaking again after the server spoke.

const { api, db } = await startStack(t, { mode: 'in-process' })

// A round trip: a connection's client speaking first, or again after the server spoke.
const turns = { count: 0 }
const clientSpokeLast = new WeakSet<RelayLink>()
const relay = await startRelay(db.url, {
  fromClient: (_chunk, link) => {
    if (!clientSpokeLast.has(link)) turns.count++
    clientSpokeLast.add(link)
  },
  fromServer: (_chunk, link) => { clientSpokeLast.delete(link) }
})
// One connection, so every booking finds its statements already prepared on it (the first use of a statement
// costs a describe round trip of its own, once per connection).
const pool = new Database({ url: relay.url, max: 1, applicationName: 'tabeby:unit:round-trips', queueTimeoutMs: 10_000 })
t.teardown(async () => { await pool.close(); await relay.close() })

const CLINIC = 611
t.equal((await api.post('/api/create_table', { clinic_id: CLINIC, days: { [day(2)]: { capacity_total: 50 } } })).status, 200)

let n = 0
async function roundTrips (source: RegularBookingInput['source']): Promise<number> {
  const book = async (): Promise<void> => {
    n++
    await placeRegular(pool, {
      clinicId: CLINIC,
      name: `مريض ${n}`,
      phone: '+9647700000000',
      source,
      patientId: `P-${n}`,
      date: day(2),
      status: 'booked',
      createdAt: null,
      secretaryId: source === 'secretary_app' ? '100001' : null
    }, { secretaryOverbook: false, horizonDays: 60 })
  }
  await book() // prepares this path's statements on the connection
  const before = turns.count
  await book()
  return turns.count - before
}

// A dated booking of a day with room is one autocommitted statement: the rules, the seat, the booking, the version.
t.test('a patient-app booking of a day with room: one round trip', async (t) => {
  t.equal(await roundTrips('patient_app'), 1)
})

t.test('a secretary walk-in on a day with room: one round trip', async (t) => {
  t.equal(await roundTrips('secretary_app'), 1)
})

t.test('the bookings were made, each with its token', async (t) => {
  const res = await api.get(`/api/booking_days?clinic_id=${CLINIC}`)
  t.equal(res.status, 200)
  const days = res.json<{ days: Record<string, { capacity_used: number }> }>().days
  t.equal(days[day(2)]?.capacity_used, 4)
})
