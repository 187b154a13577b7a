import { z } from 'zod'
import { adminForLogin, isEmail, normalizeEmail } from '../../src/auth/admins.ts'
import { setPassword } from '../../src/auth/credentials.ts'
import { consumeRecoveryCode, consumeResetToken, issueResetToken, normalizeRecoveryCode, resetTokenState } from '../../src/auth/recovery.ts'
import type { Account } from '../../src/auth/sessions.ts'
import { EVENTS, recordActivity } from '../../src/activity/store.ts'
import { staffForLogin } from '../../src/staff/store.ts'
import { accountErrors, authErrors } from '../../src/errors.ts'
import { errorFields, log } from '../../src/log.ts'
import { createMailer, passwordResetMail, sendInBackground } from '../../src/mail/mailer.ts'
import { json } from '../http.ts'
import type { WorkerContext } from '../context.ts'
import { defineRoute, type DocumentedRoute } from './define.ts'
import { hashPassword, signIn } from './dashboard.ts'
import { newPassword } from './auth.ts'

// Getting back into an account (legacy-api.md §2.2, §2.3): a password-reset link by e-mail, for admins and staff,
// and a login with one of an admin's recovery codes. The reset answer is the same whether the e-mail has an account
// or not, and it goes out before any lookup is made, so neither its body nor its timing tells; the lookup, the token
// and the e-mail follow in the background. All of /auth/* is in the auth rate-limit tier.

const forgotBody = z.object({ email: z.string().max(320).transform(normalizeEmail).refine(isEmail, 'email must be a valid e-mail address') })
const verifyQuery = z.object({ token: z.string().max(200) })
const resetBody = z.object({ token: z.string().max(200), new_password: newPassword('new_password') })
const recoveryBody = z.object({ email: z.string().max(320).optional(), code: z.string().max(64).optional() })

const loginReply = z.object({
  message: z.string(),
  accessToken: z.string(),
  tokenType: z.literal('bearer'),
  refreshToken: z.string(),
  user: z.object({ id: z.number().int(), name: z.string(), email: z.string() })
})

const verifyReply = z.object({
  valid: z.boolean(),
  expires_in: z.number().int().nullable().describe('seconds left, when valid'),
  reason: z.enum(['invalid', 'used', 'expired']).nullable()
})

export function recoveryRoutes (ctx: WorkerContext): DocumentedRoute[] {
  const mailer = createMailer(ctx.config)

  // Every active account with the e-mail (an admin and a staff member may share one) gets its own link.
  const requestReset = async (email: string): Promise<void> => {
    const [admin, staff] = await ctx.db.run(async (sql) => [await adminForLogin(sql, email), await staffForLogin(sql, email)] as const)
    const accounts: Array<{ account: Account, to: string }> = []
    if (admin?.is_active === true) accounts.push({ account: { kind: 'admin', id: admin.id }, to: admin.email })
    if (staff !== null && staff.status === 'active') accounts.push({ account: { kind: 'staff', id: staff.id }, to: staff.email })
    for (const { account, to } of accounts) {
      const token = await ctx.db.transaction(async (tx) => {
        const issued = await issueResetToken(tx, account, ctx.config.resetTokenMinutes)
        await recordActivity(tx, account, EVENTS.resetRequested)
        return issued
      })
      const link = `${ctx.config.frontendBaseUrl}/auth/reset?token=${token}`
      sendInBackground(mailer, passwordResetMail(to, link, ctx.config.resetTokenMinutes))
    }
  }

  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/forgot-password',
      summary: 'E-mail a single-use password-reset link to the admin or staff member with this address; the answer is always the same',
      auth: 'none',
      mirror: true,
      body: forgotBody,
      responses: { 200: z.object({ status: z.literal('sent') }) },
      handler: ({ body }) => {
        requestReset(body.email).catch((error: unknown) => log.warn('password reset not issued', errorFields(error)))
        return json(200, { status: 'sent' })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/auth/reset-password/verify',
      summary: 'Whether a reset token can still be used, and for how many seconds',
      auth: 'none',
      mirror: true,
      query: verifyQuery,
      responses: { 200: verifyReply },
      handler: async ({ query }) => {
        const state = await ctx.db.run((sql) => resetTokenState(sql, query.token.trim()))
        if (state.state === 'valid') return json(200, { valid: true, expires_in: state.expiresIn, reason: null })
        return json(200, { valid: false, expires_in: null, reason: state.state })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/reset-password',
      summary: 'Set a new password with a reset token (single use); every session of the account ends',
      auth: 'none',
      mirror: true,
      body: resetBody,
      responses: { 200: z.object({ status: z.literal('ok') }) },
      errors: [accountErrors.resetInvalid, accountErrors.resetUsed, accountErrors.resetExpired],
      handler: async ({ body }) => {
        const token = body.token.trim()
        const refuse = (state: 'invalid' | 'used' | 'expired'): never => {
          throw state === 'invalid' ? accountErrors.resetInvalid() : state === 'used' ? accountErrors.resetUsed() : accountErrors.resetExpired()
        }
        // Checked before the hash, so a bad token costs no scrypt; checked again, locked, when it is taken.
        const before = await ctx.db.run((sql) => resetTokenState(sql, token))
        if (before.state !== 'valid') refuse(before.state)
        const encoded = await hashPassword(ctx, body.new_password)
        const result = await ctx.db.transaction(async (tx) => {
          const state = await consumeResetToken(tx, token)
          if (state.state !== 'valid') return { state: state.state, revoked: [] }
          const revoked = await setPassword(tx, state.account, encoded)
          if (revoked === null) return { state: 'invalid' as const, revoked: [] } // the account is gone
          await recordActivity(tx, state.account, EVENTS.passwordReset)
          return { state: 'valid' as const, revoked }
        })
        if (result.state !== 'valid') refuse(result.state)
        await ctx.sessions.publish(result.revoked)
        return json(200, { status: 'ok' })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/recovery-login',
      summary: "Admin login with an e-mail and one of the admin's recovery codes (each works once); answers as /auth/admin/auth",
      auth: 'secret',
      mirror: true,
      body: recoveryBody,
      example: { email: 'admin@tabeby.app', code: 'k3x9-q7mp-2vd8' },
      scope: { signIn: true },
      responses: { 200: loginReply },
      errors: [authErrors.credentialsMissing, accountErrors.recoveryLoginFailed, authErrors.lockedOut],
      handler: async ({ body, request }) => {
        const email = normalizeEmail(body.email ?? '')
        const code = normalizeRecoveryCode(body.code ?? '')
        if (email === '' || (body.code ?? '').trim() === '') throw authErrors.credentialsMissing()
        await ctx.lockouts.guard('recovery-login', email)
        const refuse = async (): Promise<never> => {
          await ctx.lockouts.failed('recovery-login', email, request)
          throw accountErrors.recoveryLoginFailed()
        }
        const admin = await ctx.db.run((sql) => adminForLogin(sql, email))
        if (admin === null || !admin.is_active || code === null) return await refuse()
        const account: Account = { kind: 'admin', id: admin.id }
        const consumed = await ctx.db.transaction(async (tx) => {
          if (!await consumeRecoveryCode(tx, admin.id, code)) return false
          await recordActivity(tx, account, { ...EVENTS.recoveryLogin, detail: { ip: request.ip } })
          return true
        })
        if (!consumed) return await refuse()
        const tokens = await signIn(ctx, account, request, { recovery_code: true })
        return json(200, {
          message: 'logged in successfully',
          accessToken: tokens.accessToken,
          tokenType: 'bearer',
          refreshToken: tokens.refreshToken,
          user: { id: admin.id, name: admin.name, email: admin.email }
        })
      }
    })
  ]
}
