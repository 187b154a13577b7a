import type { Sql } from '../src/db/pool.ts'
import { archivePastDays, type NightlyResult } from '../src/booking/archive.ts'
import { iraqToday } from '../src/domain/calendar.ts'
import { log, errorFields } from '../src/log.ts'

// Scheduled jobs run in the coordinator: one per instance, and across instances the job's advisory lock and its
// job_runs row make each night's run happen once.

// 00:00 in Baghdad (UTC+3, no DST) is 21:00 UTC.
export function msUntilIraqMidnight (now: Date = new Date()): number {
  const next = new Date(now)
  next.setUTCHours(21, 0, 0, 0)
  if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1)
  return next.getTime() - now.getTime()
}

export async function nightly (sql: Sql, now: Date = new Date()): Promise<NightlyResult | null> {
  const runKey = iraqToday(now)
  const [claimed] = await sql`
    INSERT INTO job_runs (job, run_key) VALUES ('nightly-archive', ${runKey})
    ON CONFLICT (job, run_key) DO UPDATE SET started_at = now() WHERE job_runs.finished_at IS NULL
    RETURNING 1`
  if (claimed === undefined) return null // this night already ran to the end
  const result = await archivePastDays(sql, now)
  // Idempotency keys only need to outlive a phone's retries.
  await sql`DELETE FROM idempotency_keys WHERE created_at < now() - interval '1 day'`
  await sql`DELETE FROM revoked_access_tokens WHERE expires_at < now()`
  await sql`
    UPDATE job_runs SET finished_at = now(), detail = ${sql.json({ clinics: result.clinics, days: result.days })}
    WHERE job = 'nightly-archive' AND run_key = ${runKey}`
  return result
}

export function scheduleNightly (sql: Sql, onDone: (result: NightlyResult) => void): () => void {
  let timer: NodeJS.Timeout
  const arm = (): void => {
    timer = setTimeout(() => {
      nightly(sql).then((result) => {
        if (result !== null) {
          log.info('nightly archive done', { clinics: result.clinics, days: result.days })
          onDone(result)
        }
      }, (error: unknown) => log.error('nightly archive failed', errorFields(error))).finally(arm)
    }, msUntilIraqMidnight() + 1000)
    timer.unref()
  }
  arm()
  return () => clearTimeout(timer)
}
