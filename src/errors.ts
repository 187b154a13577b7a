import { accountErrors } from './errors/account.ts'
import { adErrors } from './errors/ads.ts'
import { authErrors } from './errors/auth.ts'
import { bookingErrors } from './errors/booking.ts'
import { departmentErrors } from './errors/departments.ts'
import { doctorErrors } from './errors/doctors.ts'
import { patientErrors } from './errors/patients.ts'
import { paymentErrors } from './errors/payments.ts'
import { platformErrors } from './errors/platform.ts'
import { queueErrors } from './errors/queue.ts'
import { secretaryErrors } from './errors/secretaries.ts'
import { staffErrors } from './errors/staff.ts'
import { errors } from './errors/server.ts'
import type { ErrorEntry } from './errors/entry.ts'

// The catalogue of every error a client can see, and the one place to import them from. Each entry has a unique
// code (one meaning), its status, its English message and the Arabic the apps are shown where legacy sent Arabic,
// and builds its body in the legacy wire shape it declares (src/errors/entry.ts). A new area's errors go in
// src/errors/<area>.ts, declared with the constructors there, and are added below; test/errors-catalogue.test.ts
// then checks them with the rest.

export { ApiError, type ErrorEntry, type Issue, type Shape } from './errors/entry.ts'
export {
  accountErrors, adErrors, authErrors, bookingErrors, departmentErrors, doctorErrors, errors, patientErrors, paymentErrors, platformErrors,
  queueErrors, secretaryErrors, staffErrors
}

export const catalogue: Record<string, Record<string, ErrorEntry>> = {
  server: errors,
  auth: authErrors,
  booking: bookingErrors,
  doctors: doctorErrors,
  patients: patientErrors,
  secretaries: secretaryErrors,
  payments: paymentErrors,
  platform: platformErrors,
  staff: staffErrors,
  departments: departmentErrors,
  account: accountErrors,
  ads: adErrors,
  queue: queueErrors
}

// Which failures of the driver the HTTP layer answers with the catalogue's 503s (workers/http.ts errorReply).

// Errors from the driver that mean "the database cannot be reached" rather than "this query is wrong".
const unreachableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  '57P01', '57P02', '57P03', '53300' // admin shutdown, crash shutdown, cannot connect now, too many connections
])

// A statement cancelled by statement_timeout (57014), or a transaction aborted by a deadlock (40P01) or a
// serialization failure (40001): nothing was changed, and the same request can succeed shortly.
const retryableCodes = new Set(['57014', '40P01', '40001'])
export function isRetryableFailure (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && retryableCodes.has(code)
}

export function isDatabaseUnreachable (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && unreachableCodes.has(code)
}
