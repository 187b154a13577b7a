import type { Sql, TransactionSql } from '../db/pool.ts'
import { isIsoDate } from '../domain/calendar.ts'
import type { BookingStatus } from '../domain/status.ts'
import { bookingErrors } from '../errors.ts'
import { bumpLane } from './versions.ts'
import { hasLiveDays, noTableOf, type Lane } from './days.ts'

// Status changes (edit_patient_booking, edit_patient_gold_booking). A cancellation frees the seat and moves every
// active booking behind it up one token, in the same transaction, so the queue stays 1..n with no gap and no
// duplicate (the apps expect tokens to close up, legacy-api.md §3.5). The booking row itself stays, cancelled: its
// id is never reused.

export interface StatusChange {
  oldStatus: BookingStatus
  patientId: string | null
  version: number
}

// Legacy located a booking by the date inside its id (the third '-'-separated part, 8 digits).
export function dateOfBookingId (bookingId: string): string {
  const parts = bookingId.split('-')
  if (parts.length < 4) throw bookingErrors.invalidBookingId()
  const compact = parts[2] ?? ''
  const date = `${compact.slice(0, 4)}-${compact.slice(4, 6)}-${compact.slice(6, 8)}`
  if (!/^\d{8}$/.test(compact) || !isIsoDate(date)) throw bookingErrors.bookingIdDate()
  return date
}

export async function changeStatus (
  tx: TransactionSql, lane: Lane, clinicId: number, bookingId: string, next: BookingStatus, token: number | null
): Promise<StatusChange> {
  const date = dateOfBookingId(bookingId)
  // Lock order is always day row, then booking rows: the same order as a booking, so the two never deadlock.
  const [day] = await tx<Array<{ id: string }>>`
    SELECT id::text FROM booking_days
    WHERE clinic_id = ${clinicId} AND lane = ${lane} AND day = ${date} AND status <> 'archived'
    FOR UPDATE`
  if (day === undefined) {
    if (!await hasLiveDays(tx, clinicId, lane)) throw noTableOf(lane)()
    throw bookingErrors.dayNotFound()
  }
  const [booking] = await tx<Array<{ id: string, status: BookingStatus, token: number, patient_id: string | null }>>`
    SELECT id::text, status, token, patient_id FROM bookings
    WHERE day_id = ${day.id} AND display_id = ${bookingId} AND status <> 'cancelled'
    FOR UPDATE`
  if (booking === undefined || (token !== null && booking.token !== token)) throw bookingErrors.bookingNotFound()

  if (next === 'cancelled') {
    await tx`UPDATE bookings SET status = 'cancelled', updated_at = now() WHERE id = ${booking.id}`
    await tx`
      UPDATE bookings SET token = token - 1, updated_at = now()
      WHERE day_id = ${day.id} AND status <> 'cancelled' AND token > ${booking.token}`
  } else if (next !== booking.status) {
    await tx`UPDATE bookings SET status = ${next}, updated_at = now() WHERE id = ${booking.id}`
  }
  await tx`
    UPDATE booking_days SET active_count = active_count - ${next === 'cancelled' ? 1 : 0}, updated_at = now()
    WHERE id = ${day.id}`
  return { oldStatus: booking.status, patientId: booking.patient_id, version: await bumpLane(tx, clinicId, lane) }
}

// Whose booking an edit names: the live booking's patient_id, or undefined when there is none (the edit itself then
// answers its 400/404). A booking's patient never changes and its id is never reused, so this unlocked read, made
// before the edit's transaction, stays true for it (AUTH_MODE=strict: a patient may edit its own bookings only).
export async function bookingOwner (sql: Sql, lane: Lane, clinicId: number, bookingId: string): Promise<string | null | undefined> {
  const [row] = await sql<Array<{ patient_id: string | null }>>`
    SELECT b.patient_id FROM bookings b JOIN booking_days d ON d.id = b.day_id
    WHERE b.display_id = ${bookingId} AND d.clinic_id = ${clinicId} AND d.lane = ${lane}
      AND d.status <> 'archived' AND b.status <> 'cancelled'`
  return row === undefined ? undefined : row.patient_id
}
