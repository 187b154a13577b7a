import type { RouteDef, WorkerContext } from '../context.ts'
import { opsRoutes } from './ops.ts'
import { bookingRoutes } from './bookings.ts'

// Every route the worker serves, by module. Order matters only where two patterns overlap: uWS matches static
// segments before parameters, so it rarely does.
export function allRoutes (ctx: WorkerContext): RouteDef[] {
  return [
    ...opsRoutes(ctx),
    ...bookingRoutes(ctx)
  ]
}
