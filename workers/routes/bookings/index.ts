import type { WorkerContext } from '../../context.ts'
import type { DocumentedRoute } from '../define.ts'
import { dayRoutes } from './days.ts'
import { entryRoutes } from './entries.ts'
import { tableRoutes } from './tables.ts'

// The regular and golden queues (legacy-api.md §2.13, §2.14, §3), one file per resource: the days as the apps read
// them, the bookings in them, and the days themselves. The rules and SQL are src/booking's.

// Every route here is in the rate limiter's booking tier (50/min by default), but one that tests a guessable code
// (verify_golden_code), which names the auth tier itself.
export function bookingRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [...dayRoutes(ctx), ...entryRoutes(ctx), ...tableRoutes(ctx)].map((route) => ({ ...route, tier: route.tier ?? 'booking' }))
}
