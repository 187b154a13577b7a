import t from 'tap'
import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net'
import { startStack } from './helpers/stack.ts'
import { day } from './helpers/booking-api.ts'
import { Database } from '../src/db/pool.ts'
import { bookRegular, type RegularBookingInput } from '../src/booking/book.ts'

// A booking's CPU on the server is mostly its round trips to PostgreSQL (docs/BENCHMARKS.md): each is a socket write
// and a wake-up on both sides, and the day row stays locked across all of them. This counts them for real, with a
// loopback proxy between the pool and the database: a round trip is the client speaking again after the server spoke.

const { api, db } = await startStack(t, { mode: 'in-process' })

interface Turns { count: number, close: () => Promise<void>, port: number }

async function turnCounter (target: number): Promise<Turns> {
  const sockets = new Set<Socket>()
  const turns: Turns = { count: 0, port: 0, close: async () => {} }
  const server = createServer((client) => {
    const upstream = tcpConnect(target, '127.0.0.1')
    sockets.add(client).add(upstream)
    let serverSpoke = true
    client.on('data', (chunk) => {
      if (serverSpoke) turns.count++
      serverSpoke = false
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => { serverSpoke = true; client.write(chunk) })
    const end = (): void => { client.destroy(); upstream.destroy() }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  turns.port = (server.address() as AddressInfo).port
  turns.close = async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
  return turns
}

const turns = await turnCounter(db.port)
const url = new URL(db.url)
url.port = String(turns.port)
// One connection, so every booking finds its statements already prepared on it (the first use of a statement
// costs a describe round trip of its own, once per connection).
const pool = new Database({ url: url.toString(), max: 1, applicationName: 'tabeby:unit:round-trips', queueTimeoutMs: 10_000 })
t.teardown(async () => { await pool.close(); await turns.close() })

const CLINIC = 611
t.equal((await api.post('/api/create_table', { clinic_id: CLINIC, days: { [day(2)]: { capacity_total: 50 } } })).status, 200)

let n = 0
async function roundTrips (source: RegularBookingInput['source']): Promise<number> {
  const book = async (): Promise<void> => {
    n++
    await pool.transaction((tx) => bookRegular(tx, {
      clinicId: CLINIC,
      name: `مريض ${n}`,
      phone: '+9647700000000',
      source,
      patientId: `P-${n}`,
      date: day(2),
      status: 'booked',
      createdAt: null,
      secretaryId: source === 'secretary_app' ? '100001' : null
    }, { secretaryOverbook: false, horizonDays: 60 }))
  }
  await book() // prepares this path's statements on the connection
  const before = turns.count
  await book()
  return turns.count - before
}

// BEGIN is its own round trip: pipelining it with the first statement (a driver patch) was tried and withdrawn, see
// docs/BENCHMARKS.md "BEGIN awaited again".
t.test('a patient-app booking of a day with room: BEGIN, the rules with the seat, the booking with the version, COMMIT', async (t) => {
  t.equal(await roundTrips('patient_app'), 4)
})

t.test('a secretary walk-in on a day with room: BEGIN, the seat, the booking with the version, COMMIT', async (t) => {
  t.equal(await roundTrips('secretary_app'), 4)
})

t.test('the bookings were made, each with its token', async (t) => {
  const res = await api.get(`/api/booking_days?clinic_id=${CLINIC}`)
  t.equal(res.status, 200)
  const days = res.json<{ days: Record<string, { capacity_used: number }> }>().days
  t.equal(days[day(2)]?.capacity_used, 4)
})
