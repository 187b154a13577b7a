import { z } from 'zod'
import type { Lane } from '../../../src/booking/days.ts'
import type { Reply, Request } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { clamp } from '../../sse.ts'
import { queueChannel, type QueueViewName } from '../../queues.ts'

// What the live-queue routes share: the stream parameters the day streams take (clamped the same way), and the
// one way a queue view is streamed: ids, Last-Event-ID, heartbeats, the slow-consumer cut-off are the hub's.

const seconds = z.preprocess((v) => typeof v === 'string' && v.trim() !== '' ? Number(v) : undefined, z.number().finite().optional())

export const streamParams = {
  stream: z.preprocess((v) => v === 'true' || v === '1' ? true : v === 'false' || v === '0' || v === undefined ? false : v, z.boolean({ message: 'stream must be true or false' })),
  heartbeat: seconds,
  timeout: seconds
}

export const laneParam = z.enum(['regular', 'golden'], { message: 'lane must be regular or golden' }).default('regular')

export function wantsStream (stream: boolean, request: Request): boolean {
  return stream || (request.headers.get('accept') ?? '').includes('text/event-stream')
}

export function streamReply (
  ctx: WorkerContext, where: { lane: Lane, clinicId: number, date: string }, view: QueueViewName,
  params: { heartbeat?: number | undefined, timeout?: number | undefined }, request: Request, tag?: string
): Reply {
  const lastEventId = Number(request.headers.get('last-event-id') ?? 'NaN')
  return {
    status: 200,
    headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
    body: '',
    stream: (sink) => {
      // The queue renderer always has an answer (an empty day is a queue of nobody), so the 404 text is never sent.
      void ctx.queueSse.subscribe(queueChannel(where.lane, where.clinicId, where.date), sink, 'not found', {
        heartbeatMs: clamp.heartbeatSeconds(params.heartbeat) * 1000,
        timeoutMs: clamp.timeoutSeconds(params.timeout) * 1000,
        lastEventId: Number.isSafeInteger(lastEventId) && lastEventId >= 0 ? lastEventId : null,
        viewer: view,
        tag
      })
    }
  }
}

export const nowServingReply = z.object({
  clinic_id: z.number().int(),
  date: z.string().describe('YYYY-MM-DD'),
  now_serving: z.number().int().nullable().describe('the token called in last (in progress, or served until the next is called)'),
  next: z.array(z.number().int()).describe('the next waiting tokens, at most 5'),
  waiting: z.number().int(),
  served: z.number().int()
})

export const positionReply = z.object({
  booking_id: z.string(),
  token: z.number().int().nullable().describe('null once the booking has no place (cancelled, or its day archived)'),
  status: z.enum(['booked', 'in_progress', 'served', 'no_show', 'cancelled']),
  ahead: z.number().int().nullable().describe('waiting bookings before this one; null unless it is waiting'),
  now_serving: z.number().int().nullable(),
  eta_minutes: z.number().int().nullable().describe("expected minutes until called, from the clinic's own service times"),
  eta_range: z.tuple([z.number().int(), z.number().int()]).nullable().describe('the range the wait is expected in: the 25th to the 90th percentile of the service times, times the patients ahead')
})
