import type { Sql } from '../db/pool.ts'

// What the operator routes (/health, /healthz, /stats) ask the database.

export async function ping (sql: Sql): Promise<void> {
  await sql`SELECT 1`
}

/** Rows per table, as the legacy /healthz counted them (its names kept). */
export async function tableCounts (sql: Sql): Promise<Record<string, number>> {
  const [row] = await sql<Array<Record<string, string>>>`
    SELECT (SELECT count(*) FROM accounts) AS users,
           (SELECT count(*) FROM patient_profiles) AS patient_profiles,
           (SELECT count(*) FROM secretaries) AS secretaries,
           (SELECT count(*) FROM booking_days WHERE lane = 'regular') AS booking_days,
           (SELECT count(*) FROM booking_days WHERE lane = 'golden') AS golden_booking_days,
           (SELECT count(*) FROM day_archives WHERE lane = 'regular') AS booking_archives,
           (SELECT count(*) FROM day_archives WHERE lane = 'golden') AS golden_booking_archives`
  return Object.fromEntries(Object.entries(row ?? {}).map(([key, value]) => [key, Number(value)]))
}

/**
 * The instance's open connections by process (`coordinator`, `worker-1`…), counted by the server, not by us: what
 * pg_stat_activity sees is what the budget is about.
 */
export async function connectionsByProcess (sql: Sql, instance: string): Promise<Record<string, number>> {
  const rows = await sql<Array<{ name: string, count: string }>>`
    SELECT application_name AS name, count(*) AS count FROM pg_stat_activity
    WHERE application_name LIKE ${`tabeby:${instance}:%`} GROUP BY application_name`
  return Object.fromEntries(rows.map((row) => [row.name.split(':')[2] ?? row.name, Number(row.count)]))
}
