import { z } from 'zod'
import {
  adminExists, adminForLogin, deleteAdmin, insertAdmin, isEmail, normalizeEmail, passwordHashOf, replacePassword, roleOf
} from '../../src/auth/admins.ts'
import { DECOY_HASH } from '../../src/auth/password.ts'
import { closeSessions, openSession, rotateRefreshToken } from '../../src/auth/sessions.ts'
import { accountsOfRole, isRole } from '../../src/accounts/store.ts'
import { authErrors, errors } from '../../src/errors.ts'
import { log } from '../../src/log.ts'
import { json } from '../http.ts'
import type { WorkerContext } from '../context.ts'
import { defineRoute, field, type DocumentedRoute } from './define.ts'

// Admin authentication for the dashboard (legacy-api.md §2.2, §4.1-§4.4; contract.md §3), deleting an admin
// (§2.4) and the phone list of §2.1. Every scrypt runs on the piscina pool; the event loop only signs tokens.

const MAX_PASSWORD = 1024 // scrypt would take any length; a bound keeps a body from costing more than a login
const MIN_PASSWORD = 8

const credentials = z.object({
  email: z.string().max(320).optional(),
  password: z.string().max(MAX_PASSWORD).optional()
})

const refreshBody = z.object({
  refreshToken: z.string().max(4096).optional(),
  refresh_token: z.string().max(4096).optional() // the legacy server read either spelling
})

const changePasswordBody = z.object({
  current_password: z.string().min(1, 'current_password must be sent').max(MAX_PASSWORD),
  new_password: z.string().max(MAX_PASSWORD).refine((value) => Array.from(value).length >= MIN_PASSWORD, `new_password must be at least ${MIN_PASSWORD} characters`)
})

const createBody = z.object({
  name: z.string().max(200).optional(),
  email: z.string().max(320).optional(),
  password: z.string().max(MAX_PASSWORD).optional()
})

const phonesQuery = z.object({ role: z.string().max(32).optional() })

export function authRoutes (ctx: WorkerContext): DocumentedRoute[] {
  const verifyPassword = async (password: string, encoded: string): Promise<boolean> =>
    (await ctx.cpu.run({ kind: 'verifyPassword', password, encoded })).ok
  const hashPassword = async (password: string): Promise<string> =>
    (await ctx.cpu.run({ kind: 'hashPassword', password })).encoded

  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/admin/auth',
      summary: 'Admin login: an access token (15 min) and a rotating refresh token',
      auth: 'secret', // legacy: the dashboard sends the app secret along with the credentials
      mirror: true,
      body: credentials,
      scope: { signIn: true },
      handler: async ({ body }) => {
        const email = normalizeEmail(body.email ?? '')
        const password = body.password ?? ''
        if (email === '' || password === '') throw authErrors.credentialsMissing()
        const admin = await ctx.db.run((sql) => adminForLogin(sql, email))
        // An unknown e-mail still costs one verification, so the answer's timing does not tell it from a wrong
        // password; an inactive account is verified too and refused with the same answer.
        const matches = await verifyPassword(password, admin?.password_hash ?? DECOY_HASH)
        if (admin === null || !matches || !admin.is_active) throw authErrors.invalidCredentials()
        const tokens = await ctx.db.run((sql) => openSession(sql, ctx.config.jwtSecret, admin.id))
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
      summary: 'Trade a refresh token for a new pair; a reused one revokes its whole family',
      auth: 'none', // the refresh token is the credential
      mirror: true,
      body: refreshBody,
      handler: async ({ body }) => {
        const token = body.refreshToken ?? body.refresh_token ?? ''
        if (token === '') throw authErrors.refreshMissing()
        const rotation = await ctx.db.transaction((tx) => rotateRefreshToken(tx, ctx.config.jwtSecret, token))
        if (rotation.outcome === 'reused') {
          log.warn('rotated refresh token presented again: its family is revoked', { adminId: rotation.adminId })
        }
        if (rotation.outcome !== 'rotated') throw authErrors.refreshInvalid()
        return json(200, { data: { ...rotation.tokens, tokenType: 'bearer' } })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/logout',
      summary: 'Revoke this access token and every refresh token of the admin',
      auth: 'admin',
      mirror: true,
      handler: async ({ actor }) => {
        await ctx.db.transaction((tx) => closeSessions(tx, actor.id, actor.token))
        return json(200, { message: 'logged out successfully' })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/auth/me',
      summary: 'The signed-in admin, with role and permissions',
      auth: 'admin', // legacy skipped the revocation check here; the guard never does
      mirror: true,
      handler: ({ actor }) => json(200, {
        id: actor.id,
        name: actor.name,
        email: actor.email,
        is_active: true, // the guard refuses inactive admins
        is_superuser: actor.isSuperuser,
        two_factor_enabled: false,
        is_admin: true,
        is_staff: false,
        ...roleOf(actor.isSuperuser)
      })
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/change-password',
      summary: "Change the signed-in admin's password; their refresh tokens are revoked",
      auth: 'admin',
      mirror: true,
      body: changePasswordBody,
      handler: async ({ body, actor }) => {
        const current = await ctx.db.run((sql) => passwordHashOf(sql, actor.id))
        if (current === null) throw authErrors.adminUnavailable()
        if (!await verifyPassword(body.current_password, current)) throw authErrors.wrongPassword()
        const encoded = await hashPassword(body.new_password)
        // Of two changes racing, only the first applies; the second is told its current password is not current.
        if (!await ctx.db.transaction((tx) => replacePassword(tx, actor.id, current, encoded))) throw authErrors.wrongPassword()
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
      handler: async ({ body }) => {
        const name = (body.name ?? '').trim()
        const email = normalizeEmail(body.email ?? '')
        const password = body.password ?? ''
        if (name === '' || email === '' || password === '') throw authErrors.fieldsMissing()
        if (!isEmail(email)) throw authErrors.invalidEmail()
        if (Array.from(password).length < MIN_PASSWORD) throw authErrors.passwordTooShort()
        // Spares a hash in the common case; the unique index below is what actually decides a race.
        if (await ctx.db.run((sql) => adminExists(sql, email))) throw authErrors.emailTaken()
        const passwordHash = await hashPassword(password)
        const admin = await ctx.db.run((sql) => insertAdmin(sql, { name, email, passwordHash, superuser: false }))
        if (admin === null) throw authErrors.emailTaken()
        return json(201, { message: 'admin created', admin })
      }
    }),

    defineRoute(ctx, {
      method: 'del',
      pattern: '/admins/:id',
      summary: 'Delete an admin and their sessions',
      auth: 'admin', // legacy: the app secret alone let any app holder delete any admin
      mirror: true,
      handler: async ({ params, actor }) => {
        const parsed = field.id('id').safeParse(params[0])
        if (!parsed.success) throw errors.validation([{ loc: ['path', 'id'], msg: 'id must be a positive integer', type: 'int_parsing' }])
        const id = parsed.data
        if (id === actor.id) throw authErrors.deleteSelf()
        // Their access tokens find no admin any more.
        await ctx.db.transaction((tx) => deleteAdmin(tx, actor.id, id))
        return json(200, { message: 'admin deleted' })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/auth/phones',
      summary: 'Every phone account of a role (admin only: legacy served this list to anyone)',
      auth: 'admin',
      // a main.py extra in legacy, so not under /backend
      query: phonesQuery,
      handler: async ({ query }) => {
        const role = (query.role ?? '').trim()
        if (!isRole(role)) throw authErrors.phonesRole()
        const items = await ctx.db.run((sql) => accountsOfRole(sql, role))
        return json(200, { items })
      }
    })
  ]
}
