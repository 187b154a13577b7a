import { randomUUID } from 'node:crypto'
import type { Sql, TransactionSql } from '../db/pool.ts'
import { ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS, signToken, verifyToken } from './tokens.ts'
import { revokeFamilies, type RevokedFamily } from './revocations.ts'

// Dashboard sessions, for admins and staff alike: a short access token (15 min, checked on every request) and a
// refresh token (7 days, one use). Each login starts a family; every refresh marks its token `rotated` and issues
// the next one in the same family. A rotated token presented again means two parties hold it (a stolen copy, or a
// client replaying an old one), so the whole family is revoked and both have to log in again (OAuth 2.0 Security
// BCP §4.14.2). Access tokens carry their family (`fam`): revoking a family (src/auth/revocations.ts) stops the
// access tokens it issued at once, not when they expire.

export type Account = { kind: 'admin', id: number } | { kind: 'staff', id: number }

// Legacy's subjects: an admin's id, `staff:<id>` for a staff member; the access token's type tells them apart too.
export function subjectOf (account: Account): string {
  return account.kind === 'admin' ? String(account.id) : `staff:${account.id}`
}

const INT32_MAX = 2_147_483_647

export function accountOfSubject (sub: string): Account | null {
  const match = /^(staff:)?(\d{1,10})$/.exec(sub)
  if (match === null || Number(match[2]) > INT32_MAX || Number(match[2]) === 0) return null
  return { kind: match[1] === undefined ? 'admin' : 'staff', id: Number(match[2]) }
}

export interface SessionTokens {
  accessToken: string
  refreshToken: string
}

export interface OpenOptions {
  family?: string
  userAgent?: string | null
}

const column = (account: Account): 'admin_id' | 'staff_id' => account.kind === 'admin' ? 'admin_id' : 'staff_id'

export async function openSession (sql: Sql | TransactionSql, jwtSecret: string, account: Account, options: OpenOptions = {}): Promise<SessionTokens> {
  const family = options.family ?? randomUUID()
  const sub = subjectOf(account)
  const access = signToken(jwtSecret, { sub, type: account.kind === 'admin' ? 'access' : 'staff', ttlSeconds: ACCESS_TOKEN_SECONDS, family })
  const refresh = signToken(jwtSecret, { sub, type: 'refresh', ttlSeconds: REFRESH_TOKEN_SECONDS })
  const adminId = account.kind === 'admin' ? account.id : null
  const staffId = account.kind === 'staff' ? account.id : null
  // A rotation keeps the device its family started on.
  await sql`
    INSERT INTO refresh_tokens (jti, family, admin_id, staff_id, expires_at, user_agent)
    VALUES (${refresh.claims.jti}, ${family}, ${adminId}, ${staffId}, to_timestamp(${refresh.claims.exp}),
            coalesce(${options.userAgent ?? null}::text, (SELECT user_agent FROM refresh_tokens WHERE family = ${family} ORDER BY id LIMIT 1)))`
  return { accessToken: access.token, refreshToken: refresh.token }
}

interface RefreshRow {
  id: string
  family: string
  admin_id: number | null
  staff_id: number | null
  revoked: boolean
  rotated: boolean
  live: boolean
  account_active: boolean
}

export type Rotation =
  | { outcome: 'rotated', account: Account, tokens: SessionTokens }
  | { outcome: 'reused', account: Account, revoked: RevokedFamily[] } // the family is now revoked
  | { outcome: 'refused' }

// In one transaction, the row locked: two refreshes with one token are serialized, and the second is a reuse.
export async function rotateRefreshToken (tx: TransactionSql, jwtSecret: string, token: string): Promise<Rotation> {
  const verified = verifyToken(jwtSecret, token)
  if (!verified.ok || verified.claims.type !== 'refresh') return { outcome: 'refused' }
  const [row] = await tx<RefreshRow[]>`
    SELECT r.id, r.family, r.admin_id, r.staff_id, r.revoked, r.rotated, r.expires_at > now() AS live,
           coalesce(a.is_active, s.status = 'active', false) AS account_active
    FROM refresh_tokens r
    LEFT JOIN admins a ON a.id = r.admin_id
    LEFT JOIN staff s ON s.id = r.staff_id
    WHERE r.jti = ${verified.claims.jti}
    FOR UPDATE OF r`
  if (row === undefined || row.revoked) return { outcome: 'refused' }
  const account: Account = row.admin_id !== null ? { kind: 'admin', id: row.admin_id } : { kind: 'staff', id: row.staff_id as number }
  if (subjectOf(account) !== verified.claims.sub) return { outcome: 'refused' }
  if (row.rotated) {
    await tx`UPDATE refresh_tokens SET revoked = true WHERE family = ${row.family} AND NOT revoked`
    return { outcome: 'reused', account, revoked: await revokeFamilies(tx, [row.family]) }
  }
  if (!row.live || !row.account_active) return { outcome: 'refused' }
  await tx`UPDATE refresh_tokens SET rotated = true WHERE id = ${row.id}`
  return { outcome: 'rotated', account, tokens: await openSession(tx, jwtSecret, account, { family: row.family }) }
}

/**
 * Ends every session of the account (but `except`, the caller's own, when it is to go on): no refresh token of it
 * can mint another pair, and every access token it holds stops working now (logout, "revoke all sessions", a password
 * change or reset, deactivation). The families that may still have a live access token are those that issued one
 * within an access token's lifetime.
 */
export async function endSessions (tx: TransactionSql, account: Account, except: string | null = null): Promise<RevokedFamily[]> {
  const key = column(account)
  const kept = except === null ? tx`TRUE` : tx`family <> ${except}`
  const rows = await tx<Array<{ family: string }>>`
    SELECT DISTINCT family::text FROM refresh_tokens
    WHERE ${tx(key)} = ${account.id} AND ${kept} AND (NOT revoked OR created_at > now() - make_interval(secs => ${ACCESS_TOKEN_SECONDS + 5}))`
  await tx`UPDATE refresh_tokens SET revoked = true WHERE ${tx(key)} = ${account.id} AND ${kept} AND NOT revoked`
  return await revokeFamilies(tx, rows.map((row) => row.family))
}

/** Ends one session of the account, named by its id in /users/me/sessions; false when it has no such live session. */
export async function endSession (tx: TransactionSql, account: Account, sessionId: number): Promise<RevokedFamily[] | null> {
  const [row] = await tx<Array<{ family: string }>>`
    SELECT family::text FROM refresh_tokens WHERE id = ${sessionId} AND ${tx(column(account))} = ${account.id}`
  if (row === undefined) return null
  const revoked = await tx`UPDATE refresh_tokens SET revoked = true WHERE family = ${row.family} AND NOT revoked RETURNING id`
  if (revoked.length === 0) return null
  return await revokeFamilies(tx, [row.family])
}

export interface SessionRow {
  id: number
  family: string
  created_at: Date
  last_used_at: Date
  expires_at: Date
  user_agent: string | null
}

// One row per live family (not revoked, its newest token unexpired): the family's first token id names it, so the
// id stays the same across refreshes.
export async function liveSessions (sql: Sql, account: Account): Promise<SessionRow[]> {
  return await sql<SessionRow[]>`
    SELECT min(id)::int AS id, family::text, min(created_at) AS created_at, max(created_at) AS last_used_at,
           max(expires_at) AS expires_at, (array_agg(user_agent ORDER BY id))[1] AS user_agent
    FROM refresh_tokens
    WHERE ${sql(column(account))} = ${account.id}
    GROUP BY family
    HAVING bool_and(NOT revoked) AND max(expires_at) > now()
    ORDER BY max(created_at) DESC`
}
