import { accountRef, parseAccountId } from '../domain/identifiers.ts'
import { signToken } from './tokens.ts'
import type { AdminActor } from './guard.ts'

// Who is behind an app request and what it may touch (contract.md §3). Secretary login and patient registration
// hand out actor tokens in both modes; with AUTH_MODE=strict every app route also needs one, and the rules below
// decide, from a route's declared scope, whether this actor may make this request. They are the only place those
// rules live: routes declare facts (which clinic, which patient, whose booking), never decisions.

export const SECRETARY_TOKEN_SECONDS = 12 * 60 * 60 // a working day: the secretary logs in with its code each morning
export const PATIENT_TOKEN_SECONDS = 30 * 24 * 60 * 60 // the app re-registers (same account, new token) when it expires

export interface SecretaryActor {
  kind: 'secretary'
  code: number
  clinicId: number
}

export interface PatientActor {
  kind: 'patient'
  accountId: number
  ref: string // `P-<id>`, the patient_id its bookings carry
}

export type AppActor = AdminActor | SecretaryActor | PatientActor
export type ActorKind = SecretaryActor['kind'] | PatientActor['kind']

export const APP_ACTORS: readonly ActorKind[] = ['secretary', 'patient']
export const SECRETARIES: readonly ActorKind[] = ['secretary'] // the clinic's own work: queues, archives, payments
export const PATIENTS: readonly ActorKind[] = ['patient']
export const ADMINS_ONLY: readonly ActorKind[] = [] // platform-wide reports and switches

// The patient account a response must be redacted for, or null for the full view (legacy mode, staff, admins).
export function viewerOf (actor: AppActor | null): number | null {
  return actor?.kind === 'patient' ? actor.accountId : null
}

export function secretaryToken (jwtSecret: string, code: number, clinicId: number): string {
  return signToken(jwtSecret, { sub: String(code), type: 'secretary', clinicId, ttlSeconds: SECRETARY_TOKEN_SECONDS }).token
}

export function patientToken (jwtSecret: string, accountId: number): string {
  return signToken(jwtSecret, { sub: accountRef(accountId), type: 'patient', ttlSeconds: PATIENT_TOKEN_SECONDS }).token
}

export function patientActor (accountId: number): PatientActor {
  return { kind: 'patient', accountId, ref: accountRef(accountId) }
}

// The account a stored patient_id belongs to, read strictly: only `P-<id>` names an account. A bare number does
// not, because secretary walk-ins carry their 3-digit sequence ("002") as patient_id, which is no account's id.
export function accountOfPatientRef (stored: unknown): number | null {
  if (typeof stored !== 'string' || !/^\s*P-/i.test(stored)) return null
  return parseAccountId(stored)
}

/**
 * What a route tells the rules about a request, once its input is validated. Every part is optional; a route
 * declares only what applies to it. Resolvers that need the database (a secretary's clinic by its code, a booking's
 * owner) are asked only when the actor is one whose rule needs the answer.
 */
export interface RouteScope<I> {
  // The non-admin actors that may call the route at all (default: both). `[]` makes it admin-only in strict mode.
  actors?: readonly ActorKind[]
  // The clinic the request acts on; a secretary may act on its own only. Null: the request names none that exists,
  // and the handler answers its own 400/404.
  clinicId?: (input: I) => number | null | Promise<number | null>
  // The patient account the request names (`P-<id>`, `<id>`); a patient may name itself only.
  patientId?: (input: I) => unknown
  // The patient_id stored on the booking the request changes (undefined: no such booking, the handler's 404);
  // a patient may change its own bookings only.
  bookingOwner?: (input: I) => Promise<string | null | undefined>
  // True when the request does what only the clinic may do (a secretary_app booking may overbook a full day).
  clinicAction?: (input: I) => boolean
  // The body key naming the patient: a patient's request that leaves it out is completed with the patient's own
  // `P-<id>`, and one naming the patient as `71` or `p-71` is written as `P-71`, before validation.
  patientField?: string
  // Login routes (secretary code, patient registration, admin login, check-phone): they precede any token.
  signIn?: true
}

export type ScopeVerdict = 'allowed' | 'refused'

export async function judge<I> (actor: AppActor, scope: RouteScope<I> | undefined, input: I): Promise<ScopeVerdict> {
  if (actor.kind === 'admin' || scope === undefined || scope.signIn === true) return 'allowed'
  if (!(scope.actors ?? APP_ACTORS).includes(actor.kind)) return 'refused'
  if (actor.kind === 'secretary') {
    if (scope.clinicId === undefined) return 'allowed'
    const clinicId = await scope.clinicId(input)
    return clinicId === null || clinicId === actor.clinicId ? 'allowed' : 'refused'
  }
  if (scope.clinicAction?.(input) === true) return 'refused'
  if (scope.patientId !== undefined && parseAccountId(scope.patientId(input)) !== actor.accountId) return 'refused'
  if (scope.bookingOwner !== undefined) {
    const owner = await scope.bookingOwner(input)
    if (owner !== undefined && accountOfPatientRef(owner) !== actor.accountId) return 'refused'
  }
  return 'allowed'
}

// See RouteScope.patientField. Works on the parsed JSON before the schema sees it, so the route's schema (and its
// legacy 422 for a missing patient_id, when no patient token is in play) stays as it is.
export function bindPatient (raw: unknown, key: string, actor: PatientActor): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw
  const body = raw as Record<string, unknown>
  const sent = body[key]
  if (sent === undefined || sent === null || sent === '' || parseAccountId(sent) === actor.accountId) {
    return { ...body, [key]: actor.ref }
  }
  return raw
}

// ---------------------------------------------------------------------------------------------------------------
// What a patient sees of a clinic's days in strict mode: every seat's token, status and booking id (so the queue and
// its own place in it read as before), but the name, phone, patient_id and golden code of its own bookings only.
// Those fields of other entries are the empty string rather than null or absent, so every field keeps the JSON type
// the apps parse it as.

export const HIDDEN = ''
const PRIVATE_FIELDS = ['name', 'phone', 'patient_id', 'code'] as const

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function* entriesOf (rendering: unknown): Generator<Record<string, unknown>> {
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

// A copy of the `{clinic_id, days}` rendering with other patients' private fields hidden; `viewer` null hides all.
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
