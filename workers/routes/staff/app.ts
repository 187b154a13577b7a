import { z } from 'zod'
import { allStaff, findRole, insertStaff, setStaffStatus, updateStaff, type StaffChanges, type StaffRow } from '../../../src/staff/store.ts'
import { staffErrors } from '../../../src/errors.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { ADMINS_ONLY } from '../../../src/auth/actors.ts'
import { defineRoute, type DocumentedRoute } from '../define.ts'
import { MAX_PASSWORD, MIN_PASSWORD } from '../auth.ts'
import { hashPassword, pathId } from '../dashboard.ts'
import { email, firstIssue, formId, optionalText } from './shared.ts'

// The staff routes behind the app secret (legacy-api.md §2.5 /api/staff/*), with their own shapes: `role_key` rather
// than `role`, `success`/`message` fields, and Arabic messages. In AUTH_MODE=strict they are an admin's.

function appItem (row: StaffRow): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role_key: row.role_key,
    department: row.department,
    phone: row.phone,
    status: row.status,
    avatar_url: row.avatar_url,
    created_at: row.created_at.toISOString()
  }
}

const appItemSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  email: z.string(),
  role_key: z.string().nullable(),
  department: z.string().nullable(),
  phone: z.string().nullable(),
  status: z.enum(['active', 'on_leave', 'inactive']),
  avatar_url: z.string().nullable(),
  created_at: z.string()
})

const createBody = z.object({
  email: email.optional(),
  name: z.string().trim().max(200).optional(),
  // Empty: the member exists but cannot log in until a password is set (legacy).
  password: z.string().max(MAX_PASSWORD).refine((value) => value === '' || Array.from(value).length >= MIN_PASSWORD,
    `password must be empty or at least ${MIN_PASSWORD} characters`).optional(),
  role_key: z.string().max(100).nullable().optional(),
  department: optionalText(),
  phone: optionalText(50)
})

const statusBody = z.object({
  staff_id: formId('staff_id'),
  // Legacy tested Python truthiness, so "false" (a string) activated; a boolean, or 0 and 1, is what is meant.
  is_active: z.union([z.boolean(), z.literal(0), z.literal(1)], { message: 'is_active must be true or false' }).nullable().optional()
})

const updateBody = z.object({
  name: z.string().trim().max(200).nullable().optional(),
  email: z.union([email, z.literal(''), z.null()]).optional(),
  phone: optionalText(50),
  department: optionalText()
})

export function staffAppRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    defineRoute(ctx, {
      method: 'get',
      pattern: '/api/staff/all',
      summary: 'Every staff member, by id',
      auth: 'secret',
      mirror: true,
      scope: { actors: ADMINS_ONLY },
      responses: { 200: z.array(appItemSchema) },
      handler: async () => json(200, (await ctx.db.run(allStaff)).map(appItem))
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/staff/create',
      summary: 'Create a staff member (the password may be empty: such a member cannot log in)',
      auth: 'secret',
      mirror: true,
      scope: { actors: ADMINS_ONLY },
      body: createBody,
      example: { name: 'حسن كريم', email: 'hassan@tabeby.app', password: 'a-long-passphrase', role_key: 'receptionist', department: 'الاستقبال', phone: '+9647701112233' },
      invalid: (issues) => staffErrors.appCreateInvalid(firstIssue(issues)),
      responses: { 200: z.object({ success: z.literal(true), id: z.number().int(), name: z.string(), email: z.string(), message: z.string() }) },
      errors: [staffErrors.appCreateInvalid, staffErrors.unknownRole, staffErrors.emailExists],
      handler: async ({ body }) => {
        if (body.email === undefined || body.name === undefined || body.name === '') throw staffErrors.appCreateInvalid('email and name must be sent')
        const roleKey = body.role_key ?? 'staff'
        const role = await ctx.db.run((sql) => findRole(sql, { name: roleKey }))
        if (role === null) throw staffErrors.unknownRole(roleKey)
        const passwordHash = body.password === undefined || body.password === '' ? null : await hashPassword(ctx, body.password)
        const email = body.email
        const name = body.name
        const row = await ctx.db.run((sql) => insertStaff(sql, {
          name, email, passwordHash, role, department: body.department ?? null, phone: body.phone ?? null, createdBy: null
        }))
        if (row === null) throw staffErrors.emailExists()
        return json(200, { success: true, id: row.id, name: row.name, email: row.email, message: 'تم إنشاء الموظف بنجاح' })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/api/staff/status',
      summary: 'Activate or deactivate a staff member (a deactivated one is signed out everywhere)',
      auth: 'secret',
      mirror: true,
      scope: { actors: ADMINS_ONLY },
      body: statusBody,
      example: { staff_id: 12, is_active: false },
      invalid: (issues) => staffErrors.appUpdateInvalid(firstIssue(issues)),
      responses: { 200: z.object({ staff_id: z.number().int(), is_active: z.boolean(), status: z.string(), message: z.string() }) },
      errors: [staffErrors.statusIdMissing, staffErrors.statusActiveMissing, staffErrors.appUpdateInvalid, staffErrors.appNotFound],
      handler: async ({ body }) => {
        if (body.staff_id === undefined) throw staffErrors.statusIdMissing()
        if (body.is_active === undefined || body.is_active === null) throw staffErrors.statusActiveMissing()
        const active = body.is_active === true || body.is_active === 1
        const staffId = body.staff_id
        const result = await ctx.db.transaction((tx) => setStaffStatus(tx, staffId, active ? 'active' : 'inactive'))
        if (result === null) throw staffErrors.appNotFound()
        await ctx.sessions.publish(result.revoked)
        return json(200, { staff_id: staffId, is_active: active, status: result.row.status, message: 'تم تحديث حالة الموظف بنجاح' })
      }
    }),

    defineRoute(ctx, {
      method: 'patch',
      pattern: '/api/staff/:id',
      summary: "Change a staff member's name, e-mail, phone or department",
      auth: 'secret',
      mirror: true,
      scope: { actors: ADMINS_ONLY },
      body: updateBody,
      example: { name: 'حسن كريم', phone: '+9647701112233', department: 'الاستقبال' },
      invalid: (issues) => staffErrors.appUpdateInvalid(firstIssue(issues)),
      responses: { 200: appItemSchema.extend({ message: z.string() }) },
      errors: [staffErrors.appNotFound, staffErrors.appUpdateInvalid, staffErrors.emailExists],
      handler: async ({ params, body }) => {
        const id = pathId(params[0], 'staff_id')
        const changes: StaffChanges = {}
        // Legacy: name and e-mail only when non-empty; phone and department as sent, null included.
        if (body.name !== undefined && body.name !== null && body.name !== '') changes.name = body.name
        if (body.email !== undefined && body.email !== null && body.email !== '') changes.email = body.email
        if (body.phone !== undefined) changes.phone = body.phone
        if (body.department !== undefined) changes.department = body.department
        const update = await ctx.db.transaction((tx) => updateStaff(tx, id, changes))
        if (update.outcome === 'not_found') throw staffErrors.appNotFound()
        if (update.outcome === 'email_taken') throw staffErrors.emailExists()
        return json(200, { ...appItem(update.row), message: 'تم تحديث معلومات الموظف بنجاح' })
      }
    })
  ]
}
