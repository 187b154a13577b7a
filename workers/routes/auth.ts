import { z } from 'zod'
import { adminExists, adminForLogin, insertAdmin, isEmail, normalizeEmail } from '../../src/auth/admins.ts'
import { DECOY_HASH } from '../../src/auth/password.ts'
import { rotateRefreshToken } from '../../src/auth/sessions.ts'
import { EVENTS, recordActivity } from '../../src/activity/store.ts'
import { accountsOfRole, isRole } from '../../src/accounts/store.ts'
import { authErrors, errors, staffErrors } from '../../src/errors.ts'
import { log } from '../../src/log.ts'
import { json } from '../http.ts'
import type { WorkerContext } from '../context.ts'
import { defineRoute, type DocumentedRoute } from './define.ts'
import {
  adminOut, changeOwnPassword, endEverySession, hashPassword, meOf, message, recordInBackground, signIn, userAgentOf, verifyPassword
} from './dashboard.ts'

// Dashboard authentication (legacy-api.md §2.2, §4.1-§4.4; contract.md §3) for admins and, since the staff routes
// (workers/routes/staff/) issue the same kind of tokens, for staff members too; and the phone list of §2.1. Every
// scrypt runs on the piscina pool; the event loop only signs tokens.

export const MAX_PASSWORD = 1024 // scrypt would take any length; a bound keeps a body from costing more than a login
export const MIN_PASSWORD = 8

export const newPassword = (name: string) => z.string().max(MAX_PASSWORD)
  .refine((value) => Array.from(value).length >= MIN_PASSWORD, `${name} must be at least ${MIN_PASSWORD} characters`)

const credentials = z.object({
  email: z.string().max(320).optional(),
  password: z.string().max(MAX_PASSWORD).optional()
})

const refreshBody = z.object({
  refreshToken: z.string().max(4096).optional(),
  refresh_token: z.string().max(4096).optional() // the legacy server read either spelling
})

export const changePasswordBody = z.object({
  current_password: z.string().min(1, 'current_password must be sent').max(MAX_PASSWORD),
  new_password: newPassword('new_password')
})

const createBody = z.object({
  name: z.string().max(200).optional(),
  email: z.string().max(320).optional(),
  password: z.string().max(MAX_PASSWORD).optional()
})

const phonesQuery = z.object({ role: z.string().max(32).optional() })

const loginReply = z.object({
  message: z.string(),
  accessToken: z.string(),
  tokenType: z.literal('bearer'),
  refreshToken: z.string().describe('additive: the legacy login issued none'),
  user: z.object({ id: z.number().int(), name: z.string(), email: z.string() })
})

const createdReply = z.object({ message: z.literal('admin created'), admin: z.object({ id: z.number().int(), name: z.string(), email: z.string() }) })

const phonesReply = z.object({
  items: z.array(z.object({ user_server_id: z.number().int(), phone_number: z.string(), user_uid: z.string().nullable(), user_role: z.string() }))
})

const pairReply = z.object({ data: z.object({ accessToken: z.string(), refreshToken: z.string(), tokenType: z.literal('bearer') }) })

export function authRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/admin/auth',
      summary: 'Admin login: an access token (15 min) and a rotating refresh token',
      auth: 'secret', // legacy: the dashboard sends the app secret along with the credentials
      mirror: true,
      body: credentials,
      example: { email: 'admin@tabeby.app', password: 'a-long-passphrase' },
      scope: { signIn: true },
      responses: { 200: loginReply },
      errors: [authErrors.credentialsMissing, authErrors.invalidCredentials, authErrors.lockedOut],
      handler: async ({ body, request }) => {
        const email = normalizeEmail(body.email ?? '')
        const password = body.password ?? ''
        if (email === '' || password === '') throw authErrors.credentialsMissing()
        // Per e-mail, known or not: a lockout that only known e-mails reach would tell which ones have accounts.
        await ctx.lockouts.guard('admin-login', email)
        const admin = await ctx.db.run((sql) => adminForLogin(sql, email))
        // An unknown e-mail still costs one verification, so the answer's timing does not tell it from a wrong
        // password; an inactive account is verified too and refused with the same answer.
        const matches = await verifyPassword(ctx, password, admin?.password_hash ?? DECOY_HASH)
        if (admin === null || !matches || !admin.is_active) {
          if (admin !== null) {
            recordInBackground(ctx, { kind: 'admin', id: admin.id }, {
              ...EVENTS.loginFailed, description: userAgentOf(request), detail: { ip: request.ip, reason: matches ? 'inactive' : 'wrong_password' }
            })
          }
          await ctx.lockouts.failed('admin-login', email, request)
          throw authErrors.invalidCredentials()
        }
        const tokens = await signIn(ctx, { kind: 'admin', id: admin.id }, request)
        return json(200, {
          message: 'logged in successfully',
          accessToken: tokens.accessToken,
          tokenType: 'bearer',
          refreshToken: tokens.refreshToken, // additive: the legacy login issued none
          user: { id: admin.id, name: admin.name, email: admin.email }
        })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/refresh',
      summary: "Trade a refresh token (an admin's or a staff member's) for a new pair; a reused one ends its session",
      auth: 'none', // the refresh token is the credential
      mirror: true,
      body: refreshBody,
      responses: { 200: pairReply },
      errors: [authErrors.refreshMissing, authErrors.refreshInvalid],
      handler: async ({ body }) => {
        const token = body.refreshToken ?? body.refresh_token ?? ''
        if (token === '') throw authErrors.refreshMissing()
        const rotation = await ctx.db.transaction(async (tx) => {
          const result = await rotateRefreshToken(tx, ctx.config.jwtSecret, token)
          if (result.outcome === 'reused') await recordActivity(tx, result.account, EVENTS.refreshReused)
          return result
        })
        if (rotation.outcome === 'reused') {
          log.warn('rotated refresh token presented again: its family is revoked', { account: `${rotation.account.kind}:${rotation.account.id}` })
          // Its access tokens too, on every worker, before the refusal goes out.
          await ctx.sessions.publish(rotation.revoked)
        }
        if (rotation.outcome !== 'rotated') throw authErrors.refreshInvalid()
        return json(200, { data: { ...rotation.tokens, tokenType: 'bearer' } })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/logout',
      summary: 'End every session of the signed-in admin or staff member: its access and refresh tokens stop working',
      auth: 'admin-or-staff',
      mirror: true,
      responses: { 200: message },
      handler: async ({ actor }) => {
        await endEverySession(ctx, actor, EVENTS.loggedOut)
        return json(200, { message: 'logged out successfully' })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/auth/me',
      summary: 'The signed-in admin or staff member, with role and effective permissions',
      auth: 'admin-or-staff', // legacy skipped the revocation check here; the guard never does
      mirror: true,
      responses: { 200: adminOut },
      handler: ({ actor }) => json(200, meOf(actor))
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/change-password',
      summary: "Change the signed-in account's password; its other sessions end",
      auth: 'admin-or-staff',
      mirror: true,
      body: changePasswordBody,
      responses: { 200: message },
      errors: [authErrors.wrongPassword, staffErrors.noPassword],
      handler: async ({ body, actor }) => {
        await changeOwnPassword(ctx, actor, body.current_password, body.new_password)
        return json(200, { message: 'password changed' })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/admin/create',
      summary: 'Create an active, non-super admin',
      auth: 'admin',
      mirror: true,
      body: createBody,
      example: { name: 'سارة محمود', email: 'sara@tabeby.app', password: 'a-long-passphrase' },
      responses: { 201: createdReply },
      errors: [errors.cpuBusy, authErrors.fieldsMissing, authErrors.invalidEmail, authErrors.passwordTooShort, authErrors.emailTaken],
      handler: async ({ body }) => {
        const name = (body.name ?? '').trim()
        const email = normalizeEmail(body.email ?? '')
        const password = body.password ?? ''
        if (name === '' || email === '' || password === '') throw authErrors.fieldsMissing()
        if (!isEmail(email)) throw authErrors.invalidEmail()
        if (Array.from(password).length < MIN_PASSWORD) throw authErrors.passwordTooShort()
        // Spares a hash in the common case; the unique index below is what actually decides a race.
        if (await ctx.db.run((sql) => adminExists(sql, email))) throw authErrors.emailTaken()
        const passwordHash = await hashPassword(ctx, password)
        const admin = await ctx.db.run((sql) => insertAdmin(sql, { name, email, passwordHash, superuser: false }))
        if (admin === null) throw authErrors.emailTaken()
        return json(201, { message: 'admin created', admin })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/auth/phones',
      summary: 'Every phone account of a role (admin only: legacy served this list to anyone)',
      auth: 'admin',
      // a main.py extra in legacy, so not under /backend
      query: phonesQuery,
      responses: { 200: phonesReply },
      errors: [authErrors.phonesRole],
      handler: async ({ query }) => {
        const role = (query.role ?? '').trim()
        if (!isRole(role)) throw authErrors.phonesRole()
        const items = await ctx.db.run((sql) => accountsOfRole(sql, role))
        return json(200, { items })
      }
    })
  ]
}
