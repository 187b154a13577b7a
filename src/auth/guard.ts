import { authErrors } from '../errors.ts'
import type { Database } from '../db/pool.ts'
import { bearerToken, verifyToken, type Claims } from './tokens.ts'
import { accountOfPatientRef, INT32_MAX } from '../domain/identifiers.ts'
import { secretaryStanding } from '../secretaries/store.ts'
import { patientActor, type AdminActor, type AppActor, type SecretaryActor } from './actors.ts'

// The one check behind every admin route (workers/routes/define.ts calls it for `auth: 'admin'` and
// `'secret-or-admin'`): a valid HS256 access token, not revoked by a logout, of an admin who exists and is active.
// Unlike legacy, where /auth/me and /auth/change-password skipped the blacklist, no route can skip any part of it.
// authenticateActor is the same check widened to the apps' actor tokens, for AUTH_MODE=strict (src/auth/actors.ts).

interface ActorRow {
  id: number
  name: string
  email: string
  is_active: boolean
  is_superuser: boolean
  revoked: boolean
}

function claimsOf (jwtSecret: string, authorization: string | undefined): Claims {
  const token = bearerToken(authorization)
  if (token === null) throw authErrors.tokenInvalid()
  const verified = verifyToken(jwtSecret, token)
  if (!verified.ok) throw authErrors.tokenInvalid()
  return verified.claims
}

const intId = (text: string): number | null => /^\d{1,10}$/.test(text) && Number(text) <= INT32_MAX ? Number(text) : null

export async function authenticateAdmin (db: Database, jwtSecret: string, authorization: string | undefined): Promise<AdminActor> {
  const claims = claimsOf(jwtSecret, authorization)
  if (claims.type !== 'access') throw authErrors.tokenType()
  return await activeAdmin(db, claims)
}

// An admin's access token, a secretary's or a patient's. A refresh token is no actor token.
export async function authenticateActor (db: Database, jwtSecret: string, authorization: string | undefined): Promise<AppActor> {
  const claims = claimsOf(jwtSecret, authorization)
  switch (claims.type) {
    case 'access':
      return await activeAdmin(db, claims)
    case 'secretary':
      return await activeSecretary(db, claims)
    case 'patient': {
      // Stateless: a patient token is good until it expires, so the many patient reads cost no query.
      const accountId = accountOfPatientRef(claims.sub)
      if (accountId === null || accountId > INT32_MAX) throw authErrors.tokenInvalid()
      return patientActor(accountId)
    }
    default:
      throw authErrors.tokenType()
  }
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

async function activeAdmin (db: Database, claims: Claims): Promise<AdminActor> {
  const adminId = intId(claims.sub)
  if (adminId === null) throw authErrors.tokenInvalid()

  // One round trip: the admin and whether this token was revoked. A token of a deleted admin finds no row.
  const [row] = await db.run((sql) => sql<ActorRow[]>`
    SELECT a.id, a.name, a.email, a.is_active, a.is_superuser,
           EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = ${claims.jti}) AS revoked
    FROM admins a WHERE a.id = ${adminId}`)
  if (row?.revoked === true) throw authErrors.tokenInvalid()
  if (row === undefined || !row.is_active) throw authErrors.adminUnavailable()
  return { kind: 'admin', id: row.id, name: row.name, email: row.email, isSuperuser: row.is_superuser, token: { jti: claims.jti, exp: claims.exp } }
}
