import type { LimitResult } from '../ipc/messages.ts'

// The rate-limit policy both ends share (architecture.md §6, seed-v2.md §3): the tiers a route may be in and the
// window every tier counts over. The coordinator counts (coordinator/limiter.ts); the worker keys, asks and answers
// (workers/rate-limit.ts), and the HTTP layer carries the route's tier and the decision on each request.

export type Tier = 'auth' | 'booking' | 'default' | 'exempt'

export const WINDOW_MS = 60_000

export interface RateDecision extends LimitResult {
  tier: Exclude<Tier, 'exempt'>
}
