import { z } from 'zod'
import { accountOf, type DashboardActor } from '../../src/auth/actors.ts'
import { passwordHashOf, replacePassword } from '../../src/auth/credentials.ts'
import { adminRole } from '../../src/auth/permissions.ts'
import { endSessions, openSession, type Account, type SessionTokens } from '../../src/auth/sessions.ts'
import { deviceOf, EVENTS, recordActivity, rememberDevice, type ActivityEntry } from '../../src/activity/store.ts'
import { errorFields, log } from '../../src/log.ts'
import { authErrors, errors, staffErrors } from '../../src/errors.ts'
import { field } from './define.ts'
import type { Request } from '../http.ts'
import type { WorkerContext } from '../context.ts'

// What the dashboard's routes share: the signed-in account's legacy shape (AdminOut), a login that records a new
// device, the end of every session of an account, and the activity entries the server writes on real events.

// AdminOut (legacy-api.md §2.2 /auth/me, §2.3 /users/me), for an admin or a staff member: the caller's own effective
// permissions, in the universe's order.
export function meOf (actor: DashboardActor): Record<string, unknown> {
  return {
    id: actor.id,
    name: actor.name,
    email: actor.email,
    is_active: true, // the guard refuses inactive accounts
    is_superuser: actor.kind === 'admin' && actor.isSuperuser,
    two_factor_enabled: false,
    is_admin: actor.kind === 'admin',
    is_staff: actor.kind === 'staff',
    role: actor.kind === 'admin' ? adminRole(actor.isSuperuser) : actor.roleKey ?? 'staff',
    permissions: [...actor.permissions]
  }
}

export const adminOut = z.object({
  id: z.number().int(),
  name: z.string(),
  email: z.string(),
  is_active: z.boolean(),
  is_superuser: z.boolean(),
  two_factor_enabled: z.literal(false),
  is_admin: z.boolean(),
  is_staff: z.boolean(),
  role: z.string(),
  permissions: z.array(z.string())
})

export const message = z.object({ message: z.string() })

const MAX_USER_AGENT = 256

export const userAgentOf = (request: Request): string | null => request.headers.get('user-agent')?.slice(0, MAX_USER_AGENT) ?? null

// An activity the request does not wait for (a failed login must cost what a successful one does; a record that
// could not be written is logged, and the request it describes still happened).
export function recordInBackground (ctx: WorkerContext, account: Account, entry: ActivityEntry): void {
  ctx.db.run((sql) => recordActivity(sql, account, entry))
    .catch((error: unknown) => log.warn('activity not recorded', { event: entry.event, account: `${account.kind}:${account.id}`, ...errorFields(error) }))
}

/** A new session for the account, and a `login_new_device` entry when it logs in from a browser it had not used. */
export async function signIn (ctx: WorkerContext, account: Account, request: Request, detail: Record<string, unknown> = {}): Promise<SessionTokens> {
  const userAgent = userAgentOf(request)
  return await ctx.db.transaction(async (tx) => {
    const tokens = await openSession(tx, ctx.config.jwtSecret, account, { userAgent })
    if (await rememberDevice(tx, account, deviceOf(userAgent ?? undefined))) {
      await recordActivity(tx, account, { ...EVENTS.loginNewDevice, description: userAgent, detail: { ip: request.ip, ...detail } })
    }
    return tokens
  })
}

/** Every session of the actor ends now, on every worker, with the activity entry that says so. */
export async function endEverySession (ctx: WorkerContext, actor: DashboardActor, entry: ActivityEntry): Promise<void> {
  const account = accountOf(actor)
  const revoked = await ctx.db.transaction(async (tx) => {
    const families = await endSessions(tx, account)
    await recordActivity(tx, account, entry)
    return families
  })
  await ctx.sessions.publish(revoked)
}

// Legacy's naive UTC timestamps were our ISO-8601 with Z since version 1 (COMPATIBILITY.md); Dates render so.
export const iso = (date: Date | null): string | null => date === null ? null : date.toISOString()

// A path id as FastAPI parsed `{id}: int`: anything else is its 422.
export function pathId (raw: string | undefined, name = 'id'): number {
  const parsed = field.id(name).safeParse(raw)
  if (!parsed.success) throw errors.validation([{ loc: ['path', name], msg: `${name} must be a positive integer`, type: 'int_parsing' }])
  return parsed.data
}

// scrypt on the piscina pool, never on the event loop.
export const verifyPassword = async (ctx: WorkerContext, password: string, encoded: string): Promise<boolean> =>
  (await ctx.cpu.run({ kind: 'verifyPassword', password, encoded })).ok
export const hashPassword = async (ctx: WorkerContext, password: string): Promise<string> =>
  (await ctx.cpu.run({ kind: 'hashPassword', password })).encoded

/**
 * The signed-in account changes its own password (admins through /auth/change-password, staff there or through
 * /staff/password): its other sessions end, the one that proved the current password goes on.
 */
export async function changeOwnPassword (ctx: WorkerContext, actor: DashboardActor, currentPassword: string, newPassword: string): Promise<void> {
  const account = accountOf(actor)
  const current = await ctx.db.run((sql) => passwordHashOf(sql, account))
  if (current === null) throw actor.kind === 'staff' ? staffErrors.noPassword() : authErrors.adminUnavailable()
  if (!await verifyPassword(ctx, currentPassword, current)) throw authErrors.wrongPassword()
  const encoded = await hashPassword(ctx, newPassword)
  // Of two changes racing, only the first applies; the second is told its current password is not current.
  const revoked = await ctx.db.transaction(async (tx) => {
    const families = await replacePassword(tx, account, current, encoded, actor.token.family)
    if (families !== null) await recordActivity(tx, account, EVENTS.passwordChanged)
    return families
  })
  if (revoked === null) throw authErrors.wrongPassword()
  await ctx.sessions.publish(revoked)
}
