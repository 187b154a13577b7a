import { createHash, timingSafeEqual } from 'node:crypto'
import { Registry } from 'prom-client'
import { errors } from '../../src/errors.ts'
import { bearerToken } from '../../src/auth/tokens.ts'
import type { MetricsJson } from '../../src/ipc/messages.ts'
import type { Reply, Request } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { defineRoute } from './define.ts'

// STATS_TOKEN (issue 12.6): the operator's figures show process ids, memory and row counts. Unset, they stay public
// as the v2 note had them; set, every one of these routes wants `Authorization: Bearer <STATS_TOKEN>`.
// Both sides are hashed first, so the comparison takes the same time whatever the length or the first wrong byte.
export function statsAccess (ctx: WorkerContext): (request: Request) => void {
  const token = ctx.config.statsToken
  if (token === null) return () => {}
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest()
  const expected = digest(token)
  return (request) => {
    const sent = bearerToken(request.headers.get('authorization'))
    const matches = timingSafeEqual(digest(sent ?? ''), expected)
    if (sent === null || !matches) throw errors.statsToken()
  }
}

// The instance's metrics merged by the coordinator, or this worker's own when the coordinator is away (with the
// caller told so): /stats takes what it can get, a Prometheus scrape does not (below).
export async function clusterMetrics (ctx: WorkerContext): Promise<{ metrics: MetricsJson, workers: number[], merged: boolean }> {
  try {
    const { text, workers } = await ctx.coordinator.call('metrics.read', { format: 'json' }, 4000)
    return { metrics: JSON.parse(text) as MetricsJson, workers, merged: true }
  } catch {
    return { metrics: await ctx.metrics.snapshot(), workers: [ctx.env.workerId], merged: false }
  }
}

export function metricsRoutes (ctx: WorkerContext): RouteDef[] {
  const guard = statsAccess(ctx)
  return [defineRoute(ctx, {
    method: 'get',
    pattern: '/metrics',
    summary: 'Prometheus text format for the whole instance, merged by the coordinator (STATS_TOKEN when set)',
    auth: 'none',
    responses: { 200: { binary: ['text/plain'] } },
    errors: [errors.statsToken, errors.coordinatorUnavailable],
    // Prometheus text format, the whole instance. Without the coordinator there is no answer rather than one
    // worker's counters: a scrape that saw only part of the instance would read as counters going backwards.
    handler: async ({ request }): Promise<Reply> => {
      guard(request)
      const { text } = await ctx.coordinator.call('metrics.read', { format: 'text' }, 4000)
      return { status: 200, headers: { 'Content-Type': Registry.PROMETHEUS_CONTENT_TYPE, 'Cache-Control': 'no-store' }, body: text }
    }
  })]
}
