import { z } from 'zod'
import { patientErrors } from '../../src/errors.ts'
import { isEmail } from '../../src/auth/admins.ts'
import { ADMINS_ONLY } from '../../src/auth/actors.ts'
import { insertLegacyPatient, legacyPatients } from '../../src/patients/store.ts'
import { json } from '../http.ts'
import type { WorkerContext } from '../context.ts'
import { defineRoute, type DocumentedRoute } from './define.ts'

// POST/GET /patients (legacy-api.md §2.1): the first version's patient list, a name and an e-mail, which nothing
// else reads. Legacy left both open; a list of names and e-mails takes the app secret (an admin in strict mode).

const patient = z.object({ id: z.number().int(), name: z.string(), email: z.string() })

const createBody = z.object({
  name: z.string().max(200),
  // pydantic's EmailStr: a plausible address, or its 422.
  email: z.string().max(320).refine(isEmail, 'value is not a valid email address')
})

export function legacyPatientRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/patients',
      summary: 'Add to the legacy patient list (name, e-mail)',
      auth: 'secret',
      body: createBody,
      example: { name: 'زينب علي', email: 'zainab@example.com' },
      scope: { actors: ADMINS_ONLY },
      responses: { 200: patient },
      errors: [patientErrors.legacyEmailTaken],
      handler: async ({ body }) => {
        const row = await ctx.db.run((sql) => insertLegacyPatient(sql, body.name, body.email))
        if (row === null) throw patientErrors.legacyEmailTaken()
        return json(200, row)
      }
    }),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/patients',
      summary: 'The legacy patient list',
      auth: 'secret',
      scope: { actors: ADMINS_ONLY },
      responses: { 200: z.array(patient) },
      handler: async () => json(200, await ctx.db.run(legacyPatients))
    })
  ]
}
