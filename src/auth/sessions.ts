import { randomUUID } from 'node:crypto'
import type { Sql, TransactionSql } from '../db/pool.ts'
import { ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS, signToken, verifyToken } from './tokens.ts'

// An admin's sessions: a short access token (15 min, checked on every request) and a refresh token (7 days, one
// use). Each login starts a family; every refresh marks its token `rotated` and issues the next one in the same
// family. A rotated token presented again means two parties hold it (a stolen copy, or a client replaying an old
// one), so the whole family is revoked and both have to log in again (OAuth 2.0 Security BCP §4.14.2).

export interface SessionTokens {
  accessToken: string
  refreshToken: string
}

export async function openSession (sql: Sql | TransactionSql, jwtSecret: string, adminId: number, family: string = randomUUID()): Promise<SessionTokens> {
  const sub = String(adminId)
  const access = signToken(jwtSecret, { sub, type: 'access', ttlSeconds: ACCESS_TOKEN_SECONDS })
  const refresh = signToken(jwtSecret, { sub, type: 'refresh', ttlSeconds: REFRESH_TOKEN_SECONDS })
  await sql`
    INSERT INTO refresh_tokens (jti, family, admin_id, expires_at)
    VALUES (${refresh.claims.jti}, ${family}, ${adminId}, to_timestamp(${refresh.claims.exp}))`
  return { accessToken: access.token, refreshToken: refresh.token }
}

interface RefreshRow {
  id: string
  family: string
  admin_id: number
  revoked: boolean
  rotated: boolean
  live: boolean
  admin_active: boolean
}

export type Rotation =
  | { outcome: 'rotated', adminId: number, tokens: SessionTokens }
  | { outcome: 'reused', adminId: number } // the family is now revoked
  | { outcome: 'refused' }

// In one transaction, the row locked: two refreshes with one token are serialized, and the second is a reuse.
export async function rotateRefreshToken (tx: TransactionSql, jwtSecret: string, token: string): Promise<Rotation> {
  const verified = verifyToken(jwtSecret, token)
  if (!verified.ok || verified.claims.type !== 'refresh') return { outcome: 'refused' }
  const [row] = await tx<RefreshRow[]>`
    SELECT r.id, r.family, r.admin_id, r.revoked, r.rotated, r.expires_at > now() AS live, a.is_active AS admin_active
    FROM refresh_tokens r JOIN admins a ON a.id = r.admin_id
    WHERE r.jti = ${verified.claims.jti}
    FOR UPDATE OF r`
  if (row === undefined || String(row.admin_id) !== verified.claims.sub || row.revoked) return { outcome: 'refused' }
  if (row.rotated) {
    await tx`UPDATE refresh_tokens SET revoked = true WHERE family = ${row.family} AND NOT revoked`
    return { outcome: 'reused', adminId: row.admin_id }
  }
  if (!row.live || !row.admin_active) return { outcome: 'refused' }
  await tx`UPDATE refresh_tokens SET rotated = true WHERE id = ${row.id}`
  return { outcome: 'rotated', adminId: row.admin_id, tokens: await openSession(tx, jwtSecret, row.admin_id, row.family) }
}

export async function revokeRefreshTokens (sql: Sql | TransactionSql, adminId: number): Promise<void> {
  await sql`UPDATE refresh_tokens SET revoked = true WHERE admin_id = ${adminId} AND NOT revoked`
}

// Logout: this access token stops working now rather than in up to 15 minutes, and no refresh token of the admin
// can mint another. Revoked jtis are kept only until the token would have expired anyway (legacy never purged).
export async function closeSessions (tx: TransactionSql, adminId: number, access: { jti: string, exp: number }): Promise<void> {
  await tx`
    INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (${access.jti}, to_timestamp(${access.exp}))
    ON CONFLICT (jti) DO NOTHING`
  await revokeRefreshTokens(tx, adminId)
  await tx`DELETE FROM revoked_access_tokens WHERE expires_at < now()`
}
