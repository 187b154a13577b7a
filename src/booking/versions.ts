import type { TransactionSql } from '../db/pool.ts'
import type { Lane } from './days.ts'

// A lane's new version, taken as the last statement of a write transaction (after every day row it locks, so the
// lock order day rows → version row is the same everywhere and cannot deadlock). The row stays locked until the
// commit, so two writes of one lane commit in the order of their versions: a reader that sees version v sees every
// change up to v and none after it.
export async function bumpLane (tx: TransactionSql, clinicId: number, lane: Lane): Promise<number> {
  const [row] = await tx<Array<{ version: string }>>`
    INSERT INTO lane_versions (clinic_id, lane, version) VALUES (${clinicId}, ${lane}, nextval('booking_version_seq'))
    ON CONFLICT (clinic_id, lane) DO UPDATE SET version = nextval('booking_version_seq')
    RETURNING version::text`
  return Number(row?.version ?? 0)
}
