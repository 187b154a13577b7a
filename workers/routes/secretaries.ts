import { z } from 'zod'
import { authErrors, secretaryErrors } from '../../src/errors.ts'
import { secretaryCode } from '../../src/domain/identifiers.ts'
import { capacityFromProfile } from '../../src/domain/queue.ts'
import { SECRETARIES, secretaryToken } from '../../src/auth/actors.ts'
import {
  codeInRange, createSecretary, secretaryByCode, secretaryLogin, secretaryStanding, setSecretaryActive
} from '../../src/secretaries/store.ts'
import { json } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { defineRoute, field } from './define.ts'

// Secretaries (legacy-api.md §2.7 secretary_code_generator, §2.8). A secretary "logs in" with the 6-digit code a
// doctor generated for it. The login answers an actor token too (AUTH_MODE=strict needs it on every app route).
// SQL in src/secretaries/store.ts.

// The legacy "S-" prefix means the login code on input but the clinic id on output (§2.8); both are kept.
const displayId = (clinicId: number): string => `S-${clinicId}`

const codeBody = z.object({
  clinic_id: field.id('clinic_id'),
  doctor_name: z.string().max(200),
  secretary_name: z.string().max(200),
  created_date: z.string().max(100) // free text as the app formats it, e.g. "10/07/2025 10:00 am"
})

const loginBody = z.object({ secretary_code: field.id('secretary_code') })

// The documented answer of a login (OpenAPI only): the legacy fields, then our additive token.
const loginReply = z.object({
  status: z.literal('successfuly'),
  clinic_id: z.number().int(),
  secretary_id: z.string().describe('S-<clinic_id>'),
  doctor_name: z.string().nullable(),
  secretary_name: z.string().nullable(),
  created_date: z.string().nullable(),
  receiving_patients: z.union([z.number(), z.string()]).nullable().describe("the doctor's daily capacity, as the profile holds it"),
  access_token: z.string().describe('secretary actor token (additive; required in AUTH_MODE=strict)'),
  token_type: z.literal('bearer')
})

const codeReply = z.object({ secretary_id: z.number().int().describe('the new 6-digit login code'), result: z.literal('successfuly') })

const secretaryReply = z.object({
  secretary_id: z.string().describe('S-<clinic_id>'),
  clinic_id: z.number().int(),
  active_code: z.number().int(),
  secretary_name: z.string().nullable(),
  created_date: z.string().nullable(),
  secretary_status: z.boolean()
})

const toggleReply = z.object({
  message: z.enum(['تم تفعيل السكرتير بنجاح', 'تم تعطيل السكرتير بنجاح']),
  secretary_id: z.number().int(),
  clinic_id: z.number().int(),
  secretary_status: z.boolean()
})

// The legacy handler took a raw dict and answered its own 400s; the checks stay in the handler for that reason.
const toggleBody = z.object({
  secretary_id: z.unknown().optional(), // int, "S-<code>" or "<code>"
  secretary_status: z.unknown().optional() // a JSON boolean, nothing else
})

// Legacy tested Python truthiness first: a missing, empty or zero id is "required", not "invalid".
function isMissing (raw: unknown): boolean {
  return raw === undefined || raw === null || raw === '' || raw === 0 || raw === false
}

function parseToggleId (raw: unknown): number | null {
  if (typeof raw !== 'number' && typeof raw !== 'string') throw secretaryErrors.idType()
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) throw secretaryErrors.badId()
    return codeInRange(raw)
  }
  const code = secretaryCode(raw)
  if (code === null) throw secretaryErrors.badId()
  return codeInRange(code)
}

export function secretaryRoutes (ctx: WorkerContext): RouteDef[] {
  // The clinic of the secretary a request names by code, for the actor rules; none when no such secretary exists.
  const clinicOfCode = async (code: number | null): Promise<number | null> => {
    if (code === null) return null
    return (await ctx.db.run((sql) => secretaryStanding(sql, code)))?.clinic_id ?? null
  }
  // As parseToggleId, without its 400s: a request the rules cannot read is the handler's to refuse.
  const namedCode = (raw: unknown): number | null => {
    const code = secretaryCode(raw)
    return code === null ? null : codeInRange(code)
  }

  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/secretary_code_generator',
      summary: 'Create a secretary for a clinic and return its new 6-digit login code',
      auth: 'secret',
      mirror: true,
      tier: 'auth', // it mints a credential
      body: codeBody,
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
      example: { clinic_id: 7, doctor_name: 'د. علي حسن الجبوري', secretary_name: 'مريم كاظم', created_date: '10/07/2025 10:00 am' },
      responses: { 200: codeReply },
      errors: [secretaryErrors.codesExhausted],
      handler: async ({ body }) => {
        const code = await ctx.db.run((sql) => createSecretary(sql, {
          clinicId: body.clinic_id, doctorName: body.doctor_name, secretaryName: body.secretary_name, createdDate: body.created_date
        }))
        return json(200, { secretary_id: code, result: 'successfuly' })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/secretary_login_code',
      summary: 'Secretary login with its 6-digit code; answers the clinic and its daily capacity',
      auth: 'secret',
      mirror: true,
      // A guessed code is a token that reads a whole clinic's patients: the auth tier by address (an actor token
      // buys no allowance here), and wrong codes count towards a lockout of the address. Per address, since the
      // legacy body names only the code: a wrong guess belongs to no clinic.
      tier: 'auth',
      body: loginBody,
      scope: { signIn: true },
      example: { secretary_code: 482913 },
      responses: { 200: loginReply },
      errors: [secretaryErrors.codeNotFound, secretaryErrors.disabled, authErrors.lockedOut],
      handler: async ({ body, request }) => {
        const address = ctx.lockouts.address(request)
        await ctx.lockouts.guard('secretary-code', address)
        const row = await ctx.db.run((sql) => secretaryLogin(sql, body.secretary_code))
        if (row === null) {
          await ctx.lockouts.failed('secretary-code', address, request)
          throw secretaryErrors.codeNotFound()
        }
        if (!row.is_active) throw secretaryErrors.disabled()
        return json(200, {
          status: 'successfuly',
          clinic_id: row.clinic_id,
          secretary_id: displayId(row.clinic_id),
          doctor_name: row.doctor_name,
          secretary_name: row.secretary_name,
          created_date: row.created_date,
          receiving_patients: row.receiving_patients ?? capacityFromProfile({ general_info: row.general_info }),
          access_token: secretaryToken(ctx.config.jwtSecret, row.code, row.clinic_id), // additive
          token_type: 'bearer'
        })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctor/secretary/:id',
      summary: 'A secretary by its login code (S-<code> or <code>)',
      auth: 'secret',
      mirror: true,
      scope: { actors: SECRETARIES, clinicId: ({ params }) => clinicOfCode(namedCode(params[0] ?? '')) },
      responses: { 200: secretaryReply },
      errors: [secretaryErrors.badId, secretaryErrors.notFound],
      handler: async ({ params }) => {
        const parsed = secretaryCode(params[0] ?? '')
        if (parsed === null) throw secretaryErrors.badId()
        const code = codeInRange(parsed)
        if (code === null) throw secretaryErrors.notFound()
        const row = await ctx.db.run((sql) => secretaryByCode(sql, code))
        if (row === null) throw secretaryErrors.notFound()
        return json(200, {
          secretary_id: displayId(row.clinic_id),
          clinic_id: row.clinic_id,
          active_code: row.code,
          secretary_name: row.secretary_name,
          created_date: row.created_date,
          secretary_status: row.is_active
        })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/doctor/secretary/toggle-status',
      summary: 'Enable or disable a secretary (a disabled secretary cannot log in)',
      auth: 'secret',
      mirror: true,
      body: toggleBody,
      scope: { actors: SECRETARIES, clinicId: ({ body }) => clinicOfCode(namedCode(body.secretary_id)) },
      example: { secretary_id: 'S-482913', secretary_status: false },
      responses: { 200: toggleReply },
      errors: [secretaryErrors.idRequired, secretaryErrors.statusNotBool, secretaryErrors.idType, secretaryErrors.badId, secretaryErrors.notFound],
      handler: async ({ body }) => {
        // The legacy order of checks, so each bad request gets the message it got before.
        if (isMissing(body.secretary_id)) throw secretaryErrors.idRequired()
        const status = body.secretary_status
        if (typeof status !== 'boolean') throw secretaryErrors.statusNotBool()
        const code = parseToggleId(body.secretary_id)
        if (code === null) throw secretaryErrors.notFound()
        const row = await ctx.db.run((sql) => setSecretaryActive(sql, code, status))
        if (row === null) throw secretaryErrors.notFound()
        return json(200, {
          message: row.is_active ? 'تم تفعيل السكرتير بنجاح' : 'تم تعطيل السكرتير بنجاح',
          secretary_id: row.code,
          clinic_id: row.clinic_id,
          secretary_status: row.is_active
        })
      }
    })
  ]
}
