import type { WorkerContext } from '../../context.ts'
import type { DocumentedRoute } from '../define.ts'
import { staffAccountRoutes } from './account.ts'
import { staffAppRoutes } from './app.ts'
import { staffMemberRoutes } from './members.ts'
import { roleRoutes } from './roles.ts'

// Staff and roles (legacy-api.md §1.2, §2.5): the permission universe and roles, a member's own account, the
// dashboard's management of members, and the app-secret routes. SQL in src/staff/store.ts.
export function staffRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [...roleRoutes(ctx), ...staffAccountRoutes(ctx), ...staffMemberRoutes(ctx), ...staffAppRoutes(ctx)]
}
