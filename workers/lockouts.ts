import type { Config } from '../src/config.ts'
import { authErrors } from '../src/errors.ts'
import { log } from '../src/log.ts'
import { LockoutStore, type LockoutPolicy, type LockoutState } from '../src/rate-limit/lockout.ts'
import { CoordinatorUnavailable, type CoordinatorClient } from './coordinator-client.ts'
import type { Request } from './http.ts'
import { clientAddress } from './rate-limit.ts'

// The routes that test a guessable secret ask here before testing it (`guard`) and report each wrong guess
// (`failed`). The counts are the coordinator's, so a lockout holds on every worker at once; while it is away each
// worker counts alone (the lockout then takes up to WEB_CONCURRENCY times the failures).

// What a target is, in the log and in the store's keys: `<kind>:<value>`.
export type LockoutKind = 'admin-login' | 'staff-login' | 'recovery-login' | 'secretary-code' | 'golden-code'

export class Lockouts {
  private readonly local = new LockoutStore(10_000)
  private readonly policy: LockoutPolicy | null

  constructor (private readonly config: Config, private readonly coordinator: CoordinatorClient) {
    this.policy = config.authLockoutFailures === null ? null : { failures: config.authLockoutFailures, windowMs: config.authLockoutSeconds * 1000 }
  }

  address (request: Request): string {
    return clientAddress(request, this.config.trustProxyHops)
  }

  // Throws the lockout's 429 while the target is locked, whatever the secret sent with it.
  async guard (kind: LockoutKind, target: string): Promise<void> {
    if (this.policy === null) return
    const key = `${kind}:${target}`
    let retryMs: number
    try {
      retryMs = (await this.coordinator.call('lockout.check', { key })).retryMs
    } catch (error) {
      if (!(error instanceof CoordinatorUnavailable)) throw error
      retryMs = this.local.check(key)
    }
    if (retryMs > 0) throw authErrors.lockedOut(Math.max(1, Math.ceil(retryMs / 1000)))
  }

  // A wrong guess on the target; the one that starts a lockout is logged, with the address it came from.
  async failed (kind: LockoutKind, target: string, request: Request): Promise<void> {
    if (this.policy === null) return
    const key = `${kind}:${target}`
    let state: LockoutState
    try {
      state = await this.coordinator.call('lockout.fail', { key, policy: this.policy })
    } catch (error) {
      if (!(error instanceof CoordinatorUnavailable)) throw error
      state = this.local.fail(key, this.policy)
    }
    if (state.locked) {
      log.warn('sign-in target locked after repeated failures', {
        kind, target, address: this.address(request), failures: this.policy.failures, lockedSeconds: this.config.authLockoutSeconds
      })
    }
  }
}
