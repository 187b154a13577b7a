import type { WorkerContext } from '../../context.ts'
import type { DocumentedRoute } from '../define.ts'
import { liveRoutes } from './live.ts'
import { displayRoutes } from './display.ts'
import { deviceRoutes } from './devices.ts'

// Beyond the legacy server (issue 15): the live queue (now serving, a patient's place and expected time) and the
// waiting-room screens and the phones that get a push when their turn is near. Additions:
// no legacy client calls them (docs/COMPATIBILITY.md).
export function queueRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [...liveRoutes(ctx), ...displayRoutes(ctx), ...deviceRoutes(ctx)]
}
