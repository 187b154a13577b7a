import { z } from 'zod'
import { patientErrors } from '../../../src/errors.ts'
import { INT32_MAX, accountRef, parseAccountId } from '../../../src/domain/identifiers.ts'
import { deletePatientAccount } from '../../../src/accounts/store.ts'
import {
  allProfiles, profileOfAccount, profileSummaries, saveProfile, setPatientActive, type ProfileRow, type ProfileSummary
} from '../../../src/patients/store.ts'
import { ADMINS_ONLY, PATIENTS } from '../../../src/auth/actors.ts'
import { patientKey, recordDeletion } from '../../../src/auth/standing.ts'
import { publishStanding } from '../../standing.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, field, type DocumentedRoute } from '../define.ts'

// Patient profiles (legacy-api.md §2.9) and the patient half of account status (§2.10). Patients are named by
// their account as `P-<id>` (or `<id>`).

function profileReply (row: ProfileRow): Record<string, unknown> {
  return {
    id: row.id,
    user_server_id: accountRef(row.account_id),
    patient_name: row.patient_name,
    phone_number: row.phone_number,
    gender: row.gender,
    date_of_birth: row.date_of_birth,
    is_active: row.is_active,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString()
  }
}

// `P-71`, `71` or `٧١` → 71; a malformed reference is the route's own 400, an id past int4 (no account can have it)
// a plain 404 without a query, where the query would fail as out of range.
function accountIdOf (raw: string, malformed: () => Error, missing: () => Error): number {
  const id = parseAccountId(raw)
  if (id === null) throw malformed()
  if (id > INT32_MAX) throw missing()
  return id
}

const optionalText = z.string().max(100).nullish()

const profileBody = z.object({
  user_server_id: z.string().max(32),
  patient_name: field.text(200),
  phone_number: z.string().trim().min(1).max(64), // stored as sent: the profile phone may differ from the login phone
  gender: optionalText,
  date_of_birth: optionalText // kept in whatever format the app sends (e.g. DD/MM/YYYY)
})

const statusBody = z.object({
  patient_id: z.string().max(32),
  is_active: field.bool('is_active')
})

// The documented answers (OpenAPI only).
const profile = z.object({
  id: z.number().int(),
  user_server_id: z.string().describe('P-<id>'),
  patient_name: z.string(),
  phone_number: z.string(),
  gender: z.string().nullable(),
  date_of_birth: z.string().nullable(),
  is_active: z.boolean(),
  created_at: z.string(),
  updated_at: z.string()
})
const summary = z.object({ id: z.number().int(), name: z.string(), phone: z.string(), created_at: z.string() })
const countsReply = z.object({
  total: z.number().int(), active: z.number().int(), inactive: z.number().int(), active_list: z.array(summary), inactive_list: z.array(summary)
})
const deletedReply = z.object({ message: z.literal('تم حذف المريض نهائياً'), deleted_patient_id: z.string() })
const statusReply = z.object({ patient_id: z.string().describe('P-<id>'), is_active: z.boolean() })

export function profileRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/patient/profile',
      summary: "Create or replace a patient's profile",
      auth: 'secret',
      mirror: true,
      body: profileBody,
      scope: { patientId: ({ body }) => body.user_server_id },
      example: { user_server_id: 'P-71', patient_name: 'زينب علي حسين', phone_number: '+9647701234567', gender: 'أنثى', date_of_birth: '14/03/1992' },
      responses: { 200: profile },
      errors: [patientErrors.serverIdPrefix, patientErrors.serverIdFormat, patientErrors.accountNotFound],
      handler: async ({ body }) => {
        if (!/^\s*P-/i.test(body.user_server_id)) throw patientErrors.serverIdPrefix()
        const accountId = accountIdOf(body.user_server_id, patientErrors.serverIdFormat, patientErrors.accountNotFound)
        const row = await ctx.db.run((sql) => saveProfile(sql, accountId, {
          patientName: body.patient_name,
          phoneNumber: body.phone_number,
          gender: body.gender ?? null,
          dateOfBirth: body.date_of_birth ?? null
        }))
        if (row === null) throw patientErrors.accountNotFound()
        return json(200, profileReply(row))
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/patient/profile/:user_server_id',
      summary: "A patient's profile by P-<id> or <id>",
      auth: 'secret',
      mirror: true,
      scope: { patientId: ({ params }) => params[0] },
      responses: { 200: profile },
      errors: [patientErrors.serverIdEither, patientErrors.accountNotFound, patientErrors.profileNotFound],
      handler: async ({ params }) => {
        const accountId = accountIdOf(params[0] ?? '', patientErrors.serverIdEither, patientErrors.accountNotFound)
        return json(200, profileReply(await ctx.db.run((sql) => profileOfAccount(sql, accountId))))
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/patients/all',
      summary: 'Every patient profile',
      auth: 'secret',
      mirror: true,
      scope: { actors: ADMINS_ONLY },
      responses: { 200: z.array(profile) },
      errors: [],
      handler: async () => json(200, (await ctx.db.run(allProfiles)).map(profileReply))
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/patients/stats/count',
      summary: 'Patient counts by status, with the patients of each',
      auth: 'secret',
      mirror: true,
      scope: { actors: ADMINS_ONLY },
      responses: { 200: countsReply },
      errors: [],
      handler: async () => {
        const rows = await ctx.db.run(profileSummaries)
        const entry = (row: ProfileSummary): Record<string, unknown> =>
          ({ id: row.id, name: row.patient_name, phone: row.phone_number, created_at: row.created_at.toISOString() })
        const active = rows.filter((row) => row.is_active).map(entry)
        const inactive = rows.filter((row) => !row.is_active).map(entry)
        return json(200, { total: rows.length, active: active.length, inactive: inactive.length, active_list: active, inactive_list: inactive })
      }
    }),

    defineRoute(ctx, {
      method: 'del',
      pattern: '/api/patient/:patient_id',
      summary: 'Delete a patient account and its profile for good',
      auth: 'secret',
      mirror: true,
      // The patient's own account deletion; a secretary works for one clinic and owns no patient account.
      scope: { actors: PATIENTS, patientId: ({ params }) => params[0] },
      responses: { 200: deletedReply },
      errors: [patientErrors.patientIdFormat, patientErrors.patientNotFound, patientErrors.notAPatient],
      handler: async ({ params }) => {
        const accountId = accountIdOf(params[0] ?? '', patientErrors.patientIdFormat, patientErrors.patientNotFound)
        // A non-patient account is refused, not deleted. The tokens of a deleted one end with it.
        const outcome = await ctx.db.transaction(async (tx) => {
          const result = await deletePatientAccount(tx, accountId)
          if (result.deleted) await recordDeletion(tx, patientKey(accountId))
          return result
        })
        if (!outcome.deleted) throw outcome.role === null ? patientErrors.patientNotFound() : patientErrors.notAPatient(outcome.role)
        await publishStanding(ctx.db, ctx.coordinator, patientKey(accountId))
        return json(200, { message: 'تم حذف المريض نهائياً', deleted_patient_id: accountRef(accountId) })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/patient/status',
      summary: 'Activate or deactivate a patient',
      auth: 'secret',
      body: statusBody,
      scope: { patientId: ({ body }) => body.patient_id },
      example: { patient_id: 'P-71', is_active: false },
      responses: { 200: statusReply },
      errors: [patientErrors.patientIdFormat, patientErrors.accountNotFound],
      handler: async ({ body }) => {
        const accountId = accountIdOf(body.patient_id, patientErrors.patientIdFormat, patientErrors.accountNotFound)
        const active = await ctx.db.run((sql) => setPatientActive(sql, accountId, body.is_active))
        // A deactivated patient's tokens stop on every worker before this answer goes out (strict mode).
        await publishStanding(ctx.db, ctx.coordinator, patientKey(accountId))
        return json(200, { patient_id: accountRef(accountId), is_active: active })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/patient/:patient_id/status',
      summary: 'Whether a patient is active',
      auth: 'secret',
      scope: { patientId: ({ params }) => params[0] },
      responses: { 200: statusReply },
      errors: [patientErrors.patientIdFormat, patientErrors.accountNotFound, patientErrors.profileNotFound],
      handler: async ({ params }) => {
        const accountId = accountIdOf(params[0] ?? '', patientErrors.patientIdFormat, patientErrors.accountNotFound)
        const row = await ctx.db.run((sql) => profileOfAccount(sql, accountId))
        return json(200, { patient_id: accountRef(accountId), is_active: row.is_active })
      }
    })
  ]
}
