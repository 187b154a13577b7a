import type { RouteDef, WorkerContext } from '../context.ts'
import type { Handler, Method } from '../http.ts'
import type { Tier } from '../../src/rate-limit/policy.ts'
import { headRoutes, unmatched } from '../methods.ts'
import { cors } from '../cors.ts'
import { opsRoutes } from './ops.ts'
import { authRoutes } from './auth.ts'
import { secretaryRoutes } from './secretaries.ts'
import { patientRoutes } from './patients/index.ts'
import { clinicStatusRoutes } from './clinic-status.ts'
import { bookingRoutes } from './bookings/index.ts'
import { doctorRoutes } from './doctors/index.ts'
import { paymentRoutes } from './payments.ts'
import { docsRoutes } from './docs.ts'
import { staffRoutes } from './staff/index.ts'
import { departmentRoutes } from './departments.ts'
import { userRoutes } from './users.ts'
import { adminRoutes } from './admins.ts'
import { recoveryRoutes } from './recovery.ts'
import { adRoutes } from './ads/index.ts'
import { phoneLoginRoutes } from './phone-login.ts'
import { legacyPatientRoutes } from './legacy-patients.ts'
import { queueRoutes } from './queue/index.ts'

// Every route the worker serves, by module. Order matters only where two patterns overlap: uWS matches static
// segments before parameters, so it rarely does.
//
// One shape for every area (doctors/ is the fullest example):
// - routes: workers/routes/<area>.ts, or workers/routes/<area>/ with one file per resource once it outgrows one
//   file; each route is one defineRoute spec (define.ts) that validates, authorizes, calls a store and shapes the
//   reply, and never writes SQL;
// - SQL and row types: src/<area>/store.ts (or a few named files beside it), with the rules the queries need;
// - errors: src/errors/<area>.ts, one catalogue entry per meaning, imported through src/errors.ts and thrown.
export function allRoutes (ctx: WorkerContext): RouteDef[] {
  // Each module's routes with the area they are counted under in /stats's latency figures (a route may name its own).
  const area = (group: string, defs: RouteDef[]): RouteDef[] => defs.map((def) => ({ group, ...def }))
  const routes = [
    ...area('ops', opsRoutes(ctx)),
    ...area('auth', authRoutes(ctx)),
    ...area('auth', recoveryRoutes(ctx)),
    ...area('dashboard', userRoutes(ctx)),
    ...area('dashboard', adminRoutes(ctx)),
    ...area('staff', staffRoutes(ctx)),
    ...area('dashboard', departmentRoutes(ctx)),
    ...area('secretaries', secretaryRoutes(ctx)),
    ...area('patients', patientRoutes(ctx)),
    ...area('clinics', clinicStatusRoutes(ctx)),
    ...area('bookings', bookingRoutes(ctx)),
    ...area('doctors', doctorRoutes(ctx)),
    ...area('payments', paymentRoutes(ctx)),
    ...area('ads', adRoutes(ctx)),
    ...area('auth', phoneLoginRoutes(ctx)),
    ...area('patients', legacyPatientRoutes(ctx)),
    ...area('queue', queueRoutes(ctx))
  ]
  return [...routes, ...area('ops', docsRoutes(ctx, routes))]
}

export interface MountedRoute {
  method: Method
  pattern: string
  handler: Handler
  tier: Tier
  maxBodyBytes?: number // the route's own body limit, where it is not MAX_BODY_BYTES
  group: string
}

// The routes as a worker registers them: each with its rate-limit tier (by default `auth` for /auth/*, `default`
// otherwise, architecture.md §6), and again under /backend where the legacy server mirrored its router
// (legacy-api.md §2 preamble), and each GET again for HEAD. Whatever matches none of them is `fallback`'s.
export function mountRoutes (ctx: WorkerContext): MountedRoute[] {
  const mounted: MountedRoute[] = []
  for (const def of allRoutes(ctx)) {
    const tier = def.tier ?? (def.pattern.startsWith('/auth/') ? 'auth' : 'default')
    const route: MountedRoute = { method: def.method, pattern: def.pattern, handler: def.handler, tier, maxBodyBytes: def.maxBodyBytes, group: def.group ?? 'other' }
    mounted.push(route)
    if (def.mirror === true) mounted.push({ ...route, pattern: `/backend${def.pattern}` })
  }
  return [...mounted, ...headRoutes(mounted)]
}

// The catch-all's handler (`/*`): 404, or 405 and OPTIONS for a path the routes know (workers/methods.ts).
export function fallback (ctx: WorkerContext, mounted: readonly MountedRoute[]): Handler {
  return unmatched(mounted, cors(ctx.config.corsOrigins))
}
