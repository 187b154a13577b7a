import { z } from 'zod'
import { iraqToday } from '../../../src/domain/calendar.ts'
import { PATIENTS } from '../../../src/auth/actors.ts'
import { queueErrors } from '../../../src/errors.ts'
import { bookingPlace } from '../../../src/queue/store.ts'
import { positionOf } from '../../../src/queue/state.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { queueChannel, renderView } from '../../queues.ts'
import { defineRoute, field, type DocumentedRoute } from '../define.ts'
import { laneParam, nowServingReply, positionReply, streamParams, streamReply, wantsStream } from './shared.ts'

// "Now serving" for a clinic's day and one booking's place in it, as JSON or as a stream (issue 15.1, 15.2). Both
// read the day's queue rendered once per version (workers/queues.ts), so a viewer costs no database work of its own.

const nowQuery = z.object({
  clinic_id: field.id('clinic_id'),
  date: field.date().optional(),
  lane: laneParam,
  ...streamParams
})

const positionQuery = z.object({
  booking_id: z.string({ message: 'booking_id is required' }).trim().min(1, 'booking_id is required').max(64),
  ...streamParams
})

export function liveRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'get', pattern: '/api/queue/now_serving', auth: 'secret', query: nowQuery,
      summary: "The token being seen at a clinic today (or on `date`), the next ones, and the day's counts (JSON, or SSE with stream=true)",
      // Tokens and counts only, no names: any app actor may watch any clinic; a secretary or doctor its own.
      scope: { clinicId: ({ query }) => query.clinic_id },
      responses: { 200: nowServingReply },
      handler: async ({ query, request }) => {
        const where = { lane: query.lane, clinicId: query.clinic_id, date: query.date ?? iraqToday() }
        if (wantsStream(query.stream, request)) return streamReply(ctx, where, 'now', query, request)
        const entry = await ctx.queues(where.lane, where.clinicId, where.date)
        return json(200, renderView(ctx.queueViews.analysed(queueChannel(where.lane, where.clinicId, where.date), entry), 'now'))
      }
    }),
    defineRoute(ctx, {
      method: 'get', pattern: '/api/queue/position', auth: 'secret', query: positionQuery,
      summary: "A booking's place: its token, how many wait before it, who is being seen, and the expected minutes (JSON, or SSE with stream=true)",
      // AUTH_MODE=strict: the patient's own booking, with its own token; legacy mode: the app secret, as every app route.
      scope: {
        actors: PATIENTS,
        bookingOwner: async ({ query }) => {
          const place = await ctx.db.run((sql) => bookingPlace(sql, query.booking_id))
          return place === null ? undefined : place.patientId
        }
      },
      responses: { 200: positionReply },
      errors: [queueErrors.bookingNotFound],
      handler: async ({ query, request }) => {
        const place = await ctx.db.run((sql) => bookingPlace(sql, query.booking_id))
        if (place === null) throw queueErrors.bookingNotFound()
        const view = { booking: query.booking_id, status: place.status }
        if (wantsStream(query.stream, request)) return streamReply(ctx, place, view, query, request)
        const entry = await ctx.queues(place.lane, place.clinicId, place.date)
        return json(200, positionOf(ctx.queueViews.analysed(queueChannel(place.lane, place.clinicId, place.date), entry), query.booking_id, place.status))
      }
    })
  ]
}
