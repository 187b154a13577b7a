import { ApiError, doctorErrors, errors } from '../../../src/errors.ts'
import { INT32_MAX, parsePositiveInt } from '../../../src/domain/identifiers.ts'
import { isRecord } from '../../../src/domain/json.ts'
import { hasUnstorableText, profileForReading, type Profile } from '../../../src/clinics/profile.ts'
import { findClinic, type ClinicRow } from '../../../src/clinics/store.ts'
import type { Handler, Request } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { publishStanding } from '../../standing.ts'
import { doctorKey } from '../../../src/auth/standing.ts'
import { parseJsonBody, type DocumentedRoute } from '../define.ts'

// What every doctors route shares: the router's own error shape, path ids, the profile as it is read back, and the
// announcement of a change.

// The doctors router and the main.py extras answered bad input in their own {"error": {code, message}} shape: a
// body the handler could not use was a 400 `bad_request`; a query or path value of the wrong type keeps the 422
// FastAPI gave it.
export function customShape (route: DocumentedRoute): DocumentedRoute {
  const inner: Handler = route.handler
  const handler: Handler = async (request) => {
    try {
      return await inner(request)
    } catch (error) {
      // The body parser's refusal of an unpaired surrogate, in this router's shape.
      if (error instanceof ApiError && error.code === errors.loneSurrogate.code) throw doctorErrors.unstorableText()
      if (!(error instanceof ApiError) || error.code !== errors.validation.code) throw error
      const issue = (error.body as { detail?: Array<{ loc?: unknown[] }> }).detail?.[0]
      const path = (issue?.loc ?? []).slice(1).join('.')
      const message = path === '' || error.message.includes(path) ? error.message : `${path}: ${error.message}`
      throw issue?.loc?.[0] === 'body' ? doctorErrors.bodyInvalid(message) : doctorErrors.paramInvalid(message)
    }
  }
  // Path ids are checked in every handler here (pathId), so any of them can answer the 422.
  return { ...route, handler, errors: [...route.errors ?? [], doctorErrors.paramInvalid], invalid: [doctorErrors.bodyInvalid, doctorErrors.paramInvalid, doctorErrors.unstorableText] }
}

// defineRoute reads an empty or `null` body as {}; the dashboard's writes refused both ("Invalid JSON body"), and a
// doctor must not be created from nothing by accident.
export function requireObjectBody (request: Request): void {
  if (!isRecord(parseJsonBody(request.body))) throw doctorErrors.bodyNotObject()
}

export function pathId (value: string | undefined, name: string, parse: (v: unknown) => number | null = parsePositiveInt): number {
  const id = parse(value)
  if (id === null || id > INT32_MAX) {
    throw errors.validation([{ loc: ['path', name], msg: `${name} must be a positive integer`, type: 'int_parsing' }])
  }
  return id
}

export async function readClinic (ctx: WorkerContext, id: number): Promise<ClinicRow> {
  const row = await ctx.db.run((sql) => findClinic(sql, id))
  if (row === null) throw doctorErrors.notFound()
  return row
}

export function withAccountBlock (row: ClinicRow, normalized: boolean): Profile {
  return profileForReading(row.profile, { email: row.email, phone: row.phone, status: row.status }, normalized)
}

// Every committed change to a clinic row is announced after the commit, and the answer waits for it: once it
// resolves, no cached copy of the old row is served anywhere, and a doctor deactivated (or deleted) by it has its
// tokens refused on every worker (strict mode).
export async function announce (ctx: WorkerContext, clinicId: number): Promise<void> {
  await Promise.all([
    ctx.publishChange({ topic: 'clinic', clinicId, version: Date.now() }),
    publishStanding(ctx.db, ctx.coordinator, doctorKey(clinicId))
  ])
}

export const unstorableMessage = doctorErrors.unstorableText.text()
export const storable = (value: unknown): boolean => !hasUnstorableText(value)
