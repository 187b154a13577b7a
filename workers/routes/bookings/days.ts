import { z } from 'zod'
import { noTableOf, type Lane } from '../../../src/booking/days.ts'
import { viewerOf } from '../../../src/auth/actors.ts'
import { accountRef } from '../../../src/domain/identifiers.ts'
import { json, type Reply, type Request } from '../../http.ts'
import { replyFrom, replyFromView } from '../../cache.ts'
import { clamp } from '../../sse.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, field, type DocumentedRoute } from '../define.ts'
import { LANES, clinicQuery, paths } from './shared.ts'
import { daysReply } from './replies.ts'

// Reading a clinic's live days with their queues (legacy-api.md §2.13, §2.14): JSON through the shared cache, or
// SSE (§3.9). A strict-mode patient reads its own redacted view (src/booking/patient-view.ts).

// Legacy accepted stream/heartbeat/timeout/poll_interval; numbers are clamped (sse.ts), poll_interval is accepted
// and ignored: updates are pushed when they happen.
const seconds = z.preprocess((v) => typeof v === 'string' && v.trim() !== '' ? Number(v) : undefined, z.number().finite().optional())
const daysQuery = clinicQuery.extend({
  stream: field.bool('stream').optional(),
  heartbeat: seconds,
  timeout: seconds,
  poll_interval: seconds
})

export function dayRoutes (ctx: WorkerContext): DocumentedRoute[] {
  // `viewer`: the patient account a strict-mode read is redacted for (other patients' names and phones hidden);
  // null serves the shared rendering as it is, the only path legacy mode takes.
  async function readDays (lane: Lane, clinicId: number, request: Request, notFound: boolean, viewer: number | null): Promise<Reply> {
    const entry = await ctx.lanes(lane, clinicId)
    if (entry === null) {
      if (notFound) throw noTableOf(lane)()
      return json(200, { clinic_id: clinicId, days: {} })
    }
    if (viewer === null) return replyFrom(entry, request)
    return replyFromView(entry, request, accountRef(viewer), () => ctx.views.view(`${lane}:${clinicId}`, entry, viewer).body)
  }

  // SSE when asked with stream=true or Accept: text/event-stream (legacy-api.md §3.9), JSON otherwise.
  function daysOrStream (lane: Lane, query: z.infer<typeof daysQuery>, request: Request, viewer: number | null): Promise<Reply> | Reply {
    const wantsStream = query.stream === true || (request.headers.get('accept') ?? '').includes('text/event-stream')
    if (!wantsStream) return readDays(lane, query.clinic_id, request, true, viewer)
    const lastEventId = Number(request.headers.get('last-event-id') ?? 'NaN')
    return {
      status: 200,
      headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
      body: '',
      stream: (sink) => {
        void ctx.sse.subscribe(`${lane}:${query.clinic_id}`, sink, noTableOf(lane).text(), {
          heartbeatMs: clamp.heartbeatSeconds(query.heartbeat) * 1000,
          timeoutMs: clamp.timeoutSeconds(query.timeout) * 1000,
          lastEventId: Number.isSafeInteger(lastEventId) && lastEventId >= 0 ? lastEventId : null,
          viewer
        })
      }
    }
  }

  return [
    ...LANES.flatMap((lane) => [
      defineRoute(ctx, {
        method: 'get', pattern: paths[lane].days, mirror: true, auth: 'secret', query: daysQuery,
        summary: `The clinic's live ${lane} days with their queues (JSON, or SSE with stream=true)`,
        // SSE (stream=true): `text/event-stream` frames, each data line this same JSON.
        responses: { 200: daysReply, 304: null },
        errors: [noTableOf(lane)],
        scope: { clinicId: ({ query }) => query.clinic_id },
        handler: ({ query, request, actor }) => daysOrStream(lane, query, request, viewerOf(actor))
      }),
      defineRoute(ctx, {
        method: 'get', pattern: paths[lane].all, mirror: true, auth: 'secret', query: clinicQuery,
        summary: `All live ${lane} days; {} when there are none`,
        responses: { 200: daysReply, 304: null },
        errors: [],
        scope: { clinicId: ({ query }) => query.clinic_id },
        handler: ({ query, request, actor }) => readDays(lane, query.clinic_id, request, false, viewerOf(actor))
      })
    ]),
    defineRoute(ctx, {
      method: 'get', pattern: '/api/booking_golden_days_old', mirror: true, auth: 'secret', query: clinicQuery,
      summary: 'Deprecated golden days reader, kept for old app builds',
      responses: { 200: daysReply, 304: null },
      errors: [noTableOf('golden')],
      scope: { clinicId: ({ query }) => query.clinic_id },
      handler: ({ query, request, actor }) => readDays('golden', query.clinic_id, request, true, viewerOf(actor))
    })
  ]
}
