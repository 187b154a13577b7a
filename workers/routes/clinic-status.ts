import { z } from 'zod'
import { platformErrors } from '../../src/errors.ts'
import { isRecord } from '../../src/domain/json.ts'
import { ADMINS_ONLY, SECRETARIES } from '../../src/auth/actors.ts'
import { json } from '../http.ts'
import type { RouteDef, WorkerContext } from '../context.ts'
import { defineRoute, field } from './define.ts'

// Clinic open/closed flag, the platform's own contact info and the maintenance banner (legacy-api.md §2.11).

// The platform's own info lives in the profile of clinic 1, as it did in doctor 1's profile_json.
const PLATFORM_CLINIC_ID = 1
const CLINIC_INFO_KEYS = ['clinic_name', 'address', 'email', 'phone', 'website'] as const

const DEFAULT_MAINTENANCE_MESSAGE = 'نعتذر عن هذا التوقف في السيرفر, لاغراض الصيانة, سوف يتم اعادة العمل خلال مدة قصيرة جدا.. شكرا لتفهمكم.'

const closeBody = z.object({ clinic_id: field.id('clinic_id'), is_closed: field.bool() })
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
  server_disable: field.bool(),
  message: z.string().max(2000).nullish()
})

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
      handler: async ({ body }) => {
        // The flag lives on the clinic row that booking reads; a clinic without a profile yet gets a bare row.
        const [row] = await ctx.db.run((sql) => sql<Array<{ id: number, is_closed: boolean }>>`
          INSERT INTO clinics (id, is_closed) VALUES (${body.clinic_id}, ${body.is_closed})
          ON CONFLICT (id) DO UPDATE SET is_closed = EXCLUDED.is_closed, updated_at = now()
          RETURNING id, is_closed`)
        if (row === undefined) throw new Error('close_clinic upsert returned no row')
        await clinicChanged(row.id)
        return json(200, { clinic_id: row.id, is_closed: row.is_closed })
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
      handler: async ({ query }) => {
        const [row] = await ctx.db.run((sql) => sql<Array<{ is_closed: boolean }>>`
          SELECT is_closed FROM clinics WHERE id = ${query.clinic_id}`)
        return json(200, { clinic_id: query.clinic_id, is_closed: row?.is_closed ?? false })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/clinic/info',
      summary: "Update the platform's contact info (clinic 1)",
      auth: 'secret',
      body: infoBody,
      scope: { actors: ADMINS_ONLY }, // the platform's own contact info, not a clinic's
      handler: async ({ body }) => {
        const patch: Record<string, string> = {}
        for (const key of CLINIC_INFO_KEYS) {
          const value = body[key]
          if (value !== undefined) patch[key] = value
        }
        // Merged inside one UPDATE, so two partial saves at once cannot drop each other's keys.
        const [row] = await ctx.db.run((sql) => sql<Array<{ clinic_info: unknown }>>`
          UPDATE clinics SET
            profile = jsonb_set(
              CASE WHEN jsonb_typeof(profile) = 'object' THEN profile ELSE '{}'::jsonb END,
              '{clinic_info}',
              CASE WHEN jsonb_typeof(profile -> 'clinic_info') = 'object' THEN profile -> 'clinic_info' ELSE '{}'::jsonb END
                || ${sql.json(patch)}::jsonb),
            updated_at = now()
          WHERE id = ${PLATFORM_CLINIC_ID}
          RETURNING profile -> 'clinic_info' AS clinic_info`)
        if (row === undefined) throw platformErrors.infoClinicMissing()
        await clinicChanged(PLATFORM_CLINIC_ID)
        return json(200, { success: true, message: 'تم حفظ معلومات العيادة بنجاح', clinic_info: row.clinic_info })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/clinic/info',
      summary: "The platform's contact info (clinic 1); a field never set is an empty string",
      auth: 'secret',
      handler: async () => {
        const [row] = await ctx.db.run((sql) => sql<Array<{ clinic_info: unknown }>>`
          SELECT profile -> 'clinic_info' AS clinic_info FROM clinics WHERE id = ${PLATFORM_CLINIC_ID}`)
        if (row === undefined) throw platformErrors.infoClinicMissing()
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
      handler: async ({ body }) => {
        // Omitted → the default apology; an explicit null → no message, as legacy answered "".
        const message = body.message === undefined ? DEFAULT_MAINTENANCE_MESSAGE : body.message ?? ''
        const [row] = await ctx.db.run((sql) => sql<Array<{ is_active: boolean, message: string }>>`
          INSERT INTO maintenance (id, is_active, message) VALUES (1, ${body.server_disable}, ${message})
          ON CONFLICT (id) DO UPDATE SET is_active = EXCLUDED.is_active, message = EXCLUDED.message, updated_at = now()
          RETURNING is_active, message`)
        if (row === undefined) throw new Error('maintenance upsert returned no row')
        return json(200, { server_disable: row.is_active, message: row.message })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/maintenance/status',
      summary: 'The maintenance banner the apps poll',
      auth: 'secret',
      handler: async () => {
        const [row] = await ctx.db.run((sql) => sql<Array<{ is_active: boolean, message: string }>>`
          SELECT is_active, message FROM maintenance WHERE id = 1`)
        return json(200, { server_disable: row?.is_active ?? false, message: row?.message ?? '' })
      }
    })
  ]
}
