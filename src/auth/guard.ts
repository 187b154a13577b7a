import { authErrors } from '../errors.ts'
import type { Database } from '../db/pool.ts'
import { bearerToken, verifyToken, type Claims } from './tokens.ts'
import { accountOfPatientRef, INT32_MAX } from '../domain/identifiers.ts'
import { secretaryStanding } from '../secretaries/store.ts'
import { staffStanding } from '../staff/store.ts'
import { adminStanding } from './admins.ts'
import { PERMISSIONS, effectivePermissions } from './permissions.ts'
import type { RevokedFamilies } from './revocations.ts'
import { accountOfSubject } from './sessions.ts'
import {
  patientActor, type AdminActor, type AppActor, type DashboardActor, type DoctorActor, type PatientActor, type SecretaryActor, type SessionToken,
  type StaffActor
} from './actors.ts'
import { doctorKey, patientKey, standingOf, voids, type ActorKey, type StandingView } from './standing.ts'

// The one check behind every dashboard route (workers/routes/define.ts calls it for `auth: 'admin'`, `'staff'`,
// `'admin-or-staff'` and `'secret-or-admin'`): a valid HS256 access token whose session (family) is not revoked, of
// an admin or staff member who exists and is active. The family check is a lookup in the revocation set the
// coordinator pushes to every worker (src/auth/revocations.ts), so ending a session costs no query per request;
// the account's row is read on every request, which also gives the caller's current permissions.
// authenticateActor is the same check widened to the apps' actor tokens, for AUTH_MODE=strict (src/auth/actors.ts).

export interface TokenGate {
  db: Database
  jwtSecret: string
  revoked: RevokedFamilies
  // Deactivated and deleted patients and doctors (src/auth/standing.ts), for the apps' tokens in AUTH_MODE=strict.
  standing: StandingView
}

function claimsOf (gate: TokenGate, authorization: string | undefined): Claims {
  const token = bearerToken(authorization)
  if (token === null) throw authErrors.tokenInvalid()
  const verified = verifyToken(gate.jwtSecret, token)
  if (!verified.ok) throw authErrors.tokenInvalid()
  return verified.claims
}

// Every dashboard access token names its session; one that does not was not issued by this server's login.
function sessionToken (gate: TokenGate, claims: Claims): SessionToken {
  if (claims.fam === undefined || gate.revoked.has(claims.fam)) throw authErrors.tokenInvalid()
  return { jti: claims.jti, exp: claims.exp, family: claims.fam }
}

const intId = (text: string): number | null => /^\d{1,10}$/.test(text) && Number(text) <= INT32_MAX ? Number(text) : null

export async function authenticateAdmin (gate: TokenGate, authorization: string | undefined): Promise<AdminActor> {
  const claims = claimsOf(gate, authorization)
  if (claims.type !== 'access') throw authErrors.tokenType()
  return await activeAdmin(gate, claims)
}

export async function authenticateStaff (gate: TokenGate, authorization: string | undefined): Promise<StaffActor> {
  const claims = claimsOf(gate, authorization)
  if (claims.type !== 'staff') throw authErrors.tokenType()
  return await activeStaff(gate, claims)
}

// The routes legacy served to both (ADMIN|STAFF): the token's type decides who it is.
export async function authenticateDashboard (gate: TokenGate, authorization: string | undefined): Promise<DashboardActor> {
  const claims = claimsOf(gate, authorization)
  if (claims.type === 'access') return await activeAdmin(gate, claims)
  if (claims.type === 'staff') return await activeStaff(gate, claims)
  throw authErrors.tokenType()
}

// An admin's access token, a secretary's, a patient's or a doctor's. A refresh token is no actor token.
export async function authenticateActor (gate: TokenGate, authorization: string | undefined): Promise<AppActor> {
  const claims = claimsOf(gate, authorization)
  switch (claims.type) {
    case 'access':
      return await activeAdmin(gate, claims)
    case 'secretary':
      return await activeSecretary(gate.db, claims)
    case 'patient':
      return await standingPatient(gate, claims)
    case 'doctor':
      return await standingDoctor(gate, claims)
    default:
      throw authErrors.tokenType()
  }
}

// Patients and doctors are many and read often: their tokens are checked against the set of deactivated and deleted
// actors the coordinator keeps (src/auth/standing.ts), a lookup in memory; only a worker without a current copy
// reads the rows. A token issued without a verified phone (legacy mode) is no strict-mode token at all.
async function standing (gate: TokenGate, claims: Claims, key: ActorKey): Promise<void> {
  if (claims.phv !== true) throw authErrors.phoneUnverified()
  let state = gate.standing.stateOf(key)
  if (state === 'unknown') {
    const read = await gate.db.run((sql) => standingOf(sql, key))
    state = read === false ? undefined : read
  }
  if (voids(state, claims.iat)) throw authErrors.actorUnavailable()
}

async function standingPatient (gate: TokenGate, claims: Claims): Promise<PatientActor> {
  const accountId = accountOfPatientRef(claims.sub)
  if (accountId === null || accountId > INT32_MAX) throw authErrors.tokenInvalid()
  await standing(gate, claims, patientKey(accountId))
  return patientActor(accountId)
}

// A doctor's token names its phone account and, once it has one, its clinic; the clinic is what is deactivated.
async function standingDoctor (gate: TokenGate, claims: Claims): Promise<DoctorActor> {
  const accountId = intId(claims.sub)
  if (accountId === null) throw authErrors.tokenInvalid()
  const clinicId = claims.clinic_id ?? null
  if (clinicId !== null && clinicId > INT32_MAX) throw authErrors.tokenInvalid()
  if (clinicId === null) {
    if (claims.phv !== true) throw authErrors.phoneUnverified()
  } else {
    await standing(gate, claims, doctorKey(clinicId))
  }
  return { kind: 'doctor', accountId, clinicId }
}

// A doctor disables a secretary by its code; the token it already holds must stop working then, not at the end of
// the day, so every use reads the row (one primary-key lookup; secretaries are one or two per clinic, not a load).
async function activeSecretary (db: Database, claims: Claims): Promise<SecretaryActor> {
  const code = intId(claims.sub)
  if (code === null || claims.clinic_id === undefined) throw authErrors.tokenInvalid()
  const row = await db.run((sql) => secretaryStanding(sql, code))
  if (row === null || !row.is_active || row.clinic_id !== claims.clinic_id) throw authErrors.actorUnavailable()
  return { kind: 'secretary', code, clinicId: row.clinic_id }
}

async function activeAdmin (gate: TokenGate, claims: Claims): Promise<AdminActor> {
  const account = accountOfSubject(claims.sub)
  if (account?.kind !== 'admin') throw authErrors.tokenInvalid()
  const token = sessionToken(gate, claims)
  // One round trip: the admin and the admin role's permissions. A token of a deleted admin finds no row.
  const row = await gate.db.run((sql) => adminStanding(sql, account.id))
  if (row === null || !row.is_active) throw authErrors.adminUnavailable()
  return {
    kind: 'admin',
    id: row.id,
    name: row.name,
    email: row.email,
    isSuperuser: row.is_superuser,
    permissions: row.is_superuser ? PERMISSIONS : effectivePermissions('admin', row.granted),
    token
  }
}

// A staff member deactivated, put on leave or deleted is refused on the next request, on every worker.
async function activeStaff (gate: TokenGate, claims: Claims): Promise<StaffActor> {
  const account = accountOfSubject(claims.sub)
  if (account?.kind !== 'staff') throw authErrors.tokenInvalid()
  const token = sessionToken(gate, claims)
  const row = await gate.db.run((sql) => staffStanding(sql, account.id))
  if (row === null || row.status !== 'active') throw authErrors.staffUnavailable()
  return {
    kind: 'staff',
    id: row.id,
    name: row.name,
    email: row.email,
    roleKey: row.role_key,
    permissions: effectivePermissions(row.role_key, row.granted),
    token
  }
}
