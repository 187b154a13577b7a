import { z } from 'zod'
import { isEmail, normalizeEmail } from '../../src/auth/admins.ts'
import { accountOf } from '../../src/auth/actors.ts'
import { authenticateDashboard } from '../../src/auth/guard.ts'
import { maskedCode, recoveryCodesOf, replaceRecoveryCodes } from '../../src/auth/recovery.ts'
import { endSession, liveSessions } from '../../src/auth/sessions.ts'
import { ACTIVITY_STATUSES, ACTIVITY_TYPES, EVENTS, listActivity, recordActivity, type ActivityRow } from '../../src/activity/store.ts'
import { updateAdmin } from '../../src/admins/store.ts'
import { accountErrors, ApiError, authErrors } from '../../src/errors.ts'
import { json } from '../http.ts'
import type { WorkerContext } from '../context.ts'
import { defineRoute, field, type DocumentedRoute } from './define.ts'
import { adminOut, endEverySession, meOf, message, pathId } from './dashboard.ts'

// The signed-in account's own routes (legacy-api.md §2.3) and the two /backend extras of §2 ("three more ADMIN
// routes"). Every session, activity and recovery-code route reads the caller's own rows only.

const profileBody = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(200).nullable().optional(),
  email: z.string().max(320).transform(normalizeEmail).refine(isEmail, 'email must be a valid e-mail address').nullable().optional()
})

const securityBody = z.object({
  revoke_all_sessions: field.bool('revoke_all_sessions').nullable().optional(),
  // Accepted as legacy accepted them; no alert is sent by anyone yet, so nothing stores them (COMPATIBILITY.md).
  email_security_alerts: field.bool('email_security_alerts').nullable().optional(),
  push_login_alerts: field.bool('push_login_alerts').nullable().optional(),
  critical_only: field.bool('critical_only').nullable().optional()
})

// FastAPI's datetime: a date, or a date and time with an optional offset (none: UTC, as legacy stored naive UTC).
const DATETIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/
const datetime = (name: string) => z.string().trim().max(40)
  .refine((v) => DATETIME.test(v) && !Number.isNaN(Date.parse(withZone(v))), `${name} must be a date or an ISO-8601 date and time`)
  .transform((v) => new Date(Date.parse(withZone(v))).toISOString())
function withZone (value: string): string {
  const normalized = value.replace(' ', 'T')
  if (normalized.length === 10) return `${normalized}T00:00:00Z`
  return /(Z|[+-]\d{2}:?\d{2})$/.test(normalized) ? normalized : `${normalized}Z`
}

const csv = z.string().max(1000).transform((v) => v.split(',').map((item) => item.trim()).filter((item) => item !== ''))

const activityQuery = z.object({
  page: z.preprocess((v) => v ?? '1', field.id('page')),
  page_size: z.preprocess((v) => v ?? '20', field.id('page_size').pipe(z.number().max(100, 'page_size must be at most 100'))),
  cursor: z.string().max(200).optional(), // accepted and ignored, as legacy did
  since: datetime('since').optional(),
  types: csv.optional(),
  status: csv.optional(),
  order: z.enum(['asc', 'desc'], { message: 'order must be asc or desc' }).optional()
})

const activityBody = z.object({
  email: z.string().max(320).transform(normalizeEmail).refine(isEmail, 'email must be a valid e-mail address').nullable().optional(),
  type: z.enum(ACTIVITY_TYPES),
  title: z.string().trim().min(1, 'title must not be empty').max(200),
  description: z.string().max(2000).nullable().optional(),
  at: datetime('at').nullable().optional(),
  status: z.enum(ACTIVITY_STATUSES)
})

const activityOut = z.object({
  id: z.string(),
  type: z.enum(ACTIVITY_TYPES),
  title: z.string(),
  description: z.string().nullable(),
  status: z.enum(ACTIVITY_STATUSES),
  at: z.string(),
  event: z.string().describe('additive: what happened, in the server\'s words (login_failed, staff_created, client, …)')
})

const activityItem = (row: ActivityRow): Record<string, unknown> => ({
  id: row.id, type: row.type, title: row.title, description: row.description, status: row.status, at: row.at.toISOString(), event: row.event
})

const sessionOut = z.object({
  id: z.number().int().describe("the session's first refresh-token id: stable across refreshes"),
  current: z.boolean(),
  created_at: z.string(),
  last_used_at: z.string(),
  expires_at: z.string(),
  user_agent: z.string().nullable()
})

const codesOut = z.object({ codes: z.array(z.object({ code: z.string(), used: z.boolean() })) })

const lightAdmin = z.object({
  id: z.number().int(), name: z.string(), email: z.string(), is_active: z.boolean(), is_superuser: z.boolean(), two_factor_enabled: z.literal(false)
})

// Python's csv module, as legacy wrote the export: `True`/`False`, CRLF, quotes only where needed.
function csvLine (values: Array<string | number | boolean>): string {
  return values.map((value) => {
    const text = typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value)
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
  }).join(',') + '\r\n'
}

export function userRoutes (ctx: WorkerContext): DocumentedRoute[] {
  const backendProfile = (pattern: string): DocumentedRoute => defineRoute(ctx, {
    method: 'get',
    pattern,
    summary: 'The signed-in admin, short form (a /backend extra of legacy)',
    auth: 'admin',
    responses: { 200: lightAdmin },
    handler: ({ actor }) => json(200, {
      id: actor.id, name: actor.name, email: actor.email, is_active: true, is_superuser: actor.isSuperuser, two_factor_enabled: false
    })
  })

  return [
    defineRoute(ctx, {
      method: 'get',
      pattern: '/users/me',
      summary: 'The signed-in admin or staff member (AdminOut), with effective permissions',
      auth: 'admin-or-staff',
      mirror: true,
      responses: { 200: adminOut },
      handler: ({ actor }) => json(200, meOf(actor))
    }),

    defineRoute(ctx, {
      method: 'patch',
      pattern: '/users/me',
      summary: "Change the signed-in admin's name or e-mail",
      auth: 'admin',
      mirror: true,
      body: profileBody,
      responses: { 200: adminOut },
      errors: [accountErrors.emailInUse],
      handler: async ({ body, actor }) => {
        const changes = { ...(body.name == null ? {} : { name: body.name }), ...(body.email == null ? {} : { email: body.email }) }
        if (Object.keys(changes).length === 0) return json(200, meOf(actor))
        const write = await ctx.db.transaction(async (tx) => {
          const result = await updateAdmin(tx, actor.id, changes)
          if (result.outcome === 'saved') {
            await recordActivity(tx, accountOf(actor), { ...EVENTS.profileUpdated, detail: { fields: Object.keys(changes) } })
          }
          return result
        })
        if (write.outcome === 'email_taken') throw accountErrors.emailInUse()
        if (write.outcome === 'not_found') throw authErrors.adminUnavailable() // deleted since the guard read it
        if (write.outcome === 'last_super_admin') throw accountErrors.lastSuperAdmin() // no such change is made here
        return json(200, meOf({ ...actor, name: write.row.name, email: write.row.email }))
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/users/me/export',
      summary: "The signed-in admin's account as CSV text",
      auth: 'admin',
      mirror: true,
      responses: { 200: z.object({ filename: z.literal('me.csv'), content: z.string() }) },
      handler: async ({ actor }) => {
        await ctx.db.run((sql) => recordActivity(sql, accountOf(actor), EVENTS.exported))
        const content = csvLine(['id', 'name', 'email', 'is_active', 'is_superuser']) + csvLine([actor.id, actor.name, actor.email, true, actor.isSuperuser])
        return json(200, { filename: 'me.csv', content })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/users/me/security',
      summary: 'Security preferences (none are stored: `{}`, as legacy answered)',
      auth: 'admin',
      mirror: true,
      responses: { 200: z.strictObject({}) },
      errors: [],
      handler: () => json(200, {})
    }),

    defineRoute(ctx, {
      method: 'patch',
      pattern: '/users/me/security',
      summary: '`revoke_all_sessions: true` ends every session of the signed-in admin, this one included',
      auth: 'admin',
      mirror: true,
      body: securityBody,
      responses: { 200: message },
      handler: async ({ body, actor }) => {
        if (body.revoke_all_sessions === true) await endEverySession(ctx, actor, EVENTS.sessionsRevoked)
        return json(200, { message: 'done' })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/users/me/sessions',
      summary: "The caller's live sessions, one per refresh-token family; `current` marks the one asking",
      auth: 'none', // legacy answered [] to any token it could not use, and 401 only without the header
      mirror: true,
      responses: { 200: z.array(sessionOut) },
      errors: [authErrors.tokenInvalid],
      handler: async ({ request }) => {
        const authorization = request.headers.get('authorization')
        const actor = await authenticateDashboard({ db: ctx.db, jwtSecret: ctx.config.jwtSecret, revoked: ctx.sessions.revoked, standing: ctx.standing }, authorization)
          .catch((error: unknown) => {
            if (authorization === undefined || !(error instanceof ApiError) || error.status !== 401) throw error
            return null
          })
        if (actor === null) return json(200, [])
        const rows = await ctx.db.run((sql) => liveSessions(sql, accountOf(actor)))
        return json(200, rows.map((row) => ({
          id: row.id,
          current: row.family === actor.token.family,
          created_at: row.created_at.toISOString(),
          last_used_at: row.last_used_at.toISOString(),
          expires_at: row.expires_at.toISOString(),
          user_agent: row.user_agent
        })))
      }
    }),

    defineRoute(ctx, {
      method: 'del',
      pattern: '/users/me/sessions/:id',
      summary: 'End one session of the caller (additive): its access and refresh tokens stop working',
      auth: 'admin-or-staff',
      mirror: true,
      responses: { 200: message },
      errors: [accountErrors.sessionNotFound],
      handler: async ({ params, actor }) => {
        const id = pathId(params[0])
        const account = accountOf(actor)
        const revoked = await ctx.db.transaction(async (tx) => {
          const families = await endSession(tx, account, id)
          if (families !== null) await recordActivity(tx, account, { ...EVENTS.sessionRevoked, detail: { session_id: id } })
          return families
        })
        if (revoked === null) throw accountErrors.sessionNotFound()
        await ctx.sessions.publish(revoked)
        return json(200, { message: 'ok' })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/users/me/recovery-codes',
      summary: 'The recovery codes, masked: each is shown whole only once, when generated',
      auth: 'admin',
      mirror: true,
      responses: { 200: codesOut },
      handler: async ({ actor }) => {
        const rows = await ctx.db.run((sql) => recoveryCodesOf(sql, actor.id))
        return json(200, { codes: rows.map((row) => ({ code: maskedCode(row.hint), used: row.used })) })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/users/me/recovery-codes',
      summary: 'Replace the recovery codes with ten new ones, shown this once (POST /auth/recovery-login takes one)',
      auth: 'admin',
      mirror: true,
      tier: 'auth', // it mints credentials
      responses: { 200: codesOut },
      handler: async ({ actor }) => {
        const codes = await ctx.db.transaction(async (tx) => {
          const fresh = await replaceRecoveryCodes(tx, actor.id)
          await recordActivity(tx, accountOf(actor), EVENTS.recoveryCodesGenerated)
          return fresh
        })
        return json(200, { codes: codes.map((code) => ({ code, used: false })) }, { 'Cache-Control': 'no-store' })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/users/me/activity',
      summary: "The caller's activity feed: paged, filtered by date, types and statuses",
      auth: 'admin-or-staff',
      mirror: true,
      query: activityQuery,
      responses: { 200: z.object({ items: z.array(activityOut), total: z.number().int(), nextCursor: z.null() }) },
      handler: async ({ query, actor }) => {
        const { rows, total } = await ctx.db.run((sql) => listActivity(sql, accountOf(actor), {
          page: query.page,
          pageSize: query.page_size,
          since: query.since ?? null,
          types: query.types !== undefined && query.types.length > 0 ? query.types : null,
          statuses: query.status !== undefined && query.status.length > 0 ? query.status : null,
          order: query.order ?? 'desc'
        }))
        return json(200, { items: rows.map(activityItem), total, nextCursor: null })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/activity',
      summary: "Record an activity in the caller's own feed (entries are never edited)",
      auth: 'admin-or-staff',
      mirror: true,
      body: activityBody,
      responses: { 201: activityOut },
      errors: [accountErrors.activityForOther],
      handler: async ({ body, actor }) => {
        if (body.email != null && body.email !== normalizeEmail(actor.email)) throw accountErrors.activityForOther()
        const row = await ctx.db.run((sql) => recordActivity(sql, accountOf(actor), {
          event: 'client', type: body.type, title: body.title, description: body.description ?? null, status: body.status, at: body.at ?? null
        }))
        return json(201, activityItem(row))
      }
    }),

    backendProfile('/backend/me'),
    backendProfile('/backend/users/profile')
  ]
}
