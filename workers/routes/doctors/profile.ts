import { z } from 'zod'
import { doctorErrors } from '../../../src/errors.ts'
import { parseAccountId } from '../../../src/domain/identifiers.ts'
import { saveDoctorProfile } from '../../../src/clinics/store.ts'
import { doctorOfAccount } from '../../../src/accounts/store.ts'
import { DOCTORS, doctorToken } from '../../../src/auth/actors.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import { linkedDoctorReply, profile, profileCheckReply, profileSavedReply } from './replies.ts'
import { authErrors } from '../../../src/errors.ts'
import { announce, customShape, pathId, readClinic, storable, unstorableMessage, withAccountBlock } from './wire.ts'

// The doctor app's /doctor/profile rows (legacy-api.md §2.1), not mirrored under /backend.

const profileBody = z.record(z.string(), z.unknown(), { message: 'the body must be a JSON object' }).refine(storable, unstorableMessage)

export function doctorProfileRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    ...['/doctor/profile', '/doctor/profile.json'].flatMap((base) => [
      // The legacy singleton check validated a constant sample profile, so its answer is a constant.
      defineRoute(ctx, {
        method: 'get',
        pattern: base,
        summary: 'Legacy doctor-profile check',
        auth: 'none',
        responses: { 200: profileCheckReply },
        errors: [],
        handler: () => json(200, { status: 'success', message: 'Profile exists and valid' })
      }),
      customShape(defineRoute(ctx, {
        method: 'post',
        pattern: base,
        summary: 'Doctor profile upsert from the doctor app, wrapped ({json_profile, phone, user_server_id}) or raw',
        // contract §2.12: the doctor app sends the secret, the dashboard its token. Strict mode: the doctor's own
        // token (its clinic only; a doctor without one may create it) or an admin's, never the secret alone.
        auth: 'secret-or-admin',
        body: profileBody,
        scope: { actors: DOCTORS },
        example: {
          phone: '+9647701234567',
          user_server_id: 12,
          json_profile: {
            general_info: { clinic_id: 7, doctor_name: 'د. علي حسن الجبوري', receiving_patients: '٢٠', clinic_state: 'بغداد', experience_years: 12 },
            clinic_location: 'بغداد - المنصور، شارع 14 رمضان',
            clinic_phone_number: '+9647801234567',
            specializations: ['طب الأسنان']
          }
        },
        responses: { 200: profileSavedReply },
        errors: [doctorErrors.profilePhone, doctorErrors.profileClinicId, doctorErrors.unstorableText, authErrors.insufficient],
        handler: async ({ body, actor }) => {
          const doctor = actor?.kind === 'doctor' ? actor : null
          const clinicId = await saveDoctorProfile(ctx.db, body, { mayReactivate: actor?.kind === 'admin', doctor })
          await announce(ctx, clinicId)
          // A doctor who just created its clinic gets a token for it (additive): the one it holds names none.
          const fresh = doctor !== null && doctor.clinicId === null
            ? { access_token: doctorToken(ctx.config.jwtSecret, doctor.accountId, clinicId), token_type: 'bearer' }
            : {}
          return json(200, { message: 'success', ...fresh })
        }
      })),
      customShape(defineRoute(ctx, {
        method: 'get',
        pattern: `${base}/:doctor_id`,
        summary: 'A doctor profile as stored, with its account block (e-mail, phone, licence number)',
        auth: 'secret-or-admin', // legacy: open to anyone, personal data included
        responses: { 200: profile },
        errors: [doctorErrors.notFound],
        handler: async ({ params }) => json(200, withAccountBlock(await readClinic(ctx, pathId(params[0], 'doctor_id')), false))
      }))
    ]),
    customShape(defineRoute(ctx, {
      method: 'get',
      pattern: '/doctor/profile/by-user/:user_server_id',
      summary: 'The doctor linked to a phone account (its e-mail and phone)',
      auth: 'secret-or-admin', // legacy: open to anyone
      responses: { 200: linkedDoctorReply },
      errors: [doctorErrors.notLinked, doctorErrors.notFound],
      handler: async ({ params }) => {
        const accountId = pathId(params[0], 'user_server_id', parseAccountId)
        const doctorId = await ctx.db.run((sql) => doctorOfAccount(sql, accountId))
        if (doctorId === null) throw doctorErrors.notLinked()
        const row = await readClinic(ctx, doctorId)
        return json(200, { id: row.id, name: row.name, email: row.email, phone: row.phone, specialty: row.specialty, status: row.status })
      }
    }))
  ]
}
