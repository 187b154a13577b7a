import { z } from 'zod'
import { iraqToday, utcIso } from '../../../src/domain/calendar.ts'
import { SECRETARIES } from '../../../src/auth/actors.ts'
import { errors, queueErrors } from '../../../src/errors.ts'
import { createDisplayKey, displayKeyDigest, displayKeyValid, listDisplayKeys, revokeDisplayKey, type DisplayKeyRow } from '../../../src/queue/display-keys.ts'
import { json, type Reply } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { queueChannel, renderView } from '../../queues.ts'
import { defineRoute, field, type DocumentedRoute } from '../define.ts'
import { DISPLAY_PAGE } from './display-page.ts'
import { nowServingReply, streamParams, streamReply, wantsStream } from './shared.ts'

// Waiting-room screens (issue 15.4): the doctor or secretary app creates and revokes a clinic's display keys; a
// screen loads /display/{clinic_id}?key=… and follows the clinic's regular queue over the same stream the apps use
// (workers/queues.ts), seeing tokens and the doctor's name only.

const keyBody = z.object({
  clinic_id: field.id('clinic_id'),
  label: z.string().trim().max(100, 'label must be at most 100 characters').default('')
})
const revokeBody = z.object({ clinic_id: field.id('clinic_id'), id: field.id('id') })
const listQuery = z.object({ clinic_id: field.id('clinic_id') })
const keyQuery = z.object({
  key: z.string().max(200, 'key must be at most 200 characters').optional(),
  ...streamParams
})

const keyOut = z.object({
  id: z.number().int(),
  clinic_id: z.number().int(),
  label: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable()
})
const createdOut = keyOut.extend({
  key: z.string().describe('shown this once: only its SHA-256 is kept'),
  display_url: z.string().describe('the path a screen opens')
})

const keyJson = (row: DisplayKeyRow): z.infer<typeof keyOut> => ({
  id: row.id, clinic_id: row.clinic_id, label: row.label, created_at: utcIso(row.created_at), revoked_at: row.revoked_at === null ? null : utcIso(row.revoked_at)
})

const clinicParam = field.id('clinic_id')

// A screen's clinic (from the path) and the key it was given; refused before anything is read otherwise.
async function screenOf (ctx: WorkerContext, params: readonly string[], key: string | undefined): Promise<number> {
  const parsed = clinicParam.safeParse(params[0])
  if (!parsed.success) throw errors.validation([{ loc: ['path', 'clinic_id'], msg: 'clinic_id must be a positive integer', type: 'value_error' }])
  if (key === undefined || key === '') throw queueErrors.displayKeyRequired()
  if (!await ctx.db.run((sql) => displayKeyValid(sql, parsed.data, key))) throw queueErrors.displayKeyInvalid()
  return parsed.data
}

export function displayRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'post', pattern: '/api/display_keys', auth: 'secret', body: keyBody,
      example: { clinic_id: 4, label: 'شاشة صالة الانتظار' },
      summary: 'Create a waiting-room screen key for the clinic (doctor or secretary app); the key is shown once',
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
      responses: { 200: createdOut },
      errors: [queueErrors.displayKeyLimit],
      handler: async ({ body }) => {
        const created = await ctx.db.run((sql) => createDisplayKey(sql, body.clinic_id, body.label))
        if (created === null) throw queueErrors.displayKeyLimit()
        return json(200, { ...keyJson(created.row), key: created.key, display_url: `/display/${body.clinic_id}?key=${created.key}` })
      }
    }),
    defineRoute(ctx, {
      method: 'get', pattern: '/api/display_keys', auth: 'secret', query: listQuery,
      summary: "The clinic's screen keys, live and revoked (never the keys themselves)",
      scope: { actors: SECRETARIES, clinicId: ({ query }) => query.clinic_id },
      responses: { 200: z.object({ clinic_id: z.number().int(), keys: z.array(keyOut) }) },
      handler: async ({ query }) => {
        const rows = await ctx.db.run((sql) => listDisplayKeys(sql, query.clinic_id))
        return json(200, { clinic_id: query.clinic_id, keys: rows.map(keyJson) })
      }
    }),
    defineRoute(ctx, {
      method: 'post', pattern: '/api/display_keys/revoke', auth: 'secret', body: revokeBody,
      example: { clinic_id: 4, id: 12 },
      summary: 'Revoke a screen key: its open screens are cut at once and refused when they reconnect',
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
      responses: { 200: keyOut },
      errors: [queueErrors.displayKeyNotFound],
      handler: async ({ body }) => {
        const row = await ctx.db.run((sql) => revokeDisplayKey(sql, body.clinic_id, body.id))
        if (row === null) throw queueErrors.displayKeyNotFound()
        // Every worker of every instance rechecks its screens of the clinic before this answers (the coordinator
        // waits until the change is in each worker's socket; other instances hear it by NOTIFY).
        await ctx.publishChange({ topic: 'display', clinicId: body.clinic_id, version: Number(row.revoked_us) })
        return json(200, keyJson(row))
      }
    }),
    defineRoute(ctx, {
      method: 'get', pattern: '/display/:clinic_id', auth: 'none', query: keyQuery,
      summary: 'The waiting-room screen of a clinic: a self-contained HTML page (Arabic, right to left), with its display key',
      responses: { 200: z.string().describe('text/html') },
      errors: [queueErrors.displayKeyRequired, queueErrors.displayKeyInvalid],
      handler: async ({ params, query }): Promise<Reply> => {
        await screenOf(ctx, params, query.key)
        return {
          status: 200,
          headers: {
            'Content-Type': 'text/html; charset=utf-8',
            'Cache-Control': 'no-store',
            // The key is in the page's URL: no referrer carries it anywhere, and the page talks to this server only.
            'Referrer-Policy': 'no-referrer',
            'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
            'X-Content-Type-Options': 'nosniff'
          },
          body: DISPLAY_PAGE
        }
      }
    }),
    defineRoute(ctx, {
      method: 'get', pattern: '/display/:clinic_id/feed', auth: 'none', query: keyQuery,
      summary: "A screen's feed: now serving, the next tokens, the counts and the doctor's name (JSON, or SSE with stream=true)",
      responses: { 200: nowServingReply.extend({ doctor: z.string().nullable() }) },
      errors: [queueErrors.displayKeyRequired, queueErrors.displayKeyInvalid],
      handler: async ({ params, query, request }) => {
        const clinicId = await screenOf(ctx, params, query.key)
        const where = { lane: 'regular' as const, clinicId, date: iraqToday() }
        if (wantsStream(query.stream, request)) return streamReply(ctx, where, 'display', query, request, displayKeyDigest(query.key as string))
        const entry = await ctx.queues(where.lane, clinicId, where.date)
        return json(200, renderView(ctx.queueViews.analysed(queueChannel(where.lane, clinicId, where.date), entry), 'display'))
      }
    })
  ]
}
