import { Redis } from 'ioredis'
import type { LimitResult, LimiterStats } from '../src/ipc/messages.ts'
import { RateLimiter } from '../src/rate-limit/windows.ts'
import { WINDOW_MS } from '../src/rate-limit/policy.ts'
import { log, errorFields } from '../src/log.ts'

// The instance's rate-limit counters (architecture.md §6). In memory they are exact across the instance's workers;
// with REDIS_URL they live in Redis, so the limits hold across instances too. Either way a check is one atomic
// step: the coordinator's single thread for memory, one Lua script for Redis.

const MAX_KEYS = 1_000_000

// INCR the window's counter, start its expiry on the first hit, and refuse to count past the limit (a denied
// request does not consume, as in memory). Returns [count after this request or -1 when denied, ms left].
const HIT_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  return {-1, redis.call('PTTL', KEYS[1])}
end
count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {count, redis.call('PTTL', KEYS[1])}
`

export interface LimiterService {
  hit: (key: string, limit: number) => LimitResult | Promise<LimitResult>
  sweep: () => void
  stats: () => LimiterStats
  close: () => Promise<void>
}

export function createLimiter (redisUrl: string | null): LimiterService {
  const memory = new RateLimiter({ windowMs: WINDOW_MS, maxKeys: MAX_KEYS })
  let fallbacks = 0
  const stats = (store: 'memory' | 'redis'): LimiterStats => ({ store, fallbacks, ...memory.stats() })
  if (redisUrl === null) {
    return {
      hit: (key, limit) => memory.hit(key, limit),
      sweep: () => { memory.sweep() },
      stats: () => stats('memory'),
      close: async () => {}
    }
  }

  // Fail fast: a check waits at most a few ms for Redis, then the memory counters answer (limits per instance
  // rather than none), and Redis is retried on the next check.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000, commandTimeout: 200, lazyConnect: false })
  redis.on('error', (error: unknown) => log.warn('redis error', errorFields(error)))
  const counters = { checks: 0, allowed: 0, denied: 0 }
  return {
    hit: async (key, limit) => {
      try {
        const [count, ttl] = await redis.eval(HIT_SCRIPT, 1, `rl:${key}`, limit, WINDOW_MS) as [number, number]
        counters.checks++
        const resetMs = ttl > 0 ? ttl : WINDOW_MS
        if (count < 0) {
          counters.denied++
          return { allowed: false, limit, remaining: 0, resetMs }
        }
        counters.allowed++
        return { allowed: true, limit, remaining: Math.max(0, limit - count), resetMs }
      } catch {
        fallbacks++
        return memory.hit(key, limit)
      }
    },
    sweep: () => { memory.sweep() },
    stats: () => ({ ...stats('redis'), ...counters, keys: memory.stats().keys }),
    close: async () => { redis.disconnect() }
  }
}
