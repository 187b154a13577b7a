import t from 'tap'
import { migrate } from '../src/db/migrate.ts'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import { startDatabase, startServer, waitFor } from './helpers/server.ts'
import { connect, digests } from './helpers/legacy-client.ts'

// The nightly archive catches up after downtime: a server that was not running at 00:00 (Baghdad) archives, as it
// starts, the days before today that were left live, once each; today's and later days stay live.

const db = await startDatabase()
t.teardown(db.destroy)
await migrate(db.url)
const sql = connect(db.url)
t.teardown(() => sql.end())
const today = iraqToday()

async function liveDay (clinicId: number, lane: 'regular' | 'golden', date: string, statuses: string[], status = 'open'): Promise<void> {
  const [row] = await sql<Array<{ id: string }>>`
    INSERT INTO booking_days (clinic_id, lane, day, status, capacity_total, active_count, next_seq)
    VALUES (${clinicId}, ${lane}, ${date}, ${status}, 10, ${statuses.length}, ${statuses.length + 1}) RETURNING id::text`
  let seq = 1
  for (const booking of statuses) {
    await sql`
      INSERT INTO bookings (day_id, seq, token, display_id, patient_id, name, phone, source, status)
      VALUES (${row?.id ?? ''}, ${seq}, ${seq}, ${`S-${clinicId}-${lane}-${date}-${seq}`}, ${`00${seq}`}, 'x', '+9647700000000', 'secretary_app', ${booking})`
    seq++
  }
}

t.test('days left live before today are archived when the server starts, once', async (t) => {
  // Three nights missed for clinic 1, one for clinic 2; a date of clinic 3 closed by close_table, then given a
  // walk-in that is still live; today and tomorrow must stay.
  await liveDay(1, 'regular', addDays(today, -3), ['served', 'booked'])
  await liveDay(1, 'regular', addDays(today, -2), ['served'])
  await liveDay(1, 'golden', addDays(today, -1), ['booked'])
  await liveDay(2, 'regular', addDays(today, -1), ['no_show', 'served'])
  await liveDay(1, 'regular', today, ['booked'])
  await liveDay(2, 'regular', addDays(today, 1), [])
  const closedDate = addDays(today, -1)
  await sql`INSERT INTO booking_days (clinic_id, lane, day, status, capacity_total, active_count, next_seq) VALUES (3, 'regular', ${closedDate}, 'archived', 10, 1, 2)`
  await sql`INSERT INTO day_archives (clinic_id, lane, day, capacity_total, capacity_served, capacity_cancelled, patients)
            VALUES (3, 'regular', ${closedDate}, 10, 1, 0, ${JSON.stringify([{ booking_id: 'S-3-closed-1', token: 1, status: 'تمت المعاينة' }])}::text::json)`
  await liveDay(3, 'regular', closedDate, ['booked'], 'closed')

  const server = await startServer({ workers: 1, env: { DATABASE_URL: db.url } })
  t.teardown(server.cleanup)
  const left = async (): Promise<number> => (await sql<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM booking_days WHERE status <> 'archived' AND day < ${today}`)[0]?.n ?? -1
  await waitFor('the past days to be archived', async () => await left() === 0, 30_000, 100)

  const archives = await sql<Array<{ clinic_id: number, lane: string, day: string, n: number, served: number }>>`
    SELECT clinic_id, lane::text, to_char(day, 'YYYY-MM-DD') AS day, json_array_length(patients) AS n, capacity_served AS served
    FROM day_archives ORDER BY clinic_id, day, lane`
  t.same(archives, [
    { clinic_id: 1, lane: 'regular', day: addDays(today, -3), n: 2, served: 1 },
    { clinic_id: 1, lane: 'regular', day: addDays(today, -2), n: 1, served: 1 },
    { clinic_id: 1, lane: 'golden', day: addDays(today, -1), n: 1, served: 0 },
    { clinic_id: 2, lane: 'regular', day: addDays(today, -1), n: 2, served: 1 },
    { clinic_id: 3, lane: 'regular', day: closedDate, n: 2, served: 1 }
  ], 'one archive per missed day; the closed date has its walk-in added')
  const [stillLive] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM booking_days WHERE status <> 'archived'`
  t.equal(stillLive?.n, 2, 'today and tomorrow stay live')
  t.match(server.output(), /nightly archive caught up/)

  // Started again (a deploy): nothing is archived twice.
  const tables = ['booking_days', 'day_archives', 'bookings'] as const
  const before = await digests(sql, tables)
  await server.stop()
  const again = await startServer({ workers: 1, env: { DATABASE_URL: db.url } })
  t.teardown(again.cleanup)
  await waitFor('the start-up run to finish', async () => (await sql`SELECT 1 FROM job_runs WHERE finished_at IS NOT NULL`).length > 0)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.same(await digests(sql, tables), before, 'a second start changes nothing')
  const runs = await sql`SELECT run_key FROM job_runs WHERE job = 'nightly-archive'`
  t.same(runs.map((r) => r['run_key']), [today], "the run is recorded as today's: 00:00 does not run it again")
})
