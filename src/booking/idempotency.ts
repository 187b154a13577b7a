import { createHash } from 'node:crypto'
import type { TransactionSql } from '../db/pool.ts'
import { bookingErrors } from '../errors.ts'

// Idempotency-Key on the POST booking routes (contract.md §2.14). The key row is inserted in the same transaction
// as the booking: a retry that arrives while the first attempt is still running waits on that row, then replays
// the committed answer; if the first attempt failed and rolled back, the retry simply runs. No window books twice.

export interface Answer {
  status: number
  body: unknown
  version: number | null
}

export interface Replayable extends Answer {
  replayed: boolean
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

export function checkKey (key: string | undefined): string | null {
  if (key === undefined || key === '') return null
  if (!KEY_PATTERN.test(key)) throw bookingErrors.idempotencyKeyInvalid()
  return key
}

export async function idempotent (tx: TransactionSql, route: string, key: string | null, request: Buffer, run: () => Promise<Answer>): Promise<Replayable> {
  if (key === null) return { ...await run(), replayed: false }
  const sha = createHash('sha256').update(request).digest('hex')
  const prior = await claim(tx, route, key, sha)
  if (prior !== null) return prior
  const answer = await run()
  await tx`UPDATE idempotency_keys SET status = ${answer.status}, body = ${JSON.stringify(answer.body)} WHERE route = ${route} AND key = ${key}`
  return { ...answer, replayed: false }
}

// A request the worker can refuse from memory (a day known full), but whose key may be owed an earlier answer: the
// key is claimed as the database path would claim it (waiting for an attempt still running), a prior answer is
// replayed, and otherwise the refusal is thrown, which rolls the claim back: a refusal is never stored, on either path.
export async function replayOrRefuse (tx: TransactionSql, route: string, key: string, request: Buffer, refusal: Error): Promise<Replayable> {
  const prior = await claim(tx, route, key, createHash('sha256').update(request).digest('hex'))
  if (prior === null) throw refusal
  return prior
}

// Claims the key for this attempt (null), or answers with what its first attempt answered.
async function claim (tx: TransactionSql, route: string, key: string, sha: string): Promise<Replayable | null> {
  const claimed = await tx`
    INSERT INTO idempotency_keys (key, route, request_sha, status, body)
    VALUES (${key}, ${route}, ${sha}, 0, '')
    ON CONFLICT (route, key) DO NOTHING
    RETURNING 1`
  if (claimed.length > 0) return null
  const [prior] = await tx<Array<{ request_sha: string, status: number, body: string }>>`
    SELECT request_sha, status, body FROM idempotency_keys WHERE route = ${route} AND key = ${key}`
  if (prior === undefined) throw bookingErrors.idempotencyInProgress()
  if (prior.request_sha !== sha) throw bookingErrors.idempotencyKeyReused()
  return { status: prior.status, body: JSON.parse(prior.body) as unknown, version: null, replayed: true }
}
