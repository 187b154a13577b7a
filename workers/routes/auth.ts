import { z } from 'zod'
import { adminExists, insertAdmin, isEmail, normalizeEmail, roleOf } from '../../src/auth/admins.ts'
import { DECOY_HASH } from '../../src/auth/password.ts'
import { closeSessions, openSession, revokeRefreshTokens, rotateRefreshToken } from '../../src/auth/sessions.ts'
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
const PHONE_ROLES: readonly string[] = ['patient', 'secretary', 'doctor']

interface LoginRow {
  id: number
  name: string
  email: string
  password_hash: string
  is_active: boolean
}

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
        const [admin] = await ctx.db.run((sql) => sql<LoginRow[]>`
          SELECT id, name, email, password_hash, is_active FROM admins WHERE lower(email) = lower(${email})`)
        // An unknown e-mail still costs one verification, so the answer's timing does not tell it from a wrong
        // password; an inactive account is verified too and refused with the same answer.
        const matches = await verifyPassword(password, admin?.password_hash ?? DECOY_HASH)
        if (admin === undefined || !matches || !admin.is_active) throw authErrors.invalidCredentials()
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
        const [row] = await ctx.db.run((sql) => sql<Array<{ password_hash: string }>>`SELECT password_hash FROM admins WHERE id = ${actor.id}`)
        if (row === undefined) throw authErrors.adminUnavailable()
        if (!await verifyPassword(body.current_password, row.password_hash)) throw authErrors.wrongPassword()
        const encoded = await hashPassword(body.new_password)
        // Compare-and-set on the hash that was verified: of two changes racing, only the first applies, and the
        // second is told its current password is no longer current.
        const changed = await ctx.db.transaction(async (tx) => {
          const updated = await tx`UPDATE admins SET password_hash = ${encoded} WHERE id = ${actor.id} AND password_hash = ${row.password_hash} RETURNING id`
          if (updated.length === 0) return false
          await revokeRefreshTokens(tx, actor.id)
          return true
        })
        if (!changed) throw authErrors.wrongPassword()
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
        await ctx.db.transaction(async (tx) => {
          // Both rows locked in id order: two admins deleting each other at once cannot both succeed, and the
          // caller is re-checked under the lock.
          const rows = await tx<Array<{ id: number, is_active: boolean, is_superuser: boolean }>>`
            SELECT id, is_active, is_superuser FROM admins WHERE id IN (${actor.id}, ${id}) ORDER BY id FOR UPDATE`
          const self = rows.find((row) => row.id === actor.id)
          const target = rows.find((row) => row.id === id)
          if (self === undefined || !self.is_active) throw authErrors.adminUnavailable()
          if (target === undefined) throw authErrors.adminNotFound()
          // Otherwise any admin could remove the superuser who created them.
          if (target.is_superuser && !self.is_superuser) throw authErrors.insufficient()
          // Their refresh tokens go with the row (ON DELETE CASCADE); their access tokens find no admin any more.
          await tx`DELETE FROM admins WHERE id = ${id}`
        })
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
        if (!PHONE_ROLES.includes(role)) throw authErrors.phonesRole()
        const items = await ctx.db.run((sql) => sql<Array<{ user_server_id: number, phone_number: string, user_uid: string | null, user_role: string }>>`
          SELECT id AS user_server_id, phone_number, user_uid, user_role FROM accounts WHERE user_role = ${role} ORDER BY id`)
        return json(200, { items })
      }
    })
  ]
}
