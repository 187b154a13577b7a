import { isRecord } from '../../../src/domain/json.ts'
import { specialtyView } from '../../../src/clinics/profile.ts'
import { listedClinics, valuesInUse } from '../../../src/clinics/directory.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import { clinicsReply, lookupReply } from './replies.ts'

// The lists the apps build their pickers from (legacy-api.md §2.7, mirrored under /backend): the specialties and
// states in use, and the patient app's list of clinics.

export function clinicListRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    ...([['/api/lookups/specialties', 'specialty'], ['/api/lookups/clinic-states', 'clinic_state']] as const).map(([pattern, column]) => defineRoute(ctx, {
      method: 'get',
      pattern,
      summary: `Every ${column} in use, once, sorted`,
      auth: 'none',
      mirror: true,
      responses: { 200: lookupReply },
      errors: [],
      handler: async () => json(200, { items: await ctx.db.run((sql) => valuesInUse(sql, column)) })
    })),
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/clinics',
      summary: 'Every clinic with its main specialty only',
      auth: 'secret',
      mirror: true,
      responses: { 200: clinicsReply },
      errors: [],
      handler: async () => {
        const rows = await ctx.db.run(listedClinics)
        return json(200, rows.map((row) => {
          const info = isRecord(row.profile['general_info']) ? row.profile['general_info'] : {}
          const doctorName = info['doctor_name']
          return {
            clinic_id: row.id,
            doctor_name: typeof doctorName === 'string' && doctorName !== '' ? doctorName : row.name,
            status: row.status,
            ...(row.image_url === null ? {} : { profile_image_URL: row.image_url }),
            ...(row.clinic_state === null ? {} : { state: row.clinic_state }),
            // The additions are left out of this list: the patient app shows the main specialty only.
            specializations: specialtyView(row.profile).specializations
          }
        }))
      }
    })
  ]
}
