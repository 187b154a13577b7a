import { z } from 'zod'
import { patientErrors } from '../../../src/errors.ts'
import { accountRef, normalizePhone } from '../../../src/domain/identifiers.ts'
import { accountByPhone, accountForPhone, isRole, type AccountRow } from '../../../src/accounts/store.ts'
import { patientToken } from '../../../src/auth/actors.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'

// Phone accounts: `/auth/register` and `/auth/check-phone` (legacy-api.md §2.1), and the patient app's own
// registration (§2.9). Registering a patient account answers a patient actor token too (contract.md §3).

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

export function accountRoutes (ctx: WorkerContext): DocumentedRoute[] {
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
        const account = await ctx.db.run((sql) => accountByPhone(sql, phone))
        if (account === null) {
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
    })
  ]
}
