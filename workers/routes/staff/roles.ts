import { z } from 'zod'
import { PERMISSIONS, ordered } from '../../../src/auth/permissions.ts'
import { listRoles, setRolePermissions } from '../../../src/staff/store.ts'
import { staffErrors } from '../../../src/errors.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import { message, pathId } from '../dashboard.ts'
import { permissionList, validPermissions } from './shared.ts'

// The permission universe and the roles (legacy-api.md §1.2, §2.5). The seven default roles are rows from the first
// migration on, so /roles never has to seed them.

const roleSchema = z.object({
  id: z.number().int(),
  key: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  permissions: z.array(z.string())
})

// Legacy replaced the set with `permissions or []`, so an empty body cleared a role; the list must be sent now.
const rolePermissionsBody = z.object({ permissions: permissionList })

export function roleRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'get',
      pattern: '/permissions',
      summary: 'The ten permissions',
      auth: 'admin',
      mirror: true,
      responses: { 200: z.object({ items: z.array(z.string()) }) },
      handler: () => json(200, { items: PERMISSIONS })
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/roles',
      summary: 'Every role with the permissions its row holds',
      auth: 'admin',
      mirror: true,
      responses: { 200: z.array(roleSchema) },
      handler: async () => {
        const roles = await ctx.db.run(listRoles)
        return json(200, roles.map((role) => ({ ...role, permissions: ordered(role.permissions) })))
      }
    }),

    defineRoute(ctx, {
      method: 'patch',
      pattern: '/roles/:id/permissions',
      summary: "Replace a role's permissions (super-admin only)",
      auth: 'admin',
      mirror: true,
      body: rolePermissionsBody,
      responses: { 200: message },
      errors: [staffErrors.superuserOnly, staffErrors.invalidPermission, staffErrors.roleNotFound],
      handler: async ({ params, body, actor }) => {
        if (!actor.isSuperuser) throw staffErrors.superuserOnly()
        const roleId = pathId(params[0], 'role_id')
        const permissions = validPermissions(body.permissions)
        if (!await ctx.db.transaction((tx) => setRolePermissions(tx, roleId, permissions))) throw staffErrors.roleNotFound()
        return json(200, { message: 'ok' })
      }
    })
  ]
}
