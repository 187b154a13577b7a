import { z } from 'zod'
import { errors, patientErrors } from '../../src/errors.ts'
import { INT32_MAX, accountRef, normalizePhone, parseAccountId } from '../../src/domain/identifiers.ts'
import type { Sql } from '../../src/db/pool.ts'
import { ADMINS_ONLY, PATIENTS, patientToken } from '../../src/auth/actors.ts'
import { json } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { defineRoute, field } from './define.ts'

// Phone accounts and patient profiles: `/auth/register` and `/auth/check-phone` (legacy-api.md §2.1), patients
// (§2.9) and the patient half of account status (§2.10). An account id is what the apps call user_server_id;
// patients see it as `P-<id>`. Registering a patient account answers a patient actor token too (contract.md §3).

type Role = 'patient' | 'secretary' | 'doctor'
const ROLES: readonly string[] = ['patient', 'secretary', 'doctor']
const isRole = (s: string): s is Role => ROLES.includes(s)

interface AccountRow {
  id: number
  user_uid: string | null
  user_role: Role
  phone_number: string
}

interface ProfileRow {
  id: number
  account_id: number
  patient_name: string
  phone_number: string
  gender: string | null
  date_of_birth: string | null
  is_active: boolean
  created_at: Date
  updated_at: Date
}

// An account LEFT JOIN its profile: every profile column is null when the account has none.
type MaybeProfile = { [K in keyof ProfileRow]: ProfileRow[K] | null }
const hasProfile = (row: MaybeProfile): row is ProfileRow => row.id !== null

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

/**
 * The account for a phone, created with `user_uid` and `role` when there is none. Race-safe without a lock: the
 * unique phone decides which of two simultaneous registrations inserts; the other inserts nothing and reads the
 * winner's row in a fresh statement (a later snapshot), so both answer the same id. It repeats only when the
 * account is deleted between those two statements; a phone that keeps flapping gets a 503 to retry.
 */
async function accountForPhone (sql: Sql, phone: string, userUid: string | null, role: Role): Promise<{ account: AccountRow, created: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const [inserted] = await sql<AccountRow[]>`
      INSERT INTO accounts (user_uid, user_role, phone_number) VALUES (${userUid}, ${role}, ${phone})
      ON CONFLICT (phone_number) DO NOTHING
      RETURNING id, user_uid, user_role, phone_number`
    if (inserted !== undefined) return { account: inserted, created: true }
    const [existing] = await sql<AccountRow[]>`
      SELECT id, user_uid, user_role, phone_number FROM accounts WHERE phone_number = ${phone}`
    if (existing !== undefined) return { account: existing, created: false }
  }
  throw errors.databaseBusy()
}

// `P-71`, `71` or `٧١` → 71; a malformed reference is the route's own 400, an id past int4 (no account can have it)
// a plain 404 without a query, where the query would fail as out of range.
function accountIdOf (raw: string, malformed: () => Error, missing: () => Error): number {
  const id = parseAccountId(raw)
  if (id === null) throw malformed()
  if (id > INT32_MAX) throw missing()
  return id
}

const registerBody = z.object({
  user_uid: z.string().max(128).nullish(),
  // Checked by the handler, which answers the legacy {"error": …} 400 rather than a validation list.
  user_role: z.string().max(32).optional(),
  phone_number: z.string().max(64).optional()
})

const checkPhoneQuery = z.object({ phone: z.string().max(64).optional() })

const patientRegisterBody = z.object({
  user_uid: z.string().max(128),
  user_role: z.string().max(32),
  phone_number: z.string().max(64)
})

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
  is_active: field.bool()
})

export function patientRoutes (ctx: WorkerContext): RouteDef[] {
  // Additive fields for a patient account's registration; other roles get none (a secretary's token comes from its
  // code login, and doctors have no actor token yet).
  const tokenFields = (account: AccountRow): Record<string, string> => account.user_role !== 'patient'
    ? {}
    : { access_token: patientToken(ctx.config.jwtSecret, account.id), token_type: 'bearer' }

  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/register',
      summary: 'Register a phone account (patient, secretary or doctor); an existing phone answers its account',
      auth: 'none', // legacy: open; the apps call it right after Firebase phone sign-in
      mirror: true,
      body: registerBody,
      handler: async ({ body }) => {
        const role = (body.user_role ?? '').trim()
        if (!isRole(role)) throw patientErrors.registerRole()
        const phone = normalizePhone(body.phone_number ?? '')
        if (phone === null) throw patientErrors.registerPhone()
        const userUid = (body.user_uid ?? '').trim() || null
        const { account, created } = await ctx.db.run((sql) => accountForPhone(sql, phone, userUid, role))
        return json(200, {
          message: created ? 'database created successfuly' : 'ok',
          user_server_id: account.id,
          user_role: account.user_role,
          ...tokenFields(account)
        })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/auth/check-phone',
      summary: 'Whether a phone already has an account, and its role',
      auth: 'secret',
      mirror: true,
      query: checkPhoneQuery,
      scope: { signIn: true }, // the app asks before it registers, so before it holds a token
      handler: async ({ query }) => {
        const raw = query.phone ?? ''
        if (raw.trim() === '') throw patientErrors.phoneMissing()
        // normalizePhone reads a leading space as the `+` that an unencoded query string turned into a space.
        const phone = normalizePhone(raw)
        if (phone === null) throw patientErrors.phoneFormat()
        const [account] = await ctx.db.run((sql) => sql<AccountRow[]>`
          SELECT id, user_uid, user_role, phone_number FROM accounts WHERE phone_number = ${phone}`)
        if (account === undefined) {
          return json(200, { exists: false, phone_number: phone, message: 'رقم الهاتف غير مسجل في النظام' })
        }
        return json(200, {
          exists: true,
          phone_number: account.phone_number,
          user_role: account.user_role,
          user_server_id: account.id,
          user_uid: account.user_uid,
          message: `رقم الهاتف موجود مسبقاً كـ ${account.user_role}`
        })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/patient/register',
      summary: 'Register a patient account by phone; an existing phone answers its P-<id>',
      auth: 'secret',
      mirror: true,
      body: patientRegisterBody,
      scope: { signIn: true },
      handler: async ({ body }) => {
        if (body.user_role.trim().toLowerCase() !== 'patient') throw patientErrors.notPatientRole()
        // Legacy stored any string here; we require E.164 so this route and /auth/register agree on one account.
        const phone = normalizePhone(body.phone_number)
        if (phone === null) throw patientErrors.patientPhone()
        const { account, created } = await ctx.db.run((sql) => accountForPhone(sql, phone, body.user_uid, 'patient'))
        return json(200, {
          message: 'ok',
          user_server_id: accountRef(account.id),
          // Legacy echoed the role as sent for an existing phone, even when the account is a doctor's.
          user_role: created ? 'patient' : body.user_role,
          ...tokenFields(account)
        })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/patient/profile',
      summary: "Create or replace a patient's profile",
      auth: 'secret',
      mirror: true,
      body: profileBody,
      scope: { patientId: ({ body }) => body.user_server_id },
      handler: async ({ body }) => {
        if (!/^\s*P-/i.test(body.user_server_id)) throw patientErrors.serverIdPrefix()
        const accountId = accountIdOf(body.user_server_id, patientErrors.serverIdFormat, patientErrors.accountNotFound)
        const gender = body.gender ?? null
        const dateOfBirth = body.date_of_birth ?? null
        // One statement: no row when the account does not exist, and two simultaneous saves cannot both insert.
        const [row] = await ctx.db.run((sql) => sql<ProfileRow[]>`
          INSERT INTO patient_profiles (account_id, patient_name, phone_number, gender, date_of_birth)
          SELECT id, ${body.patient_name}, ${body.phone_number}, ${gender}, ${dateOfBirth} FROM accounts WHERE id = ${accountId}
          ON CONFLICT (account_id) DO UPDATE SET
            patient_name = EXCLUDED.patient_name, phone_number = EXCLUDED.phone_number,
            gender = EXCLUDED.gender, date_of_birth = EXCLUDED.date_of_birth, updated_at = now()
          RETURNING *`)
        if (row === undefined) throw patientErrors.accountNotFound()
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
      handler: async ({ params }) => {
        const accountId = accountIdOf(params[0] ?? '', patientErrors.serverIdEither, patientErrors.accountNotFound)
        const row = await profileOfAccount(ctx, accountId)
        return json(200, profileReply(row))
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/patients/all',
      summary: 'Every patient profile',
      auth: 'secret',
      mirror: true,
      scope: { actors: ADMINS_ONLY },
      handler: async () => {
        // The profile row carries its account id, so one query answers the whole list.
        const rows = await ctx.db.run((sql) => sql<ProfileRow[]>`SELECT * FROM patient_profiles ORDER BY id`)
        return json(200, rows.map(profileReply))
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/patients/stats/count',
      summary: 'Patient counts by status, with the patients of each',
      auth: 'secret',
      mirror: true,
      scope: { actors: ADMINS_ONLY },
      handler: async () => {
        const rows = await ctx.db.run((sql) => sql<Array<Pick<ProfileRow, 'id' | 'patient_name' | 'phone_number' | 'is_active' | 'created_at'>>>`
          SELECT id, patient_name, phone_number, is_active, created_at FROM patient_profiles ORDER BY id`)
        const entry = (row: typeof rows[number]): Record<string, unknown> =>
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
      handler: async ({ params }) => {
        const accountId = accountIdOf(params[0] ?? '', patientErrors.patientIdFormat, patientErrors.patientNotFound)
        // The profile goes with the account (ON DELETE CASCADE); a non-patient account is refused, not deleted.
        const outcome = await ctx.db.run(async (sql) => {
          const [deleted] = await sql<Array<{ id: number }>>`
            DELETE FROM accounts WHERE id = ${accountId} AND user_role = 'patient' RETURNING id`
          if (deleted !== undefined) return { deleted: true as const }
          const [other] = await sql<Array<{ user_role: string }>>`SELECT user_role FROM accounts WHERE id = ${accountId}`
          return { deleted: false as const, role: other?.user_role ?? null }
        })
        if (!outcome.deleted) throw outcome.role === null ? patientErrors.patientNotFound() : patientErrors.notAPatient(outcome.role)
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
      handler: async ({ body }) => {
        const accountId = accountIdOf(body.patient_id, patientErrors.patientIdFormat, patientErrors.accountNotFound)
        // One round trip that also tells which of account and profile is missing, for the legacy 404s.
        const [outcome] = await ctx.db.run((sql) => sql<Array<{ account_exists: boolean, is_active: boolean | null }>>`
          WITH updated AS (
            UPDATE patient_profiles SET is_active = ${body.is_active}, updated_at = now()
            WHERE account_id = ${accountId} RETURNING is_active
          )
          SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ${accountId}) AS account_exists,
                 (SELECT is_active FROM updated) AS is_active`)
        if (outcome === undefined || !outcome.account_exists) throw patientErrors.accountNotFound()
        if (outcome.is_active === null) throw patientErrors.profileNotFound()
        return json(200, { patient_id: accountRef(accountId), is_active: outcome.is_active })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/patient/:patient_id/status',
      summary: 'Whether a patient is active',
      auth: 'secret',
      scope: { patientId: ({ params }) => params[0] },
      handler: async ({ params }) => {
        const accountId = accountIdOf(params[0] ?? '', patientErrors.patientIdFormat, patientErrors.accountNotFound)
        const row = await profileOfAccount(ctx, accountId)
        return json(200, { patient_id: accountRef(accountId), is_active: row.is_active })
      }
    })
  ]
}

// The profile of an account, or the legacy 404 naming which of the two is missing, in one query.
async function profileOfAccount (ctx: WorkerContext, accountId: number): Promise<ProfileRow> {
  const [row] = await ctx.db.run((sql) => sql<MaybeProfile[]>`
    SELECT a.id AS account_id, p.id, p.patient_name, p.phone_number, p.gender, p.date_of_birth, p.is_active,
           p.created_at, p.updated_at
    FROM accounts a LEFT JOIN patient_profiles p ON p.account_id = a.id
    WHERE a.id = ${accountId}`)
  if (row === undefined) throw patientErrors.accountNotFound()
  if (!hasProfile(row)) throw patientErrors.profileNotFound()
  return row
}
