import type { Sql, TransactionSql } from '../db/pool.ts'
import type { RevokedFamily } from './revocations.ts'
import { endSessions, type Account } from './sessions.ts'

// Passwords of dashboard accounts, admins' and staff's alike. Hashes are made and checked on the piscina pool by the
// routes; these only read and write them. Every change of a password ends the account's sessions: a stolen session
// must not outlive the password that was changed because of it.

const table = (account: Account): 'admins' | 'staff' => account.kind === 'admin' ? 'admins' : 'staff'

export async function passwordHashOf (sql: Sql, account: Account): Promise<string | null> {
  const [row] = await sql<Array<{ password_hash: string | null }>>`SELECT password_hash FROM ${sql(table(account))} WHERE id = ${account.id}`
  return row?.password_hash ?? null
}

/**
 * Replaces the password whose hash was just verified, and ends every other session of the account: the one that
 * proved the password goes on. Compare-and-set on that hash: of two changes racing, only the first applies, and the
 * second gets null (its current password is no longer current).
 */
export async function replacePassword (tx: TransactionSql, account: Account, verifiedHash: string, newHash: string, currentFamily: string): Promise<RevokedFamily[] | null> {
  const updated = await tx`
    UPDATE ${tx(table(account))} SET password_hash = ${newHash} WHERE id = ${account.id} AND password_hash = ${verifiedHash} RETURNING id`
  if (updated.length === 0) return null
  return await endSessions(tx, account, currentFamily)
}

/** Sets a password without knowing the old one (a reset, an admin setting a staff member's); null: no such account. */
export async function setPassword (tx: TransactionSql, account: Account, newHash: string): Promise<RevokedFamily[] | null> {
  const updated = await tx`UPDATE ${tx(table(account))} SET password_hash = ${newHash} WHERE id = ${account.id} RETURNING id`
  if (updated.length === 0) return null
  return await endSessions(tx, account)
}
