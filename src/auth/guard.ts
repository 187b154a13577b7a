import { authErrors } from '../errors.ts'
import type { Database } from '../db/pool.ts'
import { bearerToken, verifyToken } from './tokens.ts'

// The one check behind every admin route (workers/routes/define.ts calls it for `auth: 'admin'` and
// `'secret-or-admin'`): a valid HS256 access token, not revoked by a logout, of an admin who exists and is active.
// Unlike legacy, where /auth/me and /auth/change-password skipped the blacklist, no route can skip any part of it.

export interface AdminActor {
  id: number
  name: string
  email: string
  isSuperuser: boolean
  // The access token this request came with: logout revokes exactly this one.
  token: { jti: string, exp: number }
}

const INT32_MAX = 2_147_483_647

interface ActorRow {
  id: number
  name: string
  email: string
  is_active: boolean
  is_superuser: boolean
  revoked: boolean
}

export async function authenticateAdmin (db: Database, jwtSecret: string, authorization: string | undefined): Promise<AdminActor> {
  const token = bearerToken(authorization)
  if (token === null) throw authErrors.tokenInvalid()
  const verified = verifyToken(jwtSecret, token)
  if (!verified.ok) throw authErrors.tokenInvalid()
  const { claims } = verified
  if (claims.type !== 'access') throw authErrors.tokenType()
  if (!/^\d{1,10}$/.test(claims.sub) || Number(claims.sub) > INT32_MAX) throw authErrors.tokenInvalid()

  // One round trip: the admin and whether this token was revoked. A token of a deleted admin finds no row.
  const [row] = await db.run((sql) => sql<ActorRow[]>`
    SELECT a.id, a.name, a.email, a.is_active, a.is_superuser,
           EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = ${claims.jti}) AS revoked
    FROM admins a WHERE a.id = ${Number(claims.sub)}`)
  if (row?.revoked === true) throw authErrors.tokenInvalid()
  if (row === undefined || !row.is_active) throw authErrors.adminUnavailable()
  return { id: row.id, name: row.name, email: row.email, isSuperuser: row.is_superuser, token: { jti: claims.jti, exp: claims.exp } }
}
