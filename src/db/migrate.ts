import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import { log } from '../log.ts'
import { packageRoot } from '../paths.ts'

// Read from the source tree in both forms (src/paths.ts says why).
const migrationsDir = join(packageRoot, 'src', 'db', 'migrations')

// An arbitrary constant: every instance sharing the database takes the same lock, so two servers starting at once
// apply each migration exactly once.
const MIGRATION_LOCK = 0x7a6265

export async function migrate (url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'tabeby:migrate' } })
  const applied: string[] = []
  try {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`
      await tx`CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`
      const done = new Set((await tx<{ name: string }[]>`SELECT name FROM schema_migrations`).map((row) => row.name))
      const files = readdirSync(migrationsDir).filter((name) => name.endsWith('.sql')).sort()
      for (const name of files) {
        if (done.has(name)) continue
        await tx.unsafe(readFileSync(join(migrationsDir, name), 'utf8'))
        await tx`INSERT INTO schema_migrations (name) VALUES (${name})`
        applied.push(name)
      }
    })
  } finally {
    await sql.end({ timeout: 5 })
  }
  if (applied.length > 0) log.info('migrations applied', { applied })
  return applied
}
