import { createHash } from 'node:crypto'
import type { Sql, TransactionSql } from '../db/pool.ts'
import type { Account } from '../auth/sessions.ts'

// The activity feed (legacy-api.md §1.1, §2.3): an audit trail of each dashboard account, written by the server on
// real events and by POST /activity. The table refuses UPDATE, DELETE and TRUNCATE (migration 003), so nothing here
// or anywhere else can edit an entry.

// The dashboard renders these types (legacy's ActivityType); our own, finer event name rides beside it as `event`.
export const ACTIVITY_TYPES = [
  'password_changed', 'login_new_device', 'profile_updated', 'security_modified', 'document_downloaded',
  'new_device_registered', 'failed_login_attempt', 'account_recovery_initiated', 'security_alert'
] as const
export type ActivityType = typeof ACTIVITY_TYPES[number]

export const ACTIVITY_STATUSES = ['success', 'warning', 'error', 'info'] as const
export type ActivityStatus = typeof ACTIVITY_STATUSES[number]

export interface ActivityEntry {
  event: string
  type: ActivityType
  status: ActivityStatus
  title: string
  description?: string | null
  at?: string | null // ISO-8601; now when absent
  detail?: Record<string, unknown>
}

// What the server itself records, by event. Titles are English, as the dashboard's own entries are.
export const EVENTS = {
  loginNewDevice: { event: 'login_new_device', type: 'login_new_device', status: 'info', title: 'Login from a new device' },
  loginFailed: { event: 'login_failed', type: 'failed_login_attempt', status: 'warning', title: 'Failed login attempt' },
  passwordChanged: { event: 'password_changed', type: 'password_changed', status: 'success', title: 'Password changed' },
  passwordReset: { event: 'password_reset', type: 'password_changed', status: 'success', title: 'Password reset by e-mail link' },
  passwordSet: { event: 'password_set', type: 'password_changed', status: 'info', title: 'Password set by an administrator' },
  resetRequested: { event: 'password_reset_requested', type: 'account_recovery_initiated', status: 'info', title: 'Password reset requested' },
  recoveryLogin: { event: 'recovery_code_used', type: 'account_recovery_initiated', status: 'warning', title: 'Signed in with a recovery code' },
  profileUpdated: { event: 'profile_updated', type: 'profile_updated', status: 'success', title: 'Profile updated' },
  sessionsRevoked: { event: 'sessions_revoked', type: 'security_modified', status: 'warning', title: 'All sessions ended' },
  sessionRevoked: { event: 'session_revoked', type: 'security_modified', status: 'info', title: 'A session ended' },
  loggedOut: { event: 'logged_out', type: 'security_modified', status: 'info', title: 'Logged out of every session' },
  recoveryCodesGenerated: { event: 'recovery_codes_generated', type: 'security_modified', status: 'success', title: 'Recovery codes generated' },
  refreshReused: { event: 'refresh_token_reused', type: 'security_alert', status: 'error', title: 'A used refresh token was presented again: the session was ended' },
  exported: { event: 'account_exported', type: 'document_downloaded', status: 'info', title: 'Account data exported' },
  staffCreated: { event: 'staff_created', type: 'security_modified', status: 'success', title: 'Staff member created' },
  staffDeleted: { event: 'staff_deleted', type: 'security_modified', status: 'warning', title: 'Staff member deleted' },
  adminUpdated: { event: 'admin_updated', type: 'security_modified', status: 'info', title: 'Admin account changed' },
  adminDeleted: { event: 'admin_deleted', type: 'security_modified', status: 'warning', title: 'Admin account deleted' },
  adminPromoted: { event: 'admin_promoted', type: 'security_modified', status: 'warning', title: 'Admin promoted to super-admin' }
} as const satisfies Record<string, Omit<ActivityEntry, 'description' | 'at' | 'detail'>>

export interface ActivityRow {
  id: string
  event: string
  type: ActivityType
  title: string
  description: string | null
  status: ActivityStatus
  at: Date
}

export async function recordActivity (sql: Sql | TransactionSql, account: Account, entry: ActivityEntry): Promise<ActivityRow> {
  const [row] = await sql<ActivityRow[]>`
    INSERT INTO activities (account_kind, account_id, event, type, title, description, status, at, detail)
    VALUES (${account.kind}, ${account.id}, ${entry.event}, ${entry.type}, ${entry.title}, ${entry.description ?? null},
            ${entry.status}, coalesce(${entry.at ?? null}::timestamptz, now()), ${sql.json((entry.detail ?? {}) as never)})
    RETURNING id, event, type, title, description, status, at`
  return row as ActivityRow
}

export interface ActivityQuery {
  page: number
  pageSize: number
  since: string | null
  types: string[] | null
  statuses: string[] | null
  order: 'asc' | 'desc'
}

export async function listActivity (sql: Sql, account: Account, query: ActivityQuery): Promise<{ rows: ActivityRow[], total: number }> {
  const where = sql`
    WHERE account_kind = ${account.kind} AND account_id = ${account.id}
    AND ${query.since === null ? sql`TRUE` : sql`at >= ${query.since}::timestamptz`}
    AND ${query.types === null ? sql`TRUE` : sql`type = ANY(${query.types})`}
    AND ${query.statuses === null ? sql`TRUE` : sql`status = ANY(${query.statuses})`}`
  const [count] = await sql<Array<{ total: number }>>`SELECT count(*)::int AS total FROM activities ${where}`
  const direction = sql.unsafe(query.order === 'asc' ? 'ASC' : 'DESC')
  const rows = await sql<ActivityRow[]>`
    SELECT id, event, type, title, description, status, at FROM activities ${where}
    ORDER BY at ${direction}, recorded_at ${direction}, id ${direction}
    LIMIT ${query.pageSize} OFFSET ${(query.page - 1) * query.pageSize}`
  return { rows, total: count?.total ?? 0 }
}

// A device is the browser it logs in from; only a digest of the User-Agent is kept.
export const deviceOf = (userAgent: string | undefined): string => createHash('sha256').update(userAgent ?? '').digest('hex').slice(0, 32)

/** True when the account had not logged in from this device before (its first login included). */
export async function rememberDevice (sql: Sql | TransactionSql, account: Account, device: string): Promise<boolean> {
  const [row] = await sql<Array<{ inserted: boolean }>>`
    INSERT INTO known_devices (account_kind, account_id, device) VALUES (${account.kind}, ${account.id}, ${device})
    ON CONFLICT (account_kind, account_id, device) DO UPDATE SET last_seen = now()
    RETURNING (xmax = 0) AS inserted`
  return row?.inserted === true
}
