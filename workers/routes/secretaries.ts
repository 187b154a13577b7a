import { randomInt } from 'node:crypto'
import { z } from 'zod'
import { secretaryErrors } from '../../src/errors.ts'
import { secretaryCode } from '../../src/domain/identifiers.ts'
import { capacityFromProfile } from '../../src/domain/queue.ts'
import { SECRETARIES, secretaryToken } from '../../src/auth/actors.ts'
import { json } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { defineRoute, field } from './define.ts'

// Secretaries (legacy-api.md §2.7 secretary_code_generator, §2.8). A secretary "logs in" with the 6-digit code a
// doctor generated for it. The login answers an actor token too (AUTH_MODE=strict needs it on every app route).

const FIRST_CODE = 100_000
const LAST_CODE = 999_999
// 900 000 codes: a collision is rare until the table is nearly full; a few retries cover the unlucky draws.
const CODE_ATTEMPTS = 20

interface SecretaryRow {
  code: number
  clinic_id: number
  doctor_name: string | null
  secretary_name: string | null
  created_date: string | null
  is_active: boolean
}

// The legacy "S-" prefix means the login code on input but the clinic id on output (§2.8); both are kept.
const displayId = (clinicId: number): string => `S-${clinicId}`

const codeBody = z.object({
  clinic_id: field.id('clinic_id'),
  doctor_name: z.string().max(200),
  secretary_name: z.string().max(200),
  created_date: z.string().max(100) // free text as the app formats it, e.g. "10/07/2025 10:00 am"
})

const loginBody = z.object({ secretary_code: field.id('secretary_code') })

// The legacy handler took a raw dict and answered its own 400s; the checks stay in the handler for that reason.
const toggleBody = z.object({
  secretary_id: z.unknown().optional(), // int, "S-<code>" or "<code>"
  secretary_status: z.unknown().optional() // a JSON boolean, nothing else
})

// The code a request names, or null when it cannot name any secretary (so no query is needed to answer 404).
function codeInRange (code: number): number | null {
  return code >= FIRST_CODE && code <= LAST_CODE ? code : null
}

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
    const [row] = await ctx.db.run((sql) => sql<Array<{ clinic_id: number }>>`SELECT clinic_id FROM secretaries WHERE code = ${code}`)
    return row?.clinic_id ?? null
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
      body: codeBody,
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
      handler: async ({ body }) => {
        // Uniqueness is the constraint's job: a drawn code that already exists inserts nothing, and we draw again.
        for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
          const code = randomInt(FIRST_CODE, LAST_CODE + 1)
          const rows = await ctx.db.run((sql) => sql<Array<{ code: number }>>`
            INSERT INTO secretaries (code, clinic_id, doctor_name, secretary_name, created_date)
            VALUES (${code}, ${body.clinic_id}, ${body.doctor_name}, ${body.secretary_name}, ${body.created_date})
            ON CONFLICT (code) DO NOTHING
            RETURNING code`)
          const created = rows[0]
          if (created !== undefined) return json(200, { secretary_id: created.code, result: 'successfuly' })
        }
        throw secretaryErrors.codesExhausted()
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/secretary_login_code',
      summary: 'Secretary login with its 6-digit code; answers the clinic and its daily capacity',
      auth: 'secret',
      mirror: true,
      body: loginBody,
      scope: { signIn: true },
      handler: async ({ body }) => {
        // clinic_id is the clinics primary key (clinic_id == doctor id): one indexed join, never a scan of profiles.
        const [row] = await ctx.db.run((sql) => sql<Array<SecretaryRow & { receiving_patients: number | null, general_info: unknown }>>`
          SELECT s.code, s.clinic_id, s.doctor_name, s.secretary_name, s.created_date, s.is_active,
                 c.receiving_patients, c.profile -> 'general_info' AS general_info
          FROM secretaries s LEFT JOIN clinics c ON c.id = s.clinic_id
          WHERE s.code = ${body.secretary_code}`)
        if (row === undefined) throw secretaryErrors.codeNotFound()
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
      handler: async ({ params }) => {
        const parsed = secretaryCode(params[0] ?? '')
        if (parsed === null) throw secretaryErrors.badId()
        const code = codeInRange(parsed)
        if (code === null) throw secretaryErrors.notFound()
        const [row] = await ctx.db.run((sql) => sql<SecretaryRow[]>`
          SELECT code, clinic_id, doctor_name, secretary_name, created_date, is_active
          FROM secretaries WHERE code = ${code}`)
        if (row === undefined) throw secretaryErrors.notFound()
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
      handler: async ({ body }) => {
        // The legacy order of checks, so each bad request gets the message it got before.
        if (isMissing(body.secretary_id)) throw secretaryErrors.idRequired()
        const status = body.secretary_status
        if (typeof status !== 'boolean') throw secretaryErrors.statusNotBool()
        const code = parseToggleId(body.secretary_id)
        if (code === null) throw secretaryErrors.notFound()
        const [row] = await ctx.db.run((sql) => sql<Array<{ code: number, clinic_id: number, is_active: boolean }>>`
          UPDATE secretaries SET is_active = ${status} WHERE code = ${code}
          RETURNING code, clinic_id, is_active`)
        if (row === undefined) throw secretaryErrors.notFound()
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
