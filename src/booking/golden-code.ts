import type { Sql } from '../db/pool.ts'
import type { BookingStatus } from '../domain/status.ts'
import { hasLiveDays } from './days.ts'

// verify_golden_code (legacy-api.md §2.14): the secretary types the 4-digit code a patient shows at the desk.

export interface GoldenCodeBooking {
  name: string
  phone: string
  patient_id: string | null
  display_id: string
  token: number
  status: BookingStatus
  day: string // YYYY-MM-DD
}

/**
 * The live golden booking a code belongs to (on `date` when one is given, else the earliest), and whether the
 * clinic has golden days at all, for the legacy message when there is none. A cancelled booking's code is not
 * valid any more (legacy deleted the entry), or a secretary could take a payment for it.
 */
export async function bookingOfGoldenCode (sql: Sql, clinicId: number, code: string, date: string | null): Promise<{ booking: GoldenCodeBooking | null, hasTable: boolean }> {
  const [booking] = await sql<GoldenCodeBooking[]>`
    SELECT b.name, b.phone, b.patient_id, b.display_id, b.token, b.status, to_char(d.day, 'YYYY-MM-DD') AS day
    FROM bookings b JOIN booking_days d ON d.id = b.day_id
    WHERE d.clinic_id = ${clinicId} AND d.lane = 'golden' AND d.status <> 'archived' AND b.golden_code = ${code}
      AND b.status <> 'cancelled' AND (${date}::date IS NULL OR d.day = ${date}::date)
    ORDER BY d.day
    LIMIT 1`
  if (booking !== undefined) return { booking, hasTable: true }
  return { booking: null, hasTable: await hasLiveDays(sql, clinicId, 'golden') }
}
