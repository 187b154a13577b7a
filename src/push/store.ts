import type { Sql } from '../db/pool.ts'
import type { Lane } from '../booking/days.ts'
import { iraqToday } from '../domain/calendar.ts'
import type { PushMessage } from './fcm.ts'

// Devices, and the notifications owed to them. A notification is a row of push_deliveries before it is a request
// to FCM: the row's unique (booking, event, device) is what makes it happen once across every coordinator of
// every instance, and its next_attempt_at is both the back-off and the lease of whoever is sending it.

export const DEFAULT_THRESHOLD = 3
// After this many attempts (about nine minutes of back-off) a notification is given up: the turn has passed.
export const MAX_ATTEMPTS = 8

export interface DeviceRow {
  device_token: string
  patient_ref: string
  threshold: number
}

/** Registers (or moves, or updates) a device for a patient. */
export async function registerDevice (sql: Sql, patientRef: string, deviceToken: string, threshold: number): Promise<DeviceRow> {
  const [row] = await sql<DeviceRow[]>`
    INSERT INTO patient_devices (device_token, patient_ref, threshold) VALUES (${deviceToken}, ${patientRef}, ${threshold})
    ON CONFLICT (device_token) DO UPDATE SET patient_ref = EXCLUDED.patient_ref, threshold = EXCLUDED.threshold, updated_at = now()
    RETURNING device_token, patient_ref, threshold`
  return row as DeviceRow
}

/**
 * The notifications today's queue of a clinic's lane now owes, written as pending rows; those owed before are
 * already rows and stay as they were (ON CONFLICT DO NOTHING). `near`: a waiting booking whose patient registered a
 * device and has at most its threshold of waiting bookings before it; `called`: a booking in progress. One
 * statement over the day's rows, whatever the number of devices. Returns how many rows are new.
 */
export async function enqueueOwed (sql: Sql, clinicId: number, lane: Lane, now: Date = new Date()): Promise<number> {
  const rows = await sql`
    WITH queue AS (
      SELECT b.id, b.display_id, b.token, b.status, b.patient_id,
             count(*) FILTER (WHERE b.status = 'booked') OVER (ORDER BY b.token ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS ahead
      FROM bookings b JOIN booking_days d ON d.id = b.day_id
      WHERE d.clinic_id = ${clinicId} AND d.lane = ${lane} AND d.day = ${iraqToday(now)} AND d.status <> 'archived'
        AND b.status <> 'cancelled'
    )
    INSERT INTO push_deliveries (booking_id, event, device_token, payload)
    SELECT q.id, CASE WHEN q.status = 'in_progress' THEN 'called' ELSE 'near' END, pd.device_token,
           json_build_object('booking_id', q.display_id, 'token', q.token, 'ahead', q.ahead, 'clinic_id', ${clinicId}::int, 'lane', ${lane}::text)
    FROM queue q JOIN patient_devices pd ON pd.patient_ref = q.patient_id
    WHERE q.status = 'in_progress' OR (q.status = 'booked' AND q.ahead <= pd.threshold)
    ON CONFLICT (booking_id, event, device_token) DO NOTHING
    RETURNING 1`
  return rows.length
}

export interface DueDelivery {
  id: string
  event: 'near' | 'called'
  device_token: string
  payload: { booking_id: string, token: number, ahead: number, clinic_id: number, lane: Lane }
  attempts: number
}

/**
 * Takes up to `limit` pending notifications that are due, for this caller alone: SKIP LOCKED keeps two coordinators
 * off the same rows, and moving next_attempt_at ahead by the back-off (1 s, 2 s, 4 s … 128 s) leaves a row to the
 * next attempt if this one never reports (its coordinator died mid-send).
 */
export async function claimDue (sql: Sql, limit: number): Promise<DueDelivery[]> {
  return await sql<DueDelivery[]>`
    UPDATE push_deliveries p
    SET attempts = p.attempts + 1,
        next_attempt_at = now() + make_interval(secs => power(2, least(p.attempts, 7)))
    FROM (SELECT id FROM push_deliveries WHERE state = 'pending' AND next_attempt_at <= now() ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED) due
    WHERE p.id = due.id
    RETURNING p.id::text, p.event, p.device_token, p.payload, p.attempts`
}

/** Milliseconds until the next pending delivery comes due (0 or less: due now); null when none is pending. */
export async function nextDueInMs (sql: Sql): Promise<number | null> {
  const [row] = await sql<Array<{ ms: number | null }>>`
    SELECT (extract(epoch FROM min(next_attempt_at) - now()) * 1000)::float8 AS ms FROM push_deliveries WHERE state = 'pending'`
  return row?.ms ?? null
}

export async function markSent (sql: Sql, id: string): Promise<void> {
  await sql`UPDATE push_deliveries SET state = 'sent', sent_at = now(), last_error = NULL WHERE id = ${id}`
}

/** Records a failed attempt: given up when it cannot succeed or has been tried MAX_ATTEMPTS times. */
export async function markFailed (sql: Sql, delivery: DueDelivery, error: string, retry: boolean): Promise<void> {
  const giveUp = !retry || delivery.attempts >= MAX_ATTEMPTS
  await sql`UPDATE push_deliveries SET last_error = ${error}, state = ${giveUp ? 'failed' : 'pending'} WHERE id = ${delivery.id}`
}

// What the patient's phone shows, in Arabic (the apps' language).
export function messageOf (delivery: DueDelivery): PushMessage {
  const { payload } = delivery
  const data = {
    event: delivery.event,
    booking_id: payload.booking_id,
    token: String(payload.token),
    clinic_id: String(payload.clinic_id),
    lane: payload.lane
  }
  if (delivery.event === 'called') {
    return { token: delivery.device_token, title: 'حان دورك', body: `الرقم ${payload.token}: تفضّل بالدخول إلى الطبيب`, data }
  }
  return {
    token: delivery.device_token,
    title: 'اقترب دورك',
    body: payload.ahead === 0 ? `رقمك ${payload.token}: أنت التالي` : `رقمك ${payload.token}: أمامك ${payload.ahead} من المراجعين`,
    data: { ...data, ahead: String(payload.ahead) }
  }
}
