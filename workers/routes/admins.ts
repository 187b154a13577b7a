import { z } from 'zod'
import { isEmail, normalizeEmail } from '../../src/auth/admins.ts'
import { accountOf, type AdminActor } from '../../src/auth/actors.ts'
import { adminRole } from '../../src/auth/permissions.ts'
import { EVENTS, recordActivity, type ActivityEntry } from '../../src/activity/store.ts'
import { deleteAdmin, listAdmins, updateAdmin, type AdminBrief, type AdminChanges, type AdminWrite } from '../../src/admins/store.ts'
import { accountErrors, authErrors } from '../../src/errors.ts'
import { json } from '../http.ts'
import type { WorkerContext } from '../context.ts'
import { defineRoute, field, type DocumentedRoute } from './define.ts'
import { message, pathId } from './dashboard.ts'

// Admin management (legacy-api.md §2.4), a super-admin's work. Legacy's "admin power" also went to whoever had the
// author's e-mail address, and to the first caller when no super-admin existed (who was promoted on the spot):
// here the first super-admin comes from ADMIN_EMAIL at start-up or `scripts/create-admin.ts --super`, and nothing
// else makes one but a super-admin's promote or PATCH. `_diagnose` and `_ensure_super` are not served.

const brief = (row: AdminBrief): Record<string, unknown> => ({
  id: row.id, name: row.name, email: row.email, role: adminRole(row.is_superuser), is_active: row.is_active
})

const briefSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  email: z.string(),
  role: z.enum(['admin', 'super-admin']),
  is_active: z.boolean().describe('additive')
})

const patchBody = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(200).nullable().optional(),
  email: z.string().max(320).transform(normalizeEmail).refine(isEmail, 'email must be a valid e-mail address').nullable().optional(),
  role: z.enum(['admin', 'super-admin']).nullable().optional(),
  active: field.bool('active').nullable().optional()
})

function requireSuper (actor: AdminActor): void {
  if (!actor.isSuperuser) throw authErrors.insufficient()
}

function saved (write: AdminWrite): Extract<AdminWrite, { outcome: 'saved' }> {
  if (write.outcome === 'not_found') throw authErrors.adminNotFound()
  if (write.outcome === 'email_taken') throw accountErrors.emailInUse()
  if (write.outcome === 'last_super_admin') throw accountErrors.lastSuperAdmin()
  return write
}

export function adminRoutes (ctx: WorkerContext): DocumentedRoute[] {
  const change = async (actor: AdminActor, id: number, changes: AdminChanges, entry: ActivityEntry): Promise<AdminBrief> => {
    const { row, revoked } = saved(await ctx.db.transaction(async (tx) => {
      const write = await updateAdmin(tx, id, changes)
      if (write.outcome === 'saved') await recordActivity(tx, accountOf(actor), { ...entry, description: write.row.email, detail: { admin_id: id, ...changes } })
      return write
    }))
    await ctx.sessions.publish(revoked)
    return row
  }

  const list = (pattern: string, mirror: boolean): DocumentedRoute => defineRoute(ctx, {
    method: 'get',
    pattern,
    summary: 'Every admin (super-admin only)',
    auth: 'admin',
    mirror,
    responses: { 200: z.array(briefSchema) },
    errors: [authErrors.insufficient],
    handler: async ({ actor }) => {
      requireSuper(actor)
      return json(200, (await ctx.db.run(listAdmins)).map(brief))
    }
  })

  return [
    list('/admins/', true),
    list('/admins', true), // legacy redirected here (307) to /admins/
    list('/admins/list', true),

    defineRoute(ctx, {
      method: 'patch',
      pattern: '/admins/:id',
      summary: "Change an admin's name, e-mail, role or active flag (super-admin only; never the last active super-admin away)",
      auth: 'admin',
      mirror: true,
      body: patchBody,
      responses: { 200: briefSchema },
      errors: [authErrors.insufficient, authErrors.adminNotFound, accountErrors.emailInUse, accountErrors.lastSuperAdmin],
      handler: async ({ params, body, actor }) => {
        requireSuper(actor)
        const id = pathId(params[0])
        const changes: AdminChanges = {}
        if (body.name != null) changes.name = body.name
        if (body.email != null) changes.email = body.email
        if (body.role != null) changes.superuser = body.role === 'super-admin'
        if (body.active != null) changes.active = body.active
        return json(200, brief(await change(actor, id, changes, EVENTS.adminUpdated)))
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/admins/:id/promote',
      summary: 'Make an admin a super-admin (super-admin only)',
      auth: 'admin',
      mirror: true,
      responses: { 200: briefSchema },
      errors: [authErrors.insufficient, authErrors.adminNotFound],
      handler: async ({ params, actor }) => {
        requireSuper(actor)
        const id = pathId(params[0])
        return json(200, brief(await change(actor, id, { superuser: true }, EVENTS.adminPromoted)))
      }
    }),

    defineRoute(ctx, {
      method: 'del',
      pattern: '/admins/:id',
      summary: 'Delete an admin and their sessions (super-admin only; never the last active super-admin)',
      auth: 'admin', // legacy: the app secret alone let any app holder delete any admin
      mirror: true,
      responses: { 200: message },
      errors: [authErrors.insufficient, authErrors.deleteSelf, authErrors.adminNotFound, accountErrors.lastSuperAdmin],
      handler: async ({ params, actor }) => {
        const id = pathId(params[0])
        requireSuper(actor)
        if (id === actor.id) throw authErrors.deleteSelf()
        const write = await ctx.db.transaction(async (tx) => {
          const result = await deleteAdmin(tx, id)
          if (result.outcome === 'deleted') {
            await recordActivity(tx, accountOf(actor), { ...EVENTS.adminDeleted, description: result.row.email, detail: { admin_id: id } })
          }
          return result
        })
        if (write.outcome === 'not_found') throw authErrors.adminNotFound()
        if (write.outcome === 'last_super_admin') throw accountErrors.lastSuperAdmin()
        // Their access tokens find no admin any more; their refresh tokens went with the row.
        return json(200, { message: 'admin deleted' })
      }
    })
  ]
}
