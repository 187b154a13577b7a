import type { Sql } from '../db/pool.ts'

// The platform's own settings (legacy-api.md §2.11): its contact info, which lives in the profile of clinic 1 as it
// did in doctor 1's profile_json, and the maintenance banner the apps poll.

export const PLATFORM_CLINIC_ID = 1
export const CLINIC_INFO_KEYS = ['clinic_name', 'address', 'email', 'phone', 'website'] as const
export type ClinicInfo = Partial<Record<(typeof CLINIC_INFO_KEYS)[number], string>>

interface InfoRow {
  clinic_info: unknown // as stored: any JSON, or null when never set
}

/** Merges the keys given into the platform's info and returns it whole; null when clinic 1 does not exist. */
export async function savePlatformInfo (sql: Sql, patch: ClinicInfo): Promise<InfoRow | null> {
  // Merged inside one UPDATE, so two partial saves at once cannot drop each other's keys.
  const [row] = await sql<InfoRow[]>`
    UPDATE clinics SET
      profile = jsonb_set(
        CASE WHEN jsonb_typeof(profile) = 'object' THEN profile ELSE '{}'::jsonb END,
        '{clinic_info}',
        CASE WHEN jsonb_typeof(profile -> 'clinic_info') = 'object' THEN profile -> 'clinic_info' ELSE '{}'::jsonb END
          || ${sql.json(patch)}::jsonb),
      updated_at = now()
    WHERE id = ${PLATFORM_CLINIC_ID}
    RETURNING profile -> 'clinic_info' AS clinic_info`
  return row ?? null
}

/** The platform's info; null when clinic 1 does not exist. */
export async function platformInfo (sql: Sql): Promise<InfoRow | null> {
  const [row] = await sql<InfoRow[]>`SELECT profile -> 'clinic_info' AS clinic_info FROM clinics WHERE id = ${PLATFORM_CLINIC_ID}`
  return row ?? null
}

export interface Maintenance {
  is_active: boolean
  message: string
}

export async function setMaintenance (sql: Sql, active: boolean, message: string): Promise<Maintenance> {
  const [row] = await sql<Maintenance[]>`
    INSERT INTO maintenance (id, is_active, message) VALUES (1, ${active}, ${message})
    ON CONFLICT (id) DO UPDATE SET is_active = EXCLUDED.is_active, message = EXCLUDED.message, updated_at = now()
    RETURNING is_active, message`
  if (row === undefined) throw new Error('maintenance upsert returned no row')
  return row
}

/** The banner, or null when it was never set (the apps then read "off"). */
export async function maintenance (sql: Sql): Promise<Maintenance | null> {
  const [row] = await sql<Maintenance[]>`SELECT is_active, message FROM maintenance WHERE id = 1`
  return row ?? null
}
