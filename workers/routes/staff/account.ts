import { z } from 'zod'
import { normalizeEmail } from '../../../src/auth/admins.ts'
import { DECOY_HASH } from '../../../src/auth/password.ts'
import { EVENTS } from '../../../src/activity/store.ts'
import { staffById, staffForLogin } from '../../../src/staff/store.ts'
import { authErrors, staffErrors } from '../../../src/errors.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import { changePasswordBody, MAX_PASSWORD } from '../auth.ts'
import { changeOwnPassword, message, recordInBackground, signIn, userAgentOf, verifyPassword } from '../dashboard.ts'
import { staffItem, staffItemSchema } from './shared.ts'

// A staff member's own account (legacy-api.md §2.5): login (JSON or form), itself, its password. The login answers
// the same kind of tokens as the admins' (src/auth/sessions.ts): a 15-minute access token of `type: "staff"` and,
// additively, a rotating refresh token that POST /auth/refresh takes.

const loginBody = z.object({
  email: z.string().max(320).optional(),
  password: z.string().max(MAX_PASSWORD).optional()
})

const loginReply = z.object({
  data: z.object({
    accessToken: z.string(),
    tokenType: z.literal('bearer'),
    refreshToken: z.string().describe('additive: the legacy staff login issued none'),
    user: z.object({ id: z.number().int(), name: z.string(), email: z.string(), role: z.string() })
  })
})

export function staffAccountRoutes (ctx: WorkerContext): DocumentedRoute[] {
  const passwordRoute = (pattern: string, summary: string): DocumentedRoute => defineRoute(ctx, {
    method: 'post',
    pattern,
    summary,
    auth: 'staff',
    mirror: true,
    tier: 'auth', // it tests a password
    body: changePasswordBody,
    responses: { 200: message },
    errors: [staffErrors.noPassword, authErrors.wrongPassword],
    handler: async ({ body, actor }) => {
      await changeOwnPassword(ctx, actor, body.current_password, body.new_password)
      return json(200, { message: 'password changed' })
    }
  })

  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/staff/login',
      summary: 'Staff login (JSON or form): an access token of type "staff" and a rotating refresh token',
      auth: 'none',
      mirror: true,
      tier: 'auth',
      body: loginBody,
      form: true,
      responses: { 200: loginReply },
      errors: [staffErrors.loginInvalid, staffErrors.loginFailed, authErrors.lockedOut],
      handler: async ({ body, request }) => {
        const email = normalizeEmail(body.email ?? '')
        const password = body.password ?? ''
        if (email === '' || password === '') throw staffErrors.loginInvalid()
        await ctx.lockouts.guard('staff-login', email)
        const staff = await ctx.db.run((sql) => staffForLogin(sql, email))
        // Unknown, inactive, without a password or with a wrong one: the same answer after the same work.
        const matches = await verifyPassword(ctx, password, staff?.password_hash ?? DECOY_HASH)
        if (staff === null || staff.password_hash === null || !matches || staff.status !== 'active') {
          if (staff !== null) {
            const reason = staff.password_hash === null ? 'no_password' : !matches ? 'wrong_password' : 'inactive'
            recordInBackground(ctx, { kind: 'staff', id: staff.id }, { ...EVENTS.loginFailed, description: userAgentOf(request), detail: { ip: request.ip, reason } })
          }
          await ctx.lockouts.failed('staff-login', email, request)
          throw staffErrors.loginFailed()
        }
        const tokens = await signIn(ctx, { kind: 'staff', id: staff.id }, request)
        return json(200, {
          data: {
            accessToken: tokens.accessToken,
            tokenType: 'bearer',
            refreshToken: tokens.refreshToken,
            user: { id: staff.id, name: staff.name, email: staff.email, role: staff.role_key ?? 'staff' }
          }
        })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/staff/me',
      summary: 'The signed-in staff member (StaffItem)',
      auth: 'staff',
      mirror: true,
      responses: { 200: staffItemSchema },
      errors: [authErrors.staffUnavailable],
      handler: async ({ actor }) => {
        const row = await ctx.db.run((sql) => staffById(sql, actor.id))
        if (row === null) throw authErrors.staffUnavailable()
        return json(200, staffItem(row))
      }
    }),

    passwordRoute('/staff/password', "Change the signed-in staff member's password; its other sessions end"),
    passwordRoute('/staff/me/change-password', "Change the signed-in staff member's password; its other sessions end (same as /staff/password)")
  ]
}
