import type { Sql } from '../src/db/pool.ts'
import type { Change } from '../src/ipc/messages.ts'
import type { PushSettings } from '../src/push/settings.ts'
import { FcmClient } from '../src/push/fcm.ts'
import { claimDue, enqueueOwed, markFailed, markSent, messageOf, nextDueInMs } from '../src/push/store.ts'
import { log, errorFields } from '../src/log.ts'

// Push notifications when a patient's turn is near (issue 15.5), sent by the coordinator: never on a request's
// path, once per instance's change stream. Every lane change (this instance's or, through NOTIFY, another's) makes
// the clinic's lane due for a look: the notifications it now owes are written as rows (src/push/store.ts, once
// across every coordinator), and whatever is due is claimed and sent, retried with back-off until it goes through
// or is given up.

// Changes of one lane arriving together (a secretary clicking fast) are looked at once.
const SETTLE_MS = 100
// Retries come due on their own: after each round the next one is timed for the earliest pending delivery. With
// none pending, a slow sweep still finds what another instance's coordinator left owed when it went away (an idle
// coordinator asked the database every second before). After a failed round (the database away), a short wait.
const IDLE_SWEEP_MS = 30_000
const RETRY_ROUND_MS = 1000
const BATCH = 50

export interface PushService {
  onChange: (change: Change) => void
  stats: () => { enabled: boolean, sent: number, failed: number, tokens: number }
  close: () => void
}

export function startPush (sql: Sql, settings: PushSettings): PushService {
  if (settings.account === null) {
    return { onChange: () => {}, stats: () => ({ enabled: false, sent: 0, failed: 0, tokens: 0 }), close: () => {} }
  }
  const fcm = new FcmClient(settings.account, settings.endpoint)
  const dueLanes = new Map<string, Pick<Change, 'topic' | 'clinicId'>>()
  let settleTimer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let again = false
  let closed = false

  async function deliver (): Promise<void> {
    for (;;) {
      const due = await claimDue(sql, BATCH)
      if (due.length === 0) return
      await Promise.all(due.map(async (delivery) => {
        const result = await fcm.send(messageOf(delivery))
        if (result.ok) await markSent(sql, delivery.id)
        else {
          log.warn('push notification failed', { id: delivery.id, attempt: delivery.attempts, retry: result.retry, error: result.error })
          await markFailed(sql, delivery, result.error, result.retry)
        }
      }))
    }
  }

  async function round (): Promise<void> {
    const lanes = [...dueLanes.values()]
    dueLanes.clear()
    for (const lane of lanes) {
      if (lane.topic === 'regular' || lane.topic === 'golden') await enqueueOwed(sql, lane.clinicId, lane.topic)
    }
    await deliver()
    const wait = await nextDueInMs(sql)
    schedule(wait === null ? IDLE_SWEEP_MS : Math.min(IDLE_SWEEP_MS, Math.max(SETTLE_MS, wait)))
  }

  let sweep: NodeJS.Timeout | null = null
  function schedule (ms: number): void {
    if (closed) return
    if (sweep !== null) clearTimeout(sweep)
    sweep = setTimeout(run, ms)
    sweep.unref()
  }

  // One round at a time; a change during a round asks for another one after it.
  function run (): void {
    if (closed) return
    if (running !== null) {
      again = true
      return
    }
    running = round().catch((error: unknown) => {
      log.error('push round failed', errorFields(error))
      schedule(RETRY_ROUND_MS)
    }).finally(() => {
      running = null
      if (again) {
        again = false
        run()
      }
    })
  }

  schedule(RETRY_ROUND_MS) // whatever was owed before this coordinator started

  return {
    onChange: (change) => {
      if (change.topic !== 'regular' && change.topic !== 'golden') return
      dueLanes.set(`${change.topic}:${change.clinicId}`, { topic: change.topic, clinicId: change.clinicId })
      settleTimer ??= setTimeout(() => {
        settleTimer = null
        run()
      }, SETTLE_MS)
    },
    stats: () => ({ enabled: true, ...fcm.counters }),
    close: () => {
      closed = true
      if (sweep !== null) clearTimeout(sweep)
      if (settleTimer !== null) clearTimeout(settleTimer)
    }
  }
}
