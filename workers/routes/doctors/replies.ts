import { z } from 'zod'

// The documented answers of the doctors routes (OpenAPI only). A profile is the doctor app's own JSON as it posted
// it (general_info, clinic_location, specializations, …), open beyond the keys named here.

const specialization = z.object({ id: z.number().int(), name: z.string() })
const specializations = z.array(z.union([specialization, z.string()]))

export const profile = z.looseObject({
  general_info: z.looseObject({}).optional().describe('doctor_name, clinic_id, receiving_patients (e.g. "٢٠"), …'),
  specializations: specializations.optional(),
  account: z.object({ email: z.string().nullable(), phone: z.string().nullable(), status: z.string() })
})

export const profileCheckReply = z.object({ status: z.literal('success'), message: z.literal('Profile exists and valid') })

export const profileSavedReply = z.object({
  message: z.literal('success'),
  access_token: z.string().optional().describe('a doctor who just created its clinic: a token naming it (additive)'),
  token_type: z.literal('bearer').optional()
})

export const doctorWithProfile = z.object({ id: z.number().int(), profile })

export const linkedDoctorReply = z.object({
  id: z.number().int(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  specialty: z.string().nullable(),
  status: z.string()
})

export const directoryReply = z.object({
  items: z.array(z.looseObject({
    id: z.number().int(),
    name: z.string().nullable(),
    image: z.string().nullable(),
    specialty: z.string().nullable(),
    status: z.string(),
    patients: z.number().int().nullable(),
    experience: z.number().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    specializations: z.array(specialization)
  }).describe('dents_addition or plastic_addition beside a main specialty')),
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int()
})

const brief = z.object({ id: z.number().int(), name: z.string().nullable(), email: z.string().nullable(), phone: z.string().nullable(), created_at: z.string() })
export const doctorCountsReply = z.object({
  total: z.number().int(), active: z.number().int(), inactive: z.number().int(), active_list: z.array(brief), inactive_list: z.array(brief)
})

export const statusSetReply = z.object({
  id: z.number().int(),
  name: z.string().nullable(),
  status: z.string(),
  message: z.enum(['تم تفعيل الدكتور بنجاح', 'تم إيقاف الدكتور بنجاح'])
})

export const statusReply = z.object({ doctor_id: z.number().int(), name: z.string().nullable(), status: z.string(), is_active: z.boolean() })

export const lookupReply = z.object({ items: z.array(z.string()) })

export const clinicsReply = z.array(z.object({
  clinic_id: z.number().int(),
  doctor_name: z.string().nullable(),
  status: z.string(),
  profile_image_URL: z.string().optional(),
  state: z.string().optional(),
  specializations: z.array(specialization)
}))

export const patchedReply = z.object({ ok: z.literal(true), id: z.number().int() })
export const activeReply = z.object({ id: z.number().int(), status: z.enum(['Active', 'Inactive']) })
export const deletedReply = z.object({ message: z.literal('deleted'), id: z.number().int() })
export const createdReply = z.object({ id: z.number().int() })
