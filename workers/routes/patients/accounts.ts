import { z } from 'zod'
import { patientErrors } from '../../../src/errors.ts'
import { accountRef, normalizePhone } from '../../../src/domain/identifiers.ts'
import { accountById, accountByPhone, accountForPhone, isRole, type AccountRow } from '../../../src/accounts/store.ts'
import { doctorToken, patientToken } from '../../../src/auth/actors.ts'
import { authErrors } from '../../../src/errors.ts'
import { json, type Request } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import { verifiedPhone } from '../phone-login.ts'

// Phone accounts: `/auth/register` and `/auth/check-phone` (legacy-api.md §2.1), and the patient app's own
// registration (§2.9). Registering a patient account answers a patient actor token too (contract.md §3). In
// AUTH_MODE=strict registering takes a Firebase ID token of the same phone (`Authorization: Bearer`): the app secret
// alone no longer buys anyone's token, and a doctor's account gets a doctor token.

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

// The documented answers (OpenAPI only). The token fields are additive: a patient's account always gets one.
const tokenReply = {
  access_token: z.string().optional().describe('actor token (additive): a patient account, or a doctor verified in AUTH_MODE=strict'),
  token_type: z.literal('bearer').optional()
}
const registerReply = z.object({
  message: z.enum(['database created successfuly', 'ok']),
  user_server_id: z.number().int(),
  user_role: z.enum(['patient', 'secretary', 'doctor']),
  ...tokenReply
})
const checkPhoneReply = z.object({
  exists: z.boolean(),
  phone_number: z.string(),
  user_role: z.string().optional(),
  user_server_id: z.number().int().optional(),
  user_uid: z.string().nullable().optional(),
  message: z.string().describe('Arabic, e.g. "رقم الهاتف غير مسجل في النظام"')
})
const patientRegisterReply = z.object({
  message: z.literal('ok'),
  user_server_id: z.string().describe('P-<id>'),
  user_role: z.string(),
  ...tokenReply
})

// What strict mode's Firebase ID token check can answer (phone-login.ts verifiedPhone).
const phoneProof = [authErrors.phoneMismatch, authErrors.phoneTokenMissing, authErrors.phoneTokenInvalid, authErrors.phoneClaimMissing,
  authErrors.phoneClaimFormat, authErrors.phoneLoginUnconfigured, authErrors.phoneKeysUnavailable]

export function accountRoutes (ctx: WorkerContext): DocumentedRoute[] {
  const strict = ctx.config.authMode === 'strict'

  // Strict mode: the phone being registered must be the one a Firebase ID token proves. Legacy mode reads no token.
  const requireVerified = async (request: Request, phone: string): Promise<boolean> => {
    if (!strict) return false
    const verified = await verifiedPhone(ctx, request)
    if (verified.phone !== phone) throw authErrors.phoneMismatch()
    return true
  }

  // Additive fields: a patient account gets a patient token; a doctor's, in strict mode (where its phone was
  // verified), a doctor token for its clinic if it has one. A secretary's token comes from its code login.
  const tokenFields = async (account: AccountRow, verified: boolean, patientsOnly: boolean): Promise<Record<string, string>> => {
    if (account.user_role === 'patient') return { access_token: patientToken(ctx.config.jwtSecret, account.id, verified), token_type: 'bearer' }
    if (account.user_role === 'doctor' && verified && !patientsOnly) {
      const clinicId = (await ctx.db.run((sql) => accountById(sql, account.id)))?.doctor_id ?? null
      return { access_token: doctorToken(ctx.config.jwtSecret, account.id, clinicId), token_type: 'bearer' }
    }
    return {}
  }

  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/register',
      summary: 'Register a phone account (patient, secretary or doctor); an existing phone answers its account',
      auth: 'none', // legacy: open; the apps call it right after Firebase phone sign-in
      mirror: true,
      body: registerBody,
      example: { user_uid: 'firebase-uid-7Hq2', user_role: 'patient', phone_number: '+9647701234567' },
      responses: { 200: registerReply },
      errors: [patientErrors.registerRole, patientErrors.registerPhone, ...phoneProof],
      handler: async ({ body, request }) => {
        const role = (body.user_role ?? '').trim()
        if (!isRole(role)) throw patientErrors.registerRole()
        const phone = normalizePhone(body.phone_number ?? '')
        if (phone === null) throw patientErrors.registerPhone()
        const verified = await requireVerified(request, phone)
        const userUid = (body.user_uid ?? '').trim() || null
        const { account, created } = await ctx.db.run((sql) => accountForPhone(sql, phone, userUid, role))
        return json(200, {
          message: created ? 'database created successfuly' : 'ok',
          user_server_id: account.id,
          user_role: account.user_role,
          ...await tokenFields(account, verified, false)
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
      responses: { 200: checkPhoneReply },
      errors: [patientErrors.phoneMissing, patientErrors.phoneFormat],
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
      tier: 'auth', // it mints a patient token: one address must not mint them by the hundred
      body: patientRegisterBody,
      scope: { signIn: true },
      example: { user_uid: 'firebase-uid-7Hq2', user_role: 'patient', phone_number: '+9647701234567' },
      responses: { 200: patientRegisterReply },
      errors: [patientErrors.notPatientRole, patientErrors.patientPhone, ...phoneProof],
      handler: async ({ body, request }) => {
        if (body.user_role.trim().toLowerCase() !== 'patient') throw patientErrors.notPatientRole()
        // Legacy stored any string here; we require E.164 so this route and /auth/register agree on one account.
        const phone = normalizePhone(body.phone_number)
        if (phone === null) throw patientErrors.patientPhone()
        const verified = await requireVerified(request, phone)
        const { account, created } = await ctx.db.run((sql) => accountForPhone(sql, phone, body.user_uid, 'patient'))
        return json(200, {
          message: 'ok',
          user_server_id: accountRef(account.id),
          // Legacy echoed the role as sent for an existing phone, even when the account is a doctor's.
          user_role: created ? 'patient' : body.user_role,
          ...await tokenFields(account, verified, true)
        })
      }
    })
  ]
}
