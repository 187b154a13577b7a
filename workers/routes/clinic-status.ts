import { z } from 'zod'
import { platformErrors } from '../../src/errors.ts'
import { isRecord } from '../../src/domain/json.ts'
import { ADMINS_ONLY, SECRETARIES } from '../../src/auth/actors.ts'
import { isClinicClosed, setClinicClosed } from '../../src/clinics/store.ts'
import {
  CLINIC_INFO_KEYS, PLATFORM_CLINIC_ID, maintenance, platformInfo, savePlatformInfo, setMaintenance, type ClinicInfo
} from '../../src/platform/store.ts'
import { json } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { defineRoute, field } from './define.ts'

// Clinic open/closed flag, the platform's own contact info and the maintenance banner (legacy-api.md §2.11). SQL in
// src/clinics/store.ts and src/platform/store.ts.

const DEFAULT_MAINTENANCE_MESSAGE = 'نعتذر عن هذا التوقف في السيرفر, لاغراض الصيانة, سوف يتم اعادة العمل خلال مدة قصيرة جدا.. شكرا لتفهمكم.'

const closeBody = z.object({ clinic_id: field.id('clinic_id'), is_closed: field.bool('is_closed') })
const closeQuery = z.object({ clinic_id: field.id('clinic_id') })

const infoText = z.string().max(500)
// Partial update: only the keys sent are changed, the others keep their stored value.
const infoBody = z.object({
  clinic_name: infoText.optional(),
  address: infoText.optional(),
  email: infoText.optional(),
  phone: infoText.optional(),
  website: infoText.optional()
})

const maintenanceBody = z.object({
  server_disable: field.bool('server_disable'),
  message: z.string().max(2000).nullish()
})

// The documented answers (OpenAPI only).
const closedReply = z.object({ clinic_id: z.number().int(), is_closed: z.boolean() })
const infoFields = z.object({ clinic_name: z.string(), address: z.string(), email: z.string(), phone: z.string(), website: z.string() })
const infoSavedReply = z.object({ success: z.literal(true), message: z.literal('تم حفظ معلومات العيادة بنجاح'), clinic_info: infoFields.partial() })
const infoReply = infoFields.extend({ clinic_id: z.literal(PLATFORM_CLINIC_ID) })
const maintenanceReply = z.object({ server_disable: z.boolean(), message: z.string() })

export function clinicStatusRoutes (ctx: WorkerContext): RouteDef[] {
  const clinicChanged = (clinicId: number): Promise<void> => ctx.publishChange({ topic: 'clinic', clinicId, version: Date.now() })

  return [
    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/close_clinic',
      summary: 'Close or reopen a clinic (patient-app bookings are refused while it is closed)',
      auth: 'secret',
      mirror: true,
      body: closeBody,
      scope: { actors: SECRETARIES, clinicId: ({ body }) => body.clinic_id },
      example: { clinic_id: 7, is_closed: true },
      responses: { 200: closedReply },
      errors: [],
      handler: async ({ body }) => {
        const closed = await ctx.db.run((sql) => setClinicClosed(sql, body.clinic_id, body.is_closed))
        await clinicChanged(body.clinic_id)
        return json(200, { clinic_id: body.clinic_id, is_closed: closed })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/close_clinic',
      summary: 'Whether a clinic is closed (a clinic never closed is open)',
      auth: 'secret',
      mirror: true,
      query: closeQuery,
      scope: { clinicId: ({ query }) => query.clinic_id }, // patients may ask whether any clinic is open
      responses: { 200: closedReply },
      errors: [],
      handler: async ({ query }) => json(200, { clinic_id: query.clinic_id, is_closed: await ctx.db.run((sql) => isClinicClosed(sql, query.clinic_id)) })
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/clinic/info',
      summary: "Update the platform's contact info (clinic 1)",
      auth: 'secret',
      body: infoBody,
      scope: { actors: ADMINS_ONLY }, // the platform's own contact info, not a clinic's
      example: { clinic_name: 'طبيبي', address: 'بغداد - المنصور', email: 'info@tabeby.app', phone: '+9647801234567', website: 'https://tabeby.app' },
      responses: { 200: infoSavedReply },
      errors: [platformErrors.infoClinicMissing],
      handler: async ({ body }) => {
        const patch: ClinicInfo = {}
        for (const key of CLINIC_INFO_KEYS) {
          const value = body[key]
          if (value !== undefined) patch[key] = value
        }
        const row = await ctx.db.run((sql) => savePlatformInfo(sql, patch))
        if (row === null) throw platformErrors.infoClinicMissing()
        await clinicChanged(PLATFORM_CLINIC_ID)
        return json(200, { success: true, message: 'تم حفظ معلومات العيادة بنجاح', clinic_info: row.clinic_info })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/clinic/info',
      summary: "The platform's contact info (clinic 1); a field never set is an empty string",
      auth: 'secret',
      responses: { 200: infoReply },
      errors: [platformErrors.infoClinicMissing],
      handler: async () => {
        const row = await ctx.db.run(platformInfo)
        if (row === null) throw platformErrors.infoClinicMissing()
        const info = isRecord(row.clinic_info) ? row.clinic_info : {}
        const reply: Record<string, unknown> = { clinic_id: PLATFORM_CLINIC_ID }
        for (const key of CLINIC_INFO_KEYS) reply[key] = key in info ? info[key] : ''
        return json(200, reply)
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/maintenance/toggle',
      summary: 'Turn the maintenance banner on or off (advisory: the server keeps serving)',
      auth: 'secret',
      body: maintenanceBody,
      scope: { actors: ADMINS_ONLY },
      example: { server_disable: true, message: DEFAULT_MAINTENANCE_MESSAGE },
      responses: { 200: maintenanceReply },
      errors: [],
      handler: async ({ body }) => {
        // Omitted → the default apology; an explicit null → no message, as legacy answered "".
        const message = body.message === undefined ? DEFAULT_MAINTENANCE_MESSAGE : body.message ?? ''
        const row = await ctx.db.run((sql) => setMaintenance(sql, body.server_disable, message))
        return json(200, { server_disable: row.is_active, message: row.message })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/maintenance/status',
      summary: 'The maintenance banner the apps poll',
      auth: 'secret',
      responses: { 200: maintenanceReply },
      errors: [],
      handler: async () => {
        const row = await ctx.db.run(maintenance)
        return json(200, { server_disable: row?.is_active ?? false, message: row?.message ?? '' })
      }
    })
  ]
}
