// The piscina worker thread's entry: every CPU-heavy task a worker may hand off, by kind. Each kind's code lives in
// its own module; this file only dispatches, so adding a task is one import and one case.
import { hashPasswordSync, verifyPasswordSync } from '../../src/auth/password.ts'
import { parseLedger } from '../../src/payments/ledger.ts'
import { allClinicsReport } from '../../src/payments/report.ts'
import type { Task, TaskResult } from './pool.ts'

export default function run (task: Task): TaskResult {
  switch (task.kind) {
    // The synchronous scrypt on purpose: this thread exists to be blocked, and piscina's thread count then bounds
    // how many hashes run at once (the async form would queue them on libuv's pool, shared with DNS and files).
    case 'hashPassword':
      return { kind: 'hashPassword', encoded: hashPasswordSync(task.password) }
    case 'verifyPassword':
      return { kind: 'verifyPassword', ok: verifyPasswordSync(task.password, task.encoded) }
    case 'paymentsReport':
      return { kind: 'paymentsReport', report: allClinicsReport(parseLedger(task.ledger), new Map(task.clinicNames)) }
  }
}
