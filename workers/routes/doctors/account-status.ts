import { z } from 'zod'
import { doctorErrors, errors } from '../../../src/errors.ts'
import { findClinic, setDoctorStatus } from '../../../src/clinics/store.ts'
import { SECRETARIES } from '../../../src/auth/actors.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, field, type DocumentedRoute } from '../define.ts'
import { announce, pathId } from './wire.ts'
import { statusSetReply, statusReply } from './replies.ts'

// The doctor half of account_status (legacy-api.md §2.10): FastAPI-style errors, not mirrored.

export function doctorStatusRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/doctor/status',
      summary: 'Activate or deactivate a doctor (dashboard)',
      auth: 'secret',
      // Strict mode: the clinic's own secretary or doctor may switch it off; only an admin brings a doctor back.
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.doctor_id, adminAction: ({ body }) => body.is_active },
      body: z.object({ doctor_id: field.id('doctor_id'), is_active: field.bool('is_active') }),
      example: { doctor_id: 7, is_active: false },
      responses: { 200: statusSetReply },
      errors: [doctorErrors.statusNotFound],
      handler: async ({ body }) => {
        const row = await setDoctorStatus(ctx.db, body.doctor_id, body.is_active ? 'active' : 'inactive')
        if (row === null) throw doctorErrors.statusNotFound()
        await announce(ctx, row.id)
        const message = body.is_active ? 'تم تفعيل الدكتور بنجاح' : 'تم إيقاف الدكتور بنجاح'
        return json(200, { id: row.id, name: row.name, status: row.status, message })
      }
    }),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/doctor/:doctor_id/status',
      summary: 'A doctor’s status',
      auth: 'secret',
      responses: { 200: statusReply },
      errors: [doctorErrors.statusNotFound, errors.validation],
      handler: async ({ params }) => {
        const row = await ctx.db.run((sql) => findClinic(sql, pathId(params[0], 'doctor_id')))
        if (row === null) throw doctorErrors.statusNotFound()
        return json(200, { doctor_id: row.id, name: row.name, status: row.status, is_active: row.status === 'active' })
      }
    })
  ]
}
