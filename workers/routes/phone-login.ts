import { z } from 'zod'
import { authErrors } from '../../src/errors.ts'
import { KeysUnavailable, type PhoneIdentity } from '../../src/auth/firebase.ts'
import { bearerToken } from '../../src/auth/tokens.ts'
import { doctorToken } from '../../src/auth/actors.ts'
import { normalizePhone } from '../../src/domain/identifiers.ts'
import { signInDoctor } from '../../src/accounts/store.ts'
import { json, type Request } from '../http.ts'
import type { WorkerContext } from '../context.ts'
import { defineRoute, type DocumentedRoute } from './define.ts'

// Firebase phone sign-in (legacy-api.md §2.1 after-phone-login). The apps sign a phone in with Firebase and send
// its ID token as `Authorization: Bearer`; the server verifies it (src/auth/firebase.ts) and trusts only the phone
// inside it. In AUTH_MODE=strict the registration routes take the same proof before they hand out a token.

export interface VerifiedPhone extends PhoneIdentity {
  phone: string // E.164, as normalizePhone writes it
}

/** The phone a request's Firebase ID token proves, or the legacy 401/400 (503 when it cannot be checked here). */
export async function verifiedPhone (ctx: WorkerContext, request: Request): Promise<VerifiedPhone> {
  if (ctx.phone === null) throw authErrors.phoneLoginUnconfigured()
  const token = bearerToken(request.headers.get('authorization'))
  if (token === null) throw authErrors.phoneTokenMissing()
  let verdict
  try {
    verdict = await ctx.phone.verify(token)
  } catch (error) {
    if (error instanceof KeysUnavailable) throw authErrors.phoneKeysUnavailable()
    throw error
  }
  if (!verdict.ok) throw authErrors.phoneTokenInvalid(verdict.reason)
  if (verdict.identity.phone === null) throw authErrors.phoneClaimMissing()
  const phone = normalizePhone(verdict.identity.phone)
  if (phone === null) throw authErrors.phoneClaimFormat()
  return { uid: verdict.identity.uid, phone }
}

const signedIn = z.object({
  doctor_id: z.number().int(),
  status: z.literal('phone_verified'),
  phone: z.string(),
  access_token: z.string().describe('doctor actor token (additive; AUTH_MODE=strict needs it)'),
  token_type: z.literal('bearer')
})

export function phoneLoginRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/auth/after-phone-login',
      summary: 'Doctor app sign-in with a Firebase ID token (Authorization: Bearer): its doctor and a doctor token',
      auth: 'none', // the Firebase ID token is the credential
      responses: { 200: signedIn },
      errors: [
        authErrors.phoneTokenMissing, authErrors.phoneTokenInvalid, authErrors.phoneClaimMissing, authErrors.phoneClaimFormat,
        authErrors.phoneDoctorNotFound, authErrors.phoneLoginUnconfigured, authErrors.phoneKeysUnavailable
      ],
      handler: async ({ request }) => {
        const { uid, phone } = await verifiedPhone(ctx, request)
        const doctor = await ctx.db.transaction((tx) => signInDoctor(tx, phone, uid))
        if (doctor === null) throw authErrors.phoneDoctorNotFound()
        return json(200, {
          doctor_id: doctor.doctorId,
          status: 'phone_verified',
          phone,
          access_token: doctorToken(ctx.config.jwtSecret, doctor.accountId, doctor.doctorId),
          token_type: 'bearer'
        })
      }
    })
  ]
}
