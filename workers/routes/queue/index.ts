import type { WorkerContext } from '../../context.ts'
import type { DocumentedRoute } from '../define.ts'
import { liveRoutes } from './live.ts'
import { displayRoutes } from './display.ts'

// Beyond the legacy server (issue 15): the live queue (now serving, a patient's place and expected time) and the
// waiting-room screens. Additions:
// no legacy client calls them (docs/COMPATIBILITY.md).
export function queueRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [...liveRoutes(ctx), ...displayRoutes(ctx)]
}
