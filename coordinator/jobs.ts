import type { Sql } from '../src/db/pool.ts'
import { archivePastDays, type NightlyResult } from '../src/booking/archive.ts'
import { iraqToday, msUntilIraqMidnight } from '../src/domain/calendar.ts'
import { log, errorFields } from '../src/log.ts'
import { dropOrphanImages, markExpiredAds } from '../src/ads/store.ts'
import { recomputeEstimates, type EstimateRun } from '../src/queue/estimates.ts'

// Scheduled jobs run in the coordinator: one per instance, and across instances the job's advisory lock and its
// job_runs row make each night's run happen once.

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
  await sql`DELETE FROM revoked_families WHERE expires_at < now()`
  await sql`DELETE FROM password_reset_tokens WHERE expires_at < now() - interval '1 day'`
  await sql`
    UPDATE job_runs SET finished_at = now(), detail = ${sql.json({ clinics: result.clinics, days: result.days })}
    WHERE job = 'nightly-archive' AND run_key = ${runKey}`
  return result
}

// The nightly run at every 00:00 in Baghdad, and once at start: a server that was down at midnight (a deploy, a
// crash) archives the days it missed as soon as it is back, instead of leaving yesterday's queue live for another day.
// At start the run also takes up days a finished run left behind (a clinic whose transaction failed): each day is
// archived once whoever runs first, since a run only takes live days, under the clinic's lock.
export async function catchUp (sql: Sql, now: Date = new Date()): Promise<NightlyResult> {
  return await nightly(sql, now) ?? await archivePastDays(sql, now)
}

export function scheduleNightly (sql: Sql, onDone: (result: NightlyResult) => void): () => void {
  let timer: NodeJS.Timeout
  let stopped = false
  const report = (what: string) => (result: NightlyResult | null): void => {
    if (result === null) return
    if (what === 'nightly archive done' || result.days > 0) log.info(what, { clinics: result.clinics, days: result.days })
    onDone(result)
  }
  const arm = (): void => {
    if (stopped) return
    timer = setTimeout(() => {
      nightly(sql).then(report('nightly archive done'), (error: unknown) => log.error('nightly archive failed', errorFields(error))).finally(arm)
    }, msUntilIraqMidnight() + 1000)
    timer.unref()
  }
  catchUp(sql).then(report('nightly archive caught up'), (error: unknown) => log.error('nightly archive catch-up failed', errorFields(error))).finally(arm)
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

// Ad expiry (legacy-api.md §2.12): legacy deleted expired ads from every worker, hourly, all at once. Here one run a
// minute for the whole cluster (its job_runs row per minute decides which coordinator runs it when several instances
// share the database) marks them expired; the caller then drops the cached listings.

export interface AdExpiryResult {
  runKey: string
  expired: number
  imagesDropped: number
}

export async function expireAdsOnce (sql: Sql, now: Date = new Date()): Promise<AdExpiryResult | null> {
  const runKey = now.toISOString().slice(0, 16) // the minute, UTC
  const [claimed] = await sql`
    INSERT INTO job_runs (job, run_key) VALUES ('ad-expiry', ${runKey}) ON CONFLICT (job, run_key) DO NOTHING RETURNING 1`
  if (claimed === undefined) return null // another coordinator ran this minute
  const expired = await markExpiredAds(sql)
  let imagesDropped = 0
  try {
    imagesDropped = await dropOrphanImages(sql)
  } catch (error) {
    // An image referenced again between the check and the delete: the foreign key kept it; next minute decides.
    log.warn('ad image cleanup skipped', errorFields(error))
  }
  await sql`
    UPDATE job_runs SET finished_at = now(), detail = ${sql.json({ expired, images_dropped: imagesDropped })}
    WHERE job = 'ad-expiry' AND run_key = ${runKey}`
  await sql`DELETE FROM job_runs WHERE job = 'ad-expiry' AND started_at < now() - interval '1 day'`
  return { runKey, expired, imagesDropped }
}

// Once at start, then at the start of every minute.
export function scheduleAdExpiry (sql: Sql, onDone: (result: AdExpiryResult) => void): () => void {
  let timer: NodeJS.Timeout
  let stopped = false
  const run = (): void => {
    expireAdsOnce(sql).then((result) => {
      if (result === null) return
      // A quiet minute is not worth a line at info (1,440 a day).
      const quiet = result.expired === 0 && result.imagesDropped === 0
      log[quiet ? 'debug' : 'info']('ad expiry run', { runKey: result.runKey, expired: result.expired, imagesDropped: result.imagesDropped })
      onDone(result)
    }, (error: unknown) => log.error('ad expiry failed', errorFields(error))).finally(() => {
      if (stopped) return
      timer = setTimeout(run, 60_000 - (Date.now() % 60_000) + 100)
      timer.unref()
    })
  }
  run()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

// Service-time estimates (src/queue/estimates.ts): every ESTIMATE_EVERY_MS, once per cluster (a job_runs row per
// slot), and once at start. Off every request path: a place's expected time is read from their result.
export const ESTIMATE_EVERY_MS = 5 * 60_000

export async function estimateOnce (sql: Sql, now: Date = new Date()): Promise<EstimateRun | null> {
  const slot = new Date(now.getTime() - (now.getTime() % ESTIMATE_EVERY_MS)).toISOString().slice(0, 16)
  const [claimed] = await sql`
    INSERT INTO job_runs (job, run_key) VALUES ('service-estimates', ${slot}) ON CONFLICT (job, run_key) DO NOTHING RETURNING 1`
  if (claimed === undefined) return null // another coordinator ran this slot
  const result = await recomputeEstimates(sql, now)
  await sql`
    UPDATE job_runs SET finished_at = now(), detail = ${sql.json({ clinics: result.clinics, figures: result.figures, moved: result.changes.length })}
    WHERE job = 'service-estimates' AND run_key = ${slot}`
  await sql`DELETE FROM job_runs WHERE job = 'service-estimates' AND started_at < now() - interval '1 day'`
  return result
}

export function scheduleEstimates (sql: Sql, onDone: (result: EstimateRun) => void): () => void {
  let timer: NodeJS.Timeout
  let stopped = false
  const run = (): void => {
    estimateOnce(sql).then((result) => {
      if (result === null) return
      log.debug('service estimates run', { clinics: result.clinics, figures: result.figures, moved: result.changes.length })
      onDone(result)
    }, (error: unknown) => log.error('service estimates failed', errorFields(error))).finally(() => {
      if (stopped) return
      timer = setTimeout(run, ESTIMATE_EVERY_MS - (Date.now() % ESTIMATE_EVERY_MS) + 200)
      timer.unref()
    })
  }
  run()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
