import { z } from 'zod'
import type { Lane } from '../../../src/booking/days.ts'
import { bookingErrors } from '../../../src/errors.ts'
import { parseStatus, type BookingStatus } from '../../../src/domain/status.ts'
import type { WorkerContext } from '../../context.ts'
import { field } from '../define.ts'

// What the queue routes share. Both lanes have their reading, editing and archiving routes; only the paths and a
// few wire strings differ, listed here once.

export const paths = {
  regular: {
    days: '/api/booking_days', all: '/api/all_days', edit: '/api/edit_patient_booking', close: '/api/close_table',
    save: '/api/save_table', archives: '/api/booking_archives/:clinic_id', create: '/api/create_table', reopen: '/api/reopen_table'
  },
  golden: {
    days: '/api/booking_golden_days', all: '/api/all_days_golden', edit: '/api/edit_patient_gold_booking', close: '/api/close_table_gold',
    save: '/api/save_table_gold', archives: '/api/golden_booking_archives/:clinic_id', create: '/api/create_golden_table',
    reopen: '/api/reopen_table_gold'
  }
} as const

export const LANES: readonly Lane[] = ['regular', 'golden']

export const statusField = z.string().trim().min(1).max(64).transform((raw, ctx): { raw: string, status: BookingStatus } => {
  const status = parseStatus(raw)
  if (status === null) {
    ctx.addIssue({ code: 'custom', message: bookingErrors.unknownStatus.text(raw) })
    return z.NEVER
  }
  return { raw, status }
})

export const clinicQuery = z.object({ clinic_id: field.id('clinic_id') })

// A committed change to a lane, announced after the commit; the answer waits for it (WorkerContext.publishChange).
export async function publishLane (ctx: WorkerContext, lane: Lane, clinicId: number, version: number | null): Promise<void> {
  if (version !== null && version > 0) await ctx.publishChange({ topic: lane, clinicId, version })
}
