import { accountOfPatientRef } from '../domain/identifiers.ts'
import { isRecord } from '../domain/json.ts'

// What a patient sees of a clinic's days in AUTH_MODE=strict: every seat's token, status and booking id (so the queue
// and its own place in it read as before), but the name, phone, patient_id and golden code of its own bookings only.
// Those fields of other entries are the empty string rather than null or absent, so every field keeps the JSON type
// the apps parse it as. Works on the `{clinic_id, days}` rendering of days.ts, the one the shared cache holds.

const HIDDEN = ''
const PRIVATE_FIELDS = ['name', 'phone', 'patient_id', 'code'] as const

function * entriesOf (rendering: unknown): Generator<Record<string, unknown>> {
  if (!isRecord(rendering) || !isRecord(rendering['days'])) return
  for (const day of Object.values(rendering['days'])) {
    if (!isRecord(day) || !Array.isArray(day['patients'])) continue
    for (const entry of day['patients']) if (isRecord(entry)) yield entry
  }
}

// The accounts that own at least one entry: every other patient gets the one shared fully-hidden view.
export function ownersIn (rendering: unknown): Set<number> {
  const owners = new Set<number>()
  for (const entry of entriesOf(rendering)) {
    const account = accountOfPatientRef(entry['patient_id'])
    if (account !== null) owners.add(account)
  }
  return owners
}

// A copy of the rendering with other patients' private fields hidden; `viewer` null hides all.
export function redactDays (rendering: unknown, viewer: number | null): unknown {
  if (!isRecord(rendering) || !isRecord(rendering['days'])) return rendering
  const days: Record<string, unknown> = {}
  for (const [date, day] of Object.entries(rendering['days'])) {
    if (!isRecord(day) || !Array.isArray(day['patients'])) {
      days[date] = day
      continue
    }
    const patients = day['patients'].map((entry: unknown) => {
      if (!isRecord(entry) || (viewer !== null && accountOfPatientRef(entry['patient_id']) === viewer)) return entry
      const hidden: Record<string, unknown> = { ...entry }
      for (const field of PRIVATE_FIELDS) if (field in hidden) hidden[field] = HIDDEN
      return hidden
    })
    days[date] = { ...day, patients }
  }
  return { ...rendering, days }
}
