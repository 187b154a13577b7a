import type { Fragment, Queryable, TransactionSql } from '../db/pool.ts'
import type { Lane } from './days.ts'

// The LISTEN/NOTIFY channel of committed changes (coordinator/changes.ts listens).
export const CHANGES_CHANNEL = 'tabeby_changes'

// A lane's new version, taken as the last statement of a write transaction (after every day row it locks, so the
// lock order day rows → version row is the same everywhere and cannot deadlock). The row stays locked until the
// commit, so two writes of one lane commit in the order of their versions: a reader that sees version v sees every
// change up to v and none after it.
//
// The same statement queues a NOTIFY, delivered by PostgreSQL when (and only if) the transaction commits: every
// instance's coordinator hears of the change even when the worker cannot reach its own coordinator afterwards.
export async function bumpLane (tx: TransactionSql, clinicId: number, lane: Lane): Promise<number> {
  const [row] = await tx<Array<{ version: string }>>`
    WITH bumped AS (${laneBump(tx, clinicId, lane)})
    SELECT version::text, ${laneNotice(tx, clinicId, lane)} FROM bumped`
  return Number(row?.version ?? 0)
}

// The bump as the body of a WITH clause named `bumped`, for a statement that writes and bumps at once (a booking's
// INSERT, src/booking/book.ts): one round trip fewer. Such a statement must lock no day row it does not already hold,
// so the lock order above still stands. `when`: a condition (on the statement's earlier clauses) without which
// nothing is bumped, for a statement that may write nothing.
export function laneBump (sql: Queryable, clinicId: number, lane: Lane, when?: Fragment) {
  return sql`
    INSERT INTO lane_versions (clinic_id, lane, version)
    SELECT ${clinicId}::int, ${lane}::booking_lane, nextval('booking_version_seq') ${when === undefined ? sql`` : sql`WHERE ${when}`}
    ON CONFLICT (clinic_id, lane) DO UPDATE SET version = nextval('booking_version_seq')
    RETURNING version`
}

// The NOTIFY of a bump, selected from `bumped`.
export function laneNotice (sql: Queryable, clinicId: number, lane: Lane) {
  return sql`pg_notify(${CHANGES_CHANNEL}, json_build_object('t', ${lane}::text, 'c', ${clinicId}::int, 'v', version)::text)`
}
