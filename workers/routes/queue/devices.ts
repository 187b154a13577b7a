import { z } from 'zod'
import { PATIENTS } from '../../../src/auth/actors.ts'
import { DEFAULT_THRESHOLD, registerDevice } from '../../../src/push/store.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'

// A patient's phone, registered for push notifications (issue 15.5): when as many waiting bookings as its threshold
// (or fewer) are before the patient's booking today, and when its token is called. The coordinator sends them
// (coordinator/push.ts); without FCM credentials nothing is sent, which the answer and /health say.

const deviceBody = z.object({
  // AUTH_MODE=strict: the patient token's own (the route's patientField fills and checks it).
  patient_id: z.union([z.string(), z.number().int()], { message: 'patient_id is required (a patient token gives it in AUTH_MODE=strict)' })
    .transform(String).pipe(z.string().trim().min(1, 'patient_id must not be empty').max(64)),
  device_token: z.string({ message: 'device_token is required' }).trim().min(1, 'device_token must not be empty').max(4096),
  threshold: z.number({ message: 'threshold must be a whole number from 1 to 50' }).int('threshold must be a whole number from 1 to 50')
    .min(1, 'threshold must be a whole number from 1 to 50').max(50, 'threshold must be a whole number from 1 to 50').default(DEFAULT_THRESHOLD)
})

const deviceReply = z.object({
  patient_id: z.string(),
  device_token: z.string(),
  threshold: z.number().int(),
  push_enabled: z.boolean().describe('false when the server has no FCM credentials: nothing will be sent')
})

export function deviceRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'post', pattern: '/api/patient/device', auth: 'secret', body: deviceBody,
      example: { patient_id: 'P-71', device_token: 'fcm-registration-token-of-the-phone', threshold: 3 },
      summary: "Register a patient's phone for a push when its turn is near (threshold, default 3 ahead) and when it is called",
      scope: { actors: PATIENTS, patientField: 'patient_id', patientId: ({ body }) => body.patient_id },
      responses: { 200: deviceReply },
      handler: async ({ body }) => {
        const row = await ctx.db.run((sql) => registerDevice(sql, body.patient_id, body.device_token, body.threshold))
        return json(200, { patient_id: row.patient_ref, device_token: row.device_token, threshold: row.threshold, push_enabled: ctx.push.account !== null })
      }
    })
  ]
}
