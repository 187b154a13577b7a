import { Redis } from 'ioredis'
import type { LimitResult, LimiterStats } from '../src/ipc/messages.ts'
import { RateLimiter } from '../src/rate-limit/windows.ts'
import { WINDOW_MS } from '../src/rate-limit/policy.ts'
import { log, errorFields } from '../src/log.ts'

// The instance's rate-limit counters (architecture.md §6). In memory they are exact across the instance's workers;
// with REDIS_URL they live in Redis, so the limits hold across instances too. Either way a check is one atomic
// step: the coordinator's single thread for memory, one Lua script for Redis.

const MAX_KEYS = 1_000_000
const REDIS_TIMEOUT_MS = 200
// How often an open breaker asks Redis whether it is back.
const PROBE_MS = 1000

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
  // The counters in this process, when they are the instance's (no REDIS_URL): what leases are granted from.
  memory: RateLimiter | null
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
      close: async () => {},
      memory
    }
  }

  // Fail fast, then stop asking: a check waits at most the command timeout for Redis, and once one has failed the
  // breaker opens and every check is answered from memory at once (limits per instance rather than none), while a
  // probe asks Redis in the background until it answers. Without the breaker a frozen Redis (it accepts the
  // connection and never replies) cost every request the full timeout; a dead one, a reconnect attempt each.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000, commandTimeout: REDIS_TIMEOUT_MS, lazyConnect: false })
  let open = false
  redis.on('error', (error: unknown) => { if (!open) log.warn('redis error', errorFields(error)) })
  const counters = { checks: 0, allowed: 0, denied: 0, redisFailures: 0, breakerOpened: 0 }
  let probe: NodeJS.Timeout | undefined
  const trip = (error: unknown): void => {
    counters.redisFailures++
    if (open) return
    open = true
    counters.breakerOpened++
    log.warn('redis unavailable: rate limits are counted per instance until it answers again', errorFields(error))
    probe = setTimeout(probeRedis, PROBE_MS)
  }
  const probeRedis = (): void => {
    redis.ping().then(() => {
      open = false
      log.info('redis answers again: rate limits are shared across instances again')
    }, () => {
      probe = setTimeout(probeRedis, PROBE_MS)
    })
  }
  return {
    hit: async (key, limit) => {
      if (open) {
        fallbacks++
        return memory.hit(key, limit)
      }
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
      } catch (error) {
        trip(error)
        fallbacks++
        return memory.hit(key, limit)
      }
    },
    sweep: () => { memory.sweep() },
    stats: () => ({ ...stats('redis'), ...counters, breaker: open ? 'open' : 'closed', keys: memory.stats().keys }),
    memory: null,
    close: async () => {
      clearTimeout(probe)
      redis.disconnect()
    }
  }
}
