// One booking at a time, the two ways a dated booking can be made (src/booking/book.ts): the transaction
// (`bookRegular` in BEGIN … COMMIT, four round trips) and the single statement (`placeRegular`, one round trip).
// No HTTP, one connection, no concurrency: what each way costs this process and PostgreSQL per booking when nothing
// is batched by load, in CPU microseconds (from /proc), alternating `--rounds` times. Half patient app, half walk-ins,
// each with its own patient id, on days of their own. Prints JSON.
//
//   npx tsx scripts/bench-booking-statement.ts [--bookings 3000] [--rounds 3]
import './lib/quiet.ts'
import postgres from 'postgres'
import { startDatabase } from '../test/helpers/server.ts'
import { migrate } from '../src/db/migrate.ts'
import { Database } from '../src/db/pool.ts'
import { bookRegular, placeRegular, type RegularBookingInput } from '../src/booking/book.ts'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import { cpuMeter, flag, machine, postmasterPid } from './lib/bench.ts'

const args = process.argv.slice(2)
const bookings = flag(args, 'bookings', 3000)
const rounds = flag(args, 'rounds', 3)
const WARMUP = 200
const OPTIONS = { secretaryOverbook: false, horizonDays: 60 }

const db = await startDatabase({})
const pool = new Database({ url: db.url, max: 1, applicationName: 'tabeby:bench:statement', queueTimeoutMs: 60_000 })
try {
  await migrate(db.url)
  const date = addDays(iraqToday(), 3)
  const ways = {
    transaction: { clinicId: 1, book: (input: RegularBookingInput) => pool.transaction((tx) => bookRegular(tx, input, OPTIONS)) },
    statement: { clinicId: 2, book: (input: RegularBookingInput) => placeRegular(pool, input, OPTIONS) }
  }
  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  for (const { clinicId } of Object.values(ways)) {
    await sql`INSERT INTO booking_days (clinic_id, lane, day, source, status, capacity_total, next_seq)
      VALUES (${clinicId}, 'regular', ${date}, 'secretary_app', 'open', 1000000, 1)`
  }
  await sql.end()
  let n = 0
  const input = (clinicId: number): RegularBookingInput => {
    const walkIn = n % 2 === 0
    return {
      clinicId, name: 'مريض', phone: '+9647700000000', source: walkIn ? 'secretary_app' : 'patient_app', patientId: `P-${n++}`,
      date, status: 'booked', createdAt: null, secretaryId: walkIn ? '100001' : null
    }
  }
  const results: Record<string, Array<{ wall_us: number, server_cpu_us: number, postgres_cpu_us: number }>> = { transaction: [], statement: [] }
  for (let round = 0; round < rounds; round++) {
    for (const [name, way] of Object.entries(ways)) {
      for (let i = 0; i < WARMUP; i++) await way.book(input(way.clinicId))
      const meter = cpuMeter({ server: { pids: [process.pid], tree: false }, postgres: { pids: [postmasterPid(db.dataDir)], tree: true } })
      const started = performance.now()
      for (let i = 0; i < bookings; i++) await way.book(input(way.clinicId))
      const seconds = (performance.now() - started) / 1000
      const cores = meter.stop()
      const perBooking = (c: number | undefined): number => Math.round((c ?? 0) * seconds / bookings * 1e6)
      results[name]?.push({ wall_us: Math.round(seconds / bookings * 1e6), server_cpu_us: perBooking(cores['server']), postgres_cpu_us: perBooking(cores['postgres']) })
    }
  }
  console.log(JSON.stringify({ machine: machine(), settings: { bookings, rounds }, results }, null, 2))
} finally {
  await pool.close()
  await db.destroy()
}
