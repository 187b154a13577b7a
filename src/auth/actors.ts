import { accountOfPatientRef, accountRef, parseAccountId } from '../domain/identifiers.ts'
import { isRecord } from '../domain/json.ts'
import { signToken } from './tokens.ts'
import type { Permission } from './permissions.ts'
import type { Account } from './sessions.ts'

// Who is behind an app request and what it may touch (contract.md §3). Secretary login and patient registration
// hand out actor tokens in both modes; with AUTH_MODE=strict every app route also needs one, and the rules below
// decide, from a route's declared scope, whether this actor may make this request. They are the only place those
// rules live: routes declare facts (which clinic, which patient, whose booking), never decisions.

export const SECRETARY_TOKEN_SECONDS = 12 * 60 * 60 // a working day: the secretary logs in with its code each morning
export const PATIENT_TOKEN_SECONDS = 30 * 24 * 60 * 60 // the app re-registers (same account, new token) when it expires
export const DOCTOR_TOKEN_SECONDS = 30 * 24 * 60 * 60 // the doctor app signs in by phone again when it expires

// The access token a dashboard request came with, and the session (refresh-token family) it belongs to.
export interface SessionToken {
  jti: string
  exp: number
  family: string
}

export interface AdminActor {
  kind: 'admin'
  id: number
  name: string
  email: string
  isSuperuser: boolean
  // The caller's own effective permissions (src/auth/permissions.ts), read with the row on every request.
  permissions: readonly Permission[]
  token: SessionToken
}

// A staff member signed in to the dashboard (legacy-api.md §2.5): an active row, its effective permissions.
export interface StaffActor {
  kind: 'staff'
  id: number
  name: string
  email: string
  roleKey: string | null
  permissions: readonly Permission[]
  token: SessionToken
}

export type DashboardActor = AdminActor | StaffActor

export const accountOf = (actor: DashboardActor): Account => ({ kind: actor.kind, id: actor.id })

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

// A doctor signed in by its verified phone (POST /auth/after-phone-login). `clinicId` is the clinic its phone
// account is linked to, null for a doctor who has not posted its profile yet: such a token may create its clinic
// and nothing else.
export interface DoctorActor {
  kind: 'doctor'
  accountId: number
  clinicId: number | null
}

export type AppActor = AdminActor | SecretaryActor | PatientActor | DoctorActor
export type ActorKind = SecretaryActor['kind'] | PatientActor['kind'] | DoctorActor['kind']

// A doctor may do, on its own clinic, whatever the clinic's secretaries may: a route that lets secretaries in lets
// the clinic's doctor in too, so these lists name doctors only where secretaries are not allowed.
export const APP_ACTORS: readonly ActorKind[] = ['secretary', 'patient']
export const SECRETARIES: readonly ActorKind[] = ['secretary'] // the clinic's own work: queues, archives, payments
export const PATIENTS: readonly ActorKind[] = ['patient']
export const DOCTORS: readonly ActorKind[] = ['doctor'] // the doctor's own profile
export const ADMINS_ONLY: readonly ActorKind[] = [] // platform-wide reports and switches

// The patient account a response must be redacted for, or null for the full view (legacy mode, staff, admins).
export function viewerOf (actor: AppActor | null): number | null {
  return actor?.kind === 'patient' ? actor.accountId : null
}

export function secretaryToken (jwtSecret: string, code: number, clinicId: number): string {
  return signToken(jwtSecret, { sub: String(code), type: 'secretary', clinicId, ttlSeconds: SECRETARY_TOKEN_SECONDS }).token
}

// `phoneVerified`: issued against a verified Firebase ID token of the account's phone (the only kind strict mode takes).
export function patientToken (jwtSecret: string, accountId: number, phoneVerified = false): string {
  return signToken(jwtSecret, { sub: accountRef(accountId), type: 'patient', ttlSeconds: PATIENT_TOKEN_SECONDS, phoneVerified }).token
}

export function doctorToken (jwtSecret: string, accountId: number, clinicId: number | null): string {
  return signToken(jwtSecret, {
    sub: String(accountId), type: 'doctor', ttlSeconds: DOCTOR_TOKEN_SECONDS, phoneVerified: true, ...(clinicId === null ? {} : { clinicId })
  }).token
}

export function patientActor (accountId: number): PatientActor {
  return { kind: 'patient', accountId, ref: accountRef(accountId) }
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
  // True when the request does what only the clinic may do (a secretary_app booking may overbook a full day, a
  // status other than a cancellation); a patient is refused.
  clinicAction?: (input: I) => boolean
  // True when the request does what only an admin may (re-activating a doctor, publishing an ad); every app actor
  // is refused.
  adminAction?: (input: I) => boolean
  // The body key naming the patient: a patient's request that leaves it out is completed with the patient's own
  // `P-<id>`, and one naming the patient as `71` or `p-71` is written as `P-71`, before validation.
  patientField?: string
  // Login routes (secretary code, patient registration, admin login, check-phone): they precede any token.
  signIn?: true
}

export type ScopeVerdict = 'allowed' | 'refused'

export async function judge<I> (actor: AppActor, scope: RouteScope<I> | undefined, input: I): Promise<ScopeVerdict> {
  if (actor.kind === 'admin' || scope === undefined || scope.signIn === true) return 'allowed'
  const actors = scope.actors ?? APP_ACTORS
  const admitted = actors.includes(actor.kind) || (actor.kind === 'doctor' && actors.includes('secretary'))
  if (!admitted || scope.adminAction?.(input) === true) return 'refused'
  if (actor.kind === 'secretary' || actor.kind === 'doctor') {
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
  if (!isRecord(raw)) return raw
  const sent = raw[key]
  if (sent === undefined || sent === null || sent === '' || parseAccountId(sent) === actor.accountId) {
    return { ...raw, [key]: actor.ref }
  }
  return raw
}

// POST /doctor/profile with a doctor token: a doctor writes its own clinic's profile, and one that has no clinic yet
// may create one under an id nobody uses. It cannot write another clinic, nor take over an existing one.
export function mayPostProfile (doctor: DoctorActor, clinicId: number, clinicExists: boolean): boolean {
  return doctor.clinicId === null ? !clinicExists : doctor.clinicId === clinicId
}
