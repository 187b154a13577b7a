import { z } from 'zod'

// The documented answers of the operations routes (OpenAPI only; ops.ts builds them). The figures nested under
// /stats grow with the server, so their inner objects are open.

const isoTime = z.string().describe('UTC ISO-8601')
const epochSeconds = z.number().describe("seconds since the epoch, a float (legacy's time.time())")
const figures = z.looseObject({})

export const bannerReply = z.object({
  message: z.literal('Tabeby API v2.0.0 is running'),
  status: z.string(),
  docs: z.literal('/docs'),
  health: z.literal('/health'),
  stats: z.literal('/stats')
})

export const healthReply = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  version: z.string(),
  timestamp: isoTime,
  engine: figures,
  checks: z.object({
    database: z.object({ status: z.enum(['ok', 'error']), message: z.string(), latency_ms: z.number(), busy: z.boolean() }),
    coordinator: z.looseObject({ status: z.enum(['ok', 'degraded']), message: z.string() }),
    phone_login: z.looseObject({ status: z.enum(['ok', 'disabled']), configured: z.boolean() })
  }),
  performance: z.object({
    connection_pool: z.record(z.string(), z.number()),
    cache: z.record(z.string(), z.union([z.number(), z.string()])).nullable(),
    workers: z.number().int()
  })
})

export const healthzReply = healthReply.extend({
  statistics: z.object({ database: z.record(z.string(), z.number()).nullable().describe('row counts by table; null when unhealthy') }),
  endpoints: z.record(z.string(), z.string())
})

export const statsReply = z.object({
  timestamp: epochSeconds,
  timestamp_iso: isoTime,
  version: z.string(),
  engine: figures,
  instance: z.string(),
  database: z.object({ connected: z.boolean(), pool: figures, budget: figures, connections: z.record(z.string(), z.number()).nullable() }),
  coordinator: z.object({ pid: z.number().int(), uptime: z.number(), workers_connected: z.number().int() }).nullable(),
  changes: figures.nullable(),
  cache: figures.nullable(),
  rate_limits: figures.nullable(),
  sse: figures,
  workers: z.array(z.looseObject({ id: z.number().int(), pid: z.number().int(), uptime: z.number() })),
  memory: figures
})

const cacheFigures = z.object({
  size: z.number().int(),
  hits: z.number().int(),
  misses: z.number().int(),
  hit_rate: z.string().describe('e.g. "93.75%"'),
  max_size: z.number().int(),
  usage: z.string(),
  bytes: z.number().int(),
  max_bytes: z.number().int(),
  evictions: z.number().int(),
  expired: z.number().int()
})

export const cacheStatsReply = z.object({ cache: cacheFigures, timestamp: epochSeconds, timestamp_iso: isoTime })

export const cacheClearReply = z.object({ message: z.literal('Cache cleared successfully'), cleared: z.number().int(), timestamp: epochSeconds, timestamp_iso: isoTime })
