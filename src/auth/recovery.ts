import { createHash, randomBytes } from 'node:crypto'
import type { Sql, TransactionSql } from '../db/pool.ts'
import type { Account } from './sessions.ts'

// Secrets that stand in for a password: an admin's recovery codes (legacy-api.md §2.3) and the password-reset links
// of admins and staff (§2.2). Both are long random values (64 and 256 bits), so a SHA-256 of each is all that is
// stored: a copy of the database gives nobody a code or a link that works, and a lookup stays one indexed query
// (a slow password hash would be needed only for secrets a person chose).

export const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex')

// Legacy's format, `xxxxxxxx-xxxxxxxx` in lower-case hex.
const RECOVERY_CODE = /^[0-9a-f]{8}-[0-9a-f]{8}$/
export const RECOVERY_CODE_COUNT = 10

export const normalizeRecoveryCode = (code: string): string | null => {
  const normalized = code.trim().toLowerCase()
  return RECOVERY_CODE.test(normalized) ? normalized : null
}

// What the dashboard is shown of a code after the one time it was shown whole: its first four characters.
export const maskedCode = (hint: string): string => `${hint}****-********`

export interface RecoveryCodeRow {
  hint: string
  used: boolean
}

export async function recoveryCodesOf (sql: Sql, adminId: number): Promise<RecoveryCodeRow[]> {
  return await sql<RecoveryCodeRow[]>`
    SELECT hint, used_at IS NOT NULL AS used FROM recovery_codes WHERE admin_id = ${adminId} ORDER BY id`
}

/** Replaces the admin's codes with fresh ones and returns them: the only time they exist outside the admin's hands. */
export async function replaceRecoveryCodes (tx: TransactionSql, adminId: number): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = randomBytes(8).toString('hex')
    return `${bytes.slice(0, 8)}-${bytes.slice(8)}`
  })
  await tx`DELETE FROM recovery_codes WHERE admin_id = ${adminId}`
  await tx`
    INSERT INTO recovery_codes (admin_id, code_hash, hint)
    SELECT ${adminId}, h, left(c, 4) FROM unnest(${codes.map(digest)}::text[], ${codes}::text[]) AS t (h, c)`
  return codes
}

/** Marks one unused code of the admin used; false when it is not one (or was used already). Single use under races. */
export async function consumeRecoveryCode (tx: TransactionSql, adminId: number, code: string): Promise<boolean> {
  const used = await tx`
    UPDATE recovery_codes SET used_at = now()
    WHERE admin_id = ${adminId} AND code_hash = ${digest(code)} AND used_at IS NULL RETURNING id`
  return used.length > 0
}

// Reset tokens: 32 random bytes as 64 hex characters, the legacy link's format (`…/auth/reset?token=<64 hex>`).
export const RESET_TOKEN = /^[0-9a-f]{64}$/

export async function issueResetToken (tx: TransactionSql, account: Account, ttlMinutes: number): Promise<string> {
  const token = randomBytes(32).toString('hex')
  await tx`
    INSERT INTO password_reset_tokens (token_hash, admin_id, staff_id, expires_at)
    VALUES (${digest(token)}, ${account.kind === 'admin' ? account.id : null}, ${account.kind === 'staff' ? account.id : null},
            now() + make_interval(mins => ${ttlMinutes}))`
  // Older links of the account stop working: only the newest one in the inbox is good.
  await tx`
    UPDATE password_reset_tokens SET used_at = now()
    WHERE ${account.kind === 'admin' ? tx`admin_id` : tx`staff_id`} = ${account.id} AND used_at IS NULL AND token_hash <> ${digest(token)}`
  return token
}

export type ResetTokenState =
  | { state: 'valid', account: Account, expiresIn: number }
  | { state: 'invalid' | 'used' | 'expired' }

interface ResetRow {
  id: string
  admin_id: number | null
  staff_id: number | null
  used: boolean
  expires_in: number
}

async function resetRow (sql: Sql | TransactionSql, token: string, lock: boolean): Promise<ResetRow | null> {
  if (!RESET_TOKEN.test(token)) return null
  const [row] = await sql<ResetRow[]>`
    SELECT id, admin_id, staff_id, used_at IS NOT NULL AS used, floor(extract(epoch FROM expires_at - now()))::int AS expires_in
    FROM password_reset_tokens WHERE token_hash = ${digest(token)} ${lock ? sql`FOR UPDATE` : sql``}`
  return row ?? null
}

function stateOf (row: ResetRow | null): ResetTokenState {
  if (row === null) return { state: 'invalid' }
  if (row.used) return { state: 'used' }
  if (row.expires_in <= 0) return { state: 'expired' }
  const account: Account = row.admin_id !== null ? { kind: 'admin', id: row.admin_id } : { kind: 'staff', id: row.staff_id as number }
  return { state: 'valid', account, expiresIn: row.expires_in }
}

export async function resetTokenState (sql: Sql, token: string): Promise<ResetTokenState> {
  return stateOf(await resetRow(sql, token, false))
}

/** Takes the token (single use: two resets racing with one link, the second finds it used). */
export async function consumeResetToken (tx: TransactionSql, token: string): Promise<ResetTokenState> {
  const row = await resetRow(tx, token, true)
  const state = stateOf(row)
  if (state.state === 'valid' && row !== null) await tx`UPDATE password_reset_tokens SET used_at = now() WHERE id = ${row.id}`
  return state
}
