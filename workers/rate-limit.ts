import type { Config } from '../src/config.ts'
import type { LimitGrant, LimitResult } from '../src/ipc/messages.ts'
import { MAX_LIMIT, RateLimiter, localShare } from '../src/rate-limit/windows.ts'
import { WINDOW_MS, type RateDecision, type Tier } from '../src/rate-limit/policy.ts'
import { bearerToken, verifyToken, type TokenType } from '../src/auth/tokens.ts'
import { errors } from '../src/errors.ts'
import { CoordinatorUnavailable, type CoordinatorClient } from './coordinator-client.ts'
import { errorReply, type Reply, type Request } from './http.ts'

// Rate limits (architecture.md §6, seed-v2.md §3): the counters are the coordinator's, so a limit is exact across
// workers; while the coordinator is away each worker counts alone against its share of the limit. Where a key's
// window has plenty of room, the coordinator leases this worker a share of it (coordinator/limit-leases.ts), which
// is spent here with no round trip; the share is already counted there, so the limit stays exact.

const WINDOW_SECONDS = WINDOW_MS / 1000

function tooMany (decision: RateDecision): Reply {
  return errorReply(errors.tooManyRequests(Math.max(1, Math.ceil(decision.resetMs / 1000))))
}

// The client's address: the socket's, or the X-Forwarded-For entry added by the outermost of TRUST_PROXY_HOPS
// proxies we trust (Render: 1). Entries further left were written by the client and prove nothing, so a spoofed
// header cannot move anyone into a fresh bucket.
export function clientAddress (request: Request, trustedHops: number): string {
  if (trustedHops === 0) return request.ip
  const forwarded = request.headers.get('x-forwarded-for')
  if (forwarded === undefined) return request.ip
  const hops = forwarded.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
  return hops[hops.length - trustedHops] ?? hops[0] ?? request.ip
}

// The bucket of a token's holder: an admin's access and refresh tokens share `admin:<id>`, a staff member's share
// `staff:<id>` (its subject already reads so), and the apps' actors have theirs.
function bucketOf (type: TokenType, sub: string): string {
  if (type === 'secretary' || type === 'patient' || type === 'doctor') return `${type}:${sub}`
  return sub.startsWith('staff:') ? sub : `admin:${sub}`
}

interface Lease {
  units: number
  limit: number
  remaining: number // the window's room left at the coordinator when the lease came, besides these units
  endsAt: number // performance.now() time; from when the take was sent, so it ends before the coordinator's window
  window: number
}

// A reclaim is remembered this long, for a take whose grant arrives after the reclaim it crossed.
const RECLAIM_MEMORY_MS = 10_000

export class RateLimits {
  private readonly local: RateLimiter
  private readonly leasing: boolean
  private readonly leases = new Map<string, Lease>()
  private readonly reclaimed = new Map<string, number>()
  counters = { local: 0, leased: 0, leases: 0, reclaims: 0 }

  // `observe`: each decision, for the metrics (allowed or denied, per tier).
  constructor (private readonly config: Config, private readonly coordinator: CoordinatorClient, private readonly observe?: (tier: Tier, allowed: boolean) => void) {
    this.local = new RateLimiter({ windowMs: WINDOW_MS, maxKeys: 100_000 })
    this.leasing = config.hotPaths.has('limit-leases')
    setInterval(() => {
      this.local.sweep()
      const now = performance.now()
      for (const [key, lease] of this.leases) if (now >= lease.endsAt) this.leases.delete(key)
      for (const [key, at] of this.reclaimed) if (now - at > RECLAIM_MEMORY_MS) this.reclaimed.delete(key)
    }, 10_000).unref()
  }

  // The coordinator needs the rest of this key's window for another worker.
  reclaim (key: string): void {
    this.reclaimed.set(key, performance.now())
    const lease = this.leases.get(key)
    this.leases.delete(key)
    this.counters.reclaims++
    this.coordinator.notify('limit.return', { key, units: lease?.units ?? 0, window: lease?.window ?? -1 })
  }

  private spend (key: string, limit: number, now: number): LimitResult | null {
    const lease = this.leases.get(key)
    if (lease === undefined) return null
    if (lease.units > 0 && lease.limit === limit && now < lease.endsAt) {
      lease.units--
      this.counters.leased++
      return { allowed: true, limit, remaining: lease.remaining + lease.units, resetMs: lease.endsAt - now }
    }
    this.leases.delete(key)
    // The tier's limit changed under a live lease (a restart with other settings): hand the rest back.
    if (lease.units > 0 && now < lease.endsAt) this.coordinator.notify('limit.return', { key, units: lease.units, window: lease.window })
    return null
  }

  private async take (key: string, limit: number): Promise<LimitResult> {
    const sent = performance.now()
    const grant: LimitGrant = await this.coordinator.call('limit.take', { key, limit })
    if (grant.granted > 0) {
      const reclaimedAt = this.reclaimed.get(key)
      if (reclaimedAt !== undefined && reclaimedAt >= sent) {
        // Granted before the coordinator asked for this key back, received after: give it back at once.
        this.coordinator.notify('limit.return', { key, units: grant.granted, window: grant.window })
      } else {
        this.counters.leases++
        const endsAt = sent + grant.resetMs
        const held = this.leases.get(key)
        if (held !== undefined && held.window === grant.window && held.limit === limit) {
          held.units += grant.granted
          held.remaining = Math.min(held.remaining, grant.remaining)
        } else {
          this.leases.set(key, { units: grant.granted, limit, remaining: grant.remaining, endsAt, window: grant.window })
        }
      }
    }
    return { allowed: grant.allowed, limit: grant.limit, remaining: grant.remaining + (this.leases.get(key)?.units ?? 0), resetMs: grant.resetMs }
  }

  // null: the tier is off.
  private limitOf (tier: Exclude<Tier, 'exempt'>, byAddress: boolean): number | null {
    const base = tier === 'auth' ? this.config.rateLimitAuth : tier === 'booking' ? this.config.rateLimitBooking : this.config.rateLimitDefault
    if (base === null) return null
    // Clinics sit behind carrier NAT: many patients may share one address, so address keys may get more room.
    // The counters hold at most MAX_LIMIT per window; a factor must not push a valid limit past it.
    return byAddress ? Math.min(MAX_LIMIT, Math.max(1, Math.round(base * this.config.rateLimitIpFactor))) : base
  }

  // The authenticated actor when there is one (a valid admin, secretary or patient token; the signature check is a
  // cheap HMAC, and nothing else is looked up), else the client address. In both AUTH_MODEs: patients behind one
  // carrier NAT then stop sharing one bucket as soon as their app sends its token.
  private keyOf (request: Request, tier: Exclude<Tier, 'exempt'>): { key: string, byAddress: boolean } {
    // The auth tier counts by address only: anyone can mint a patient token (registration), and a fresh token must
    // not buy a fresh bucket for password guessing.
    if (tier === 'auth') return { key: `ip:${clientAddress(request, this.config.trustProxyHops)}`, byAddress: true }
    const token = bearerToken(request.headers.get('authorization'))
    if (token !== null) {
      const verified = verifyToken(this.config.jwtSecret, token)
      if (verified.ok) return { key: bucketOf(verified.claims.type, verified.claims.sub), byAddress: false }
    }
    return { key: `ip:${clientAddress(request, this.config.trustProxyHops)}`, byAddress: true }
  }

  async check (request: Request, tier: Tier): Promise<Reply | null> {
    if (tier === 'exempt') return null
    const { key, byAddress } = this.keyOf(request, tier)
    const limit = this.limitOf(tier, byAddress)
    if (limit === null) return null
    const counterKey = `${tier}|${key}`
    let result: LimitResult | null = this.leasing ? this.spend(counterKey, limit, performance.now()) : null
    try {
      result ??= this.leasing ? await this.take(counterKey, limit) : await this.coordinator.call('limit.hit', { key: counterKey, limit })
    } catch (error) {
      if (!(error instanceof CoordinatorUnavailable)) throw error
      this.counters.local++
      result = this.local.hit(counterKey, localShare(limit, this.config.webConcurrency))
    }
    const decision: RateDecision = { ...result, tier }
    request.rateLimit = decision
    this.observe?.(tier, decision.allowed)
    return decision.allowed ? null : tooMany(decision)
  }
}

// X-RateLimit-* as the v2 note promised, and the IETF RateLimit-Policy / RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers), on every limited response, 429 included.
export function rateLimitHeaders (request: Request, headers: Record<string, string>): void {
  const decision = request.rateLimit
  if (decision === undefined) return
  const resetSeconds = Math.max(0, Math.ceil(decision.resetMs / 1000))
  // The policy and limit texts are the same for every request of a tier: built once (profiles showed these strings).
  const policyKey = `${decision.tier}:${decision.limit}`
  let fixed = policies.get(policyKey)
  if (fixed === undefined) policies.set(policyKey, fixed = { limit: String(decision.limit), policy: `"${decision.tier}";q=${decision.limit};w=${WINDOW_SECONDS}`, prefix: `"${decision.tier}";r=` })
  headers['X-RateLimit-Limit'] = fixed.limit
  headers['X-RateLimit-Remaining'] = String(decision.remaining)
  headers['X-RateLimit-Reset'] = String(Math.floor(Date.now() / 1000) + resetSeconds)
  headers['RateLimit-Policy'] = fixed.policy
  headers.RateLimit = `${fixed.prefix}${decision.remaining};t=${resetSeconds}`
}

const policies = new Map<string, { limit: string, policy: string, prefix: string }>()
