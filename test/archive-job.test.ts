import t from 'tap'
import postgres from 'postgres'
import { migrate } from '../src/db/migrate.ts'
import { addDays, iraqToday, msUntilIraqMidnight } from '../src/domain/calendar.ts'
import { archivePastDays } from '../src/booking/archive.ts'
import { nightly } from '../coordinator/jobs.ts'
import { startDatabase } from './helpers/server.ts'

const db = await startDatabase()
await migrate(db.url)
const sql = postgres(db.url, { max: 4, onnotice: () => {} })
t.teardown(async () => {
  await sql.end()
  await db.destroy()
})

const today = iraqToday()

// Three clinics with days before today, today and after; bookings in several statuses.
async function seed (): Promise<void> {
  await sql`TRUNCATE booking_days, day_archives, job_runs RESTART IDENTITY CASCADE`
  for (const clinicId of [1, 2, 3]) {
    for (const [offset, lane] of [[-2, 'regular'], [-1, 'regular'], [-1, 'golden'], [0, 'regular'], [1, 'regular']] as const) {
      const [day] = await sql<Array<{ id: string }>>`
        INSERT INTO booking_days (clinic_id, lane, day, capacity_total, active_count, next_seq)
        VALUES (${clinicId}, ${lane}, ${addDays(today, offset)}, 10, 2, 4) RETURNING id::text`
      const id = day?.id as string
      await sql`
        INSERT INTO bookings (day_id, seq, token, display_id, patient_id, name, phone, source, status) VALUES
          (${id}, 1, 1, ${`X-${clinicId}-${lane}-${offset}-1`}, 'P-1', 'a', '1', 'patient_app', 'served'),
          (${id}, 2, 2, ${`X-${clinicId}-${lane}-${offset}-2`}, 'P-2', 'b', '1', 'patient_app', 'booked'),
          (${id}, 3, 1, ${`X-${clinicId}-${lane}-${offset}-3`}, 'P-3', 'c', '1', 'patient_app', 'cancelled')`
    }
  }
}

async function snapshot (): Promise<{ archives: number, liveBefore: number, liveFromToday: number }> {
  const [row] = await sql<Array<{ archives: number, live_before: number, live_from_today: number }>>`
    SELECT (SELECT count(*) FROM day_archives)::int AS archives,
           (SELECT count(*) FROM booking_days WHERE status <> 'archived' AND day < ${today})::int AS live_before,
           (SELECT count(*) FROM booking_days WHERE status <> 'archived' AND day >= ${today})::int AS live_from_today`
  return { archives: row?.archives ?? -1, liveBefore: row?.live_before ?? -1, liveFromToday: row?.live_from_today ?? -1 }
}

t.test('the nightly archive freezes every day before today (Iraq) and leaves today and later alone', async (t) => {
  await seed()
  const result = await archivePastDays(sql)
  t.equal(result.clinics, 3)
  t.equal(result.days, 9, '3 clinics × (2 regular + 1 golden) past days')
  t.same(await snapshot(), { archives: 9, liveBefore: 0, liveFromToday: 6 })
  const [archive] = await sql<Array<{ capacity_total: number, capacity_served: number, capacity_cancelled: number, patients: Array<{ status: string, booking_id: string }> }>>`
    SELECT capacity_total, capacity_served, capacity_cancelled, patients FROM day_archives
    WHERE clinic_id = 1 AND lane = 'regular' AND day = ${addDays(today, -1)}`
  t.equal(archive?.capacity_total, 10)
  t.equal(archive?.capacity_served, 1)
  t.equal(archive?.capacity_cancelled, 0, 'counted from the archived list, as legacy did: the booking cancelled earlier is not in it')
  t.same(archive?.patients.map((p) => p.status), ['تمت المعاينة', 'تم الحجز'], 'the queue as it stood, in Arabic labels')
  const [bookings] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM bookings`
  t.equal(bookings?.n, 45, 'no booking row is deleted')
})

t.test('running it again changes nothing', async (t) => {
  const before = await snapshot()
  const again = await archivePastDays(sql)
  t.equal(again.days, 0)
  t.same(await snapshot(), before)
})

t.test('two runs at once (two instances at midnight) archive each day exactly once', async (t) => {
  await seed()
  const other = postgres(db.url, { max: 2, onnotice: () => {} })
  t.teardown(() => other.end())
  const [a, b] = await Promise.all([archivePastDays(sql), archivePastDays(other)])
  t.equal(a.days + b.days, 9, `the days were split, not doubled (${a.days} + ${b.days})`)
  t.same(await snapshot(), { archives: 9, liveBefore: 0, liveFromToday: 6 })
})

t.test('an archive saved earlier is completed with the day as it stands, never discarded (legacy dropped the day)', async (t) => {
  await seed()
  const manual = [
    { booking_id: 'X-2-regular--2-1', token: 1, name: 'a', status: 'تم الحجز' }, // the day's booking, before it was served
    { booking_id: 'by-hand', token: 9, name: 'written by the secretary', status: 'تمت المعاينة' }
  ]
  await sql`INSERT INTO day_archives (clinic_id, lane, day, capacity_total, capacity_served, capacity_cancelled, patients)
            VALUES (2, 'regular', ${addDays(today, -2)}, 99, 7, 0, ${JSON.stringify(manual)}::text::json)`
  await archivePastDays(sql)
  const [merged] = await sql<Array<{ capacity_total: number, capacity_served: number, patients: Array<{ booking_id: string, status: string }> }>>`
    SELECT capacity_total, capacity_served, patients FROM day_archives WHERE clinic_id = 2 AND lane = 'regular' AND day = ${addDays(today, -2)}`
  t.same(merged?.patients.map((p) => [p.booking_id, p.status]), [
    ['X-2-regular--2-1', 'تمت المعاينة'], ['by-hand', 'تمت المعاينة'], ['X-2-regular--2-2', 'تم الحجز']
  ], 'the day\'s entries replace their earlier copies in place; an entry only the archive had stays; new ones follow')
  t.equal(merged?.capacity_served, 2, 'the counts follow the merged list')
  t.equal(merged?.capacity_total, 10, 'the day\'s capacity')
})

t.test('the scheduled job runs once per night, and is armed for 00:00 in Baghdad', async (t) => {
  await seed()
  const first = await nightly(sql)
  const second = await nightly(sql)
  t.equal(first?.days, 9)
  t.equal(second, null, 'the same night does not run twice')
  t.equal(msUntilIraqMidnight(new Date('2026-01-10T20:59:00Z')), 60_000, '21:00 UTC is midnight in Iraq')
  t.equal(msUntilIraqMidnight(new Date('2026-01-10T21:00:00Z')), 24 * 3600_000, 'just after, the next night')
})
