import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startStack } from './helpers/stack.ts'
import { startFcm } from './helpers/fcm.ts'

// An idle coordinator with push configured does not ask the database for due deliveries every second: after a round
// it times the next one for the earliest pending delivery, and with none pending sweeps every 30 s
// (coordinator/push.ts). Counted by PostgreSQL itself (pg_stat_statements).

const fcm = await startFcm()
t.teardown(fcm.close)
const { sql } = await startStack(t, { mode: 'in-process', statements: true, env: fcm.env })
await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`

const claims = async (): Promise<number> => {
  const [row] = await sql<Array<{ n: number }>>`
    SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements WHERE query LIKE 'UPDATE push_deliveries p%SKIP LOCKED%'`
  return row?.n ?? 0
}

t.test('idle: no claim query a second', async (t) => {
  await sleep(1500) // the first round, at start
  const before = await claims()
  await sleep(5000)
  const during = await claims() - before
  t.ok(during <= 1, `${during} claim queries in 5 idle seconds (one a second before)`)
})
