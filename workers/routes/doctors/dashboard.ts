import { z } from 'zod'
import { doctorErrors } from '../../../src/errors.ts'
import { isRecord } from '../../../src/domain/json.ts'
import { DEFAULT_PROFILE } from '../../../src/clinics/profile.ts'
import { createDoctor, deleteDoctor, patchDoctor, setDoctorStatus } from '../../../src/clinics/store.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import { announce, customShape, pathId, requireObjectBody, storable, unstorableMessage } from './wire.ts'
import { patchedReply, activeReply, deletedReply, createdReply } from './replies.ts'

// The dashboard's writes to doctors (legacy-api.md §2.7, mirrored under /backend): admin only (contract §2.12,
// where legacy left them open to anyone).

const accountStatus = z.preprocess(
  (v) => typeof v === 'string' ? (v.trim() === '' ? null : v.trim().toLowerCase()) : v,
  z.enum(['active', 'inactive'], { message: 'account.status must be active or inactive' }).nullable()
)

// PATCH and POST /api/doctors: any profile keys, plus `account`, which goes to the columns.
const dashboardBody = z.object({
  account: z.object({
    email: z.string({ message: 'account.email must be a string' }).max(320).nullable().optional(),
    phone: z.string({ message: 'account.phone must be a string' }).max(64).nullable().optional(),
    status: accountStatus.optional()
  }, { message: 'account must be an object' }).optional()
}).catchall(z.unknown()).refine(storable, unstorableMessage)

// POST /api/doctors takes {profile} or these keys at the top level (legacy's create_doctor).
const CREATE_KEYS = new Set(['general_info', 'clinic_location', 'clinic_phone_number', 'specializations'])

export function doctorDashboardRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    customShape(defineRoute(ctx, {
      method: 'patch',
      pattern: '/api/doctors/:id',
      summary: 'Merge into a doctor profile; account updates email, phone and status',
      auth: 'admin',
      mirror: true,
      body: dashboardBody,
      example: { general_info: { doctor_name: 'د. علي حسن الجبوري', receiving_patients: '٢٥' }, account: { email: 'ali@example.com', status: 'active' } },
      responses: { 200: patchedReply },
      errors: [doctorErrors.bodyNotObject, doctorErrors.clinicIdFixed, doctorErrors.notFound],
      handler: async ({ body, params, request }) => {
        requireObjectBody(request)
        const id = pathId(params[0], 'doctor_id')
        const { account, ...patch } = body
        await patchDoctor(ctx.db, id, patch, account ?? {})
        await announce(ctx, id)
        return json(200, { ok: true, id })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'patch',
      pattern: '/api/doctors/:id/status',
      summary: 'Activate or deactivate a doctor',
      auth: 'admin',
      mirror: true,
      body: z.object({ active: z.boolean({ message: 'active must be boolean' }) }, { message: 'the body must be a JSON object' }),
      example: { active: false },
      responses: { 200: activeReply },
      errors: [doctorErrors.notFound],
      handler: async ({ body, params }) => {
        const id = pathId(params[0], 'doctor_id')
        const row = await setDoctorStatus(ctx.db, id, body.active ? 'active' : 'inactive')
        if (row === null) throw doctorErrors.notFound()
        await announce(ctx, id)
        return json(200, { id, status: row.status === 'active' ? 'Active' : 'Inactive' })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'del',
      pattern: '/api/doctors/:id',
      summary: 'Delete a doctor',
      auth: 'admin',
      mirror: true,
      responses: { 200: deletedReply },
      errors: [doctorErrors.notFound],
      handler: async ({ params }) => {
        const id = pathId(params[0], 'doctor_id')
        if (!await deleteDoctor(ctx.db, id)) throw doctorErrors.notFound()
        await announce(ctx, id)
        return json(200, { message: 'deleted', id })
      }
    })),
    customShape(defineRoute(ctx, {
      method: 'post',
      pattern: '/api/doctors',
      summary: 'Create a doctor with the next free id',
      auth: 'admin',
      mirror: true,
      body: dashboardBody,
      example: {
        profile: { general_info: { doctor_name: 'د. سارة محمود', receiving_patients: '٣٠', clinic_state: 'البصرة' }, specializations: ['طب الأطفال'] },
        account: { email: 'sara@example.com', phone: '+9647711112222', status: 'active' }
      },
      responses: { 200: createdReply },
      errors: [doctorErrors.bodyNotObject, doctorErrors.clinicIdTaken, doctorErrors.clinicIdInvalid, doctorErrors.idExhausted],
      handler: async ({ body, request }) => {
        requireObjectBody(request)
        const { account, ...rest } = body
        const given = isRecord(rest['profile'])
          ? rest['profile']
          : Object.fromEntries(Object.entries(rest).filter(([key]) => CREATE_KEYS.has(key)))
        const id = await createDoctor(ctx.db, Object.keys(given).length === 0 ? DEFAULT_PROFILE : given, account ?? {})
        await announce(ctx, id)
        return json(200, { id })
      }
    }))
  ]
}
