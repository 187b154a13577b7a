import { z } from 'zod'
import { accountOf } from '../../../src/auth/actors.ts'
import { setPassword } from '../../../src/auth/credentials.ts'
import { EVENTS, recordActivity } from '../../../src/activity/store.ts'
import {
  countStaff, deleteStaff, findRole, insertStaff, listStaff, setStaffStatus, staffById, updateStaff, type StaffChanges, type StaffStatus
} from '../../../src/staff/store.ts'
import { staffErrors } from '../../../src/errors.ts'
import { json } from '../../http.ts'
import type { WorkerContext } from '../../context.ts'
import { defineRoute, field, type DocumentedRoute } from '../define.ts'
import { MAX_PASSWORD, MIN_PASSWORD } from '../auth.ts'
import { hashPassword, message, pathId } from '../dashboard.ts'
import {
  email, firstIssue, formId, mayGrant, namedRole, optionalText, permissionList, permissionsOfRole, shortText, staffItem, staffItemSchema,
  STATUSES, validPermissions
} from './shared.ts'

// The dashboard's staff management (legacy-api.md §2.5). Every route checks the caller's own effective permissions
// (defineRoute's `permission`), never the target's, as legacy did on set-password, delete, activate and deactivate.
// Bodies come as JSON or as forms; a body the schema refuses gets the legacy route's 400 with the reason beside it.

const listQuery = z.object({
  search: z.string().max(200).optional(),
  page: z.preprocess((v) => v ?? '1', field.id('page')),
  limit: z.preprocess((v) => v ?? '20', field.id('limit').pipe(z.number().max(100, 'limit must be at most 100')))
})

const roleNames = {
  role_id: formId('role_id'),
  role: z.string().max(100).nullable().optional(),
  systemRole: z.string().max(100).nullable().optional(),
  roleKey: z.string().max(100).nullable().optional()
}

const createBody = z.object({
  email,
  password: z.string().max(MAX_PASSWORD).refine((value) => Array.from(value).length >= MIN_PASSWORD, `password must be at least ${MIN_PASSWORD} characters`),
  name: optionalText(),
  department: optionalText(), // additive: legacy created every member without a department or phone
  phone: optionalText(50),
  ...roleNames
})

const updateBody = z.object({
  name: shortText().min(1, 'name must not be empty').nullable().optional(),
  email: email.nullable().optional(),
  ...roleNames,
  department: optionalText(),
  phone: optionalText(50),
  status: z.enum(STATUSES, { message: 'status must be active, on_leave or inactive' }).nullable().optional(),
  avatar_url: optionalText(2048),
  permissions: permissionList.nullable().optional()
})

const setPasswordBody = z.object({
  password: z.string({ message: 'password must be sent' }).max(MAX_PASSWORD)
    .refine((value) => Array.from(value).length >= MIN_PASSWORD, `password must be at least ${MIN_PASSWORD} characters`)
})

const countQuery = z.object({ active_only: field.bool('active_only').optional() })

export function staffMemberRoutes (ctx: WorkerContext): DocumentedRoute[] {
  const statusRoute = (action: 'activate' | 'deactivate', status: StaffStatus): DocumentedRoute => defineRoute(ctx, {
    method: 'post',
    pattern: `/staff/:id/${action}`,
    summary: `Set a staff member ${status}${status === 'active' ? '' : ' (its sessions end)'}`,
    auth: 'admin',
    mirror: true,
    permission: 'staff.activate',
    responses: { 200: message },
    errors: [staffErrors.permissionDenied, staffErrors.notFound],
    handler: async ({ params }) => {
      const id = pathId(params[0])
      const result = await ctx.db.transaction((tx) => setStaffStatus(tx, id, status))
      if (result === null) throw staffErrors.notFound()
      await ctx.sessions.publish(result.revoked)
      return json(200, { message: 'ok' })
    }
  })

  return [
    defineRoute(ctx, {
      method: 'get',
      pattern: '/staff',
      summary: 'Staff, newest first: search on name and e-mail, paged',
      auth: 'admin-or-staff',
      mirror: true,
      permission: 'staff.read',
      query: listQuery,
      responses: { 200: z.object({ items: z.array(staffItemSchema), total: z.number().int() }) },
      errors: [staffErrors.permissionDenied],
      handler: async ({ query }) => {
        const search = query.search?.trim() ?? ''
        const { rows, total } = await ctx.db.run((sql) => listStaff(sql, { search: search === '' ? null : search, page: query.page, limit: query.limit }))
        return json(200, { items: rows.map(staffItem), total })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/staff',
      summary: 'Create a staff member (JSON or form); the role by id, key or name, `staff` by default',
      auth: 'admin-or-staff',
      mirror: true,
      permission: 'staff.create',
      body: createBody,
      form: true,
      invalid: (issues) => staffErrors.createInvalid(firstIssue(issues)),
      responses: { 201: staffItemSchema },
      errors: [staffErrors.permissionDenied, staffErrors.createInvalid, staffErrors.unknownRole, staffErrors.emailTaken],
      handler: async ({ body, actor }) => {
        const role = await namedRole(ctx.db, body) ?? await ctx.db.run((sql) => findRole(sql, { name: 'staff' }))
        if (role === null) throw staffErrors.unknownRole('staff')
        mayGrant(actor, await permissionsOfRole(ctx.db, role))
        const passwordHash = await hashPassword(ctx, body.password)
        const row = await ctx.db.transaction(async (tx) => {
          const created = await insertStaff(tx, {
            name: body.name !== undefined && body.name !== null && body.name !== '' ? body.name : body.email.split('@')[0] as string,
            email: body.email,
            passwordHash,
            role,
            department: body.department ?? null,
            phone: body.phone ?? null,
            createdBy: actor.kind === 'admin' ? actor.id : null
          })
          if (created !== null) {
            await recordActivity(tx, accountOf(actor), { ...EVENTS.staffCreated, description: created.email, detail: { staff_id: created.id } })
          }
          return created
        })
        if (row === null) throw staffErrors.emailTaken()
        return json(201, staffItem(row))
      }
    }),

    // Static paths before /staff/:id: uWS matches them first, so `count` and `me` are never taken for an id.
    defineRoute(ctx, {
      method: 'get',
      pattern: '/staff/count',
      summary: 'How many staff members (only `active` ones with active_only=true); public, as legacy had it',
      auth: 'none',
      // a main.py extra in legacy, so not under /backend
      query: countQuery,
      responses: { 200: z.object({ count: z.number().int() }) },
      handler: async ({ query }) => json(200, { count: await ctx.db.run((sql) => countStaff(sql, query.active_only === true)) })
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/staff/:id',
      summary: 'One staff member',
      auth: 'admin-or-staff',
      mirror: true,
      permission: 'staff.read',
      responses: { 200: staffItemSchema },
      errors: [staffErrors.permissionDenied, staffErrors.notFound],
      handler: async ({ params }) => {
        const id = pathId(params[0])
        const row = await ctx.db.run((sql) => staffById(sql, id))
        if (row === null) throw staffErrors.notFound()
        return json(200, staffItem(row))
      }
    }),

    defineRoute(ctx, {
      method: 'patch',
      pattern: '/staff/:id',
      summary: 'Change a staff member (JSON or form); `permissions` (a list or CSV) replaces the direct grants',
      auth: 'admin-or-staff',
      mirror: true,
      permission: 'staff.update',
      body: updateBody,
      form: true,
      invalid: (issues) => staffErrors.updateInvalid(firstIssue(issues)),
      responses: { 200: staffItemSchema },
      errors: [staffErrors.permissionDenied, staffErrors.notFound, staffErrors.updateInvalid, staffErrors.unknownRole, staffErrors.invalidPermission, staffErrors.emailTaken],
      handler: async ({ params, body, actor }) => {
        const id = pathId(params[0])
        const changes: StaffChanges = {}
        // Legacy ignored a null for every field: null leaves it as it is, "" clears a text.
        if (body.name !== undefined && body.name !== null) changes.name = body.name
        if (body.email !== undefined && body.email !== null) changes.email = body.email
        if (body.department !== undefined && body.department !== null) changes.department = body.department
        if (body.phone !== undefined && body.phone !== null) changes.phone = body.phone
        if (body.status !== undefined && body.status !== null) changes.status = body.status
        if (body.avatar_url !== undefined && body.avatar_url !== null) changes.avatar_url = body.avatar_url
        const role = await namedRole(ctx.db, body)
        if (role !== undefined) {
          mayGrant(actor, await permissionsOfRole(ctx.db, role))
          changes.role = role
        }
        if (body.permissions !== undefined && body.permissions !== null) {
          changes.permissions = validPermissions(body.permissions)
          mayGrant(actor, changes.permissions)
        }
        const update = await ctx.db.transaction((tx) => updateStaff(tx, id, changes))
        if (update.outcome === 'not_found') throw staffErrors.notFound()
        if (update.outcome === 'email_taken') throw staffErrors.emailTaken()
        await ctx.sessions.publish(update.revoked)
        return json(200, staffItem(update.row))
      }
    }),

    defineRoute(ctx, {
      method: 'del',
      pattern: '/staff/:id',
      summary: 'Delete a staff member, with its grants and sessions',
      auth: 'admin',
      mirror: true,
      permission: 'staff.delete',
      responses: { 200: message },
      errors: [staffErrors.permissionDenied, staffErrors.notFound],
      handler: async ({ params, actor }) => {
        const id = pathId(params[0])
        const deleted = await ctx.db.transaction(async (tx) => {
          const row = await deleteStaff(tx, id)
          if (row !== null) await recordActivity(tx, accountOf(actor), { ...EVENTS.staffDeleted, description: row.email, detail: { staff_id: row.id } })
          return row
        })
        if (deleted === null) throw staffErrors.notFound()
        return json(200, { message: 'deleted' })
      }
    }),

    statusRoute('activate', 'active'),
    statusRoute('deactivate', 'inactive'),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/staff/:id/set-password',
      summary: "Set a staff member's password (JSON or form field `password`); its sessions end",
      auth: 'admin',
      mirror: true,
      tier: 'auth', // it sets a credential
      permission: 'staff.update',
      body: setPasswordBody,
      form: true,
      invalid: (issues) => staffErrors.passwordRequired(firstIssue(issues)),
      responses: { 200: message },
      errors: [staffErrors.permissionDenied, staffErrors.notFound, staffErrors.passwordRequired],
      handler: async ({ params, body }) => {
        const id = pathId(params[0])
        const encoded = await hashPassword(ctx, body.password)
        const revoked = await ctx.db.transaction(async (tx) => {
          const families = await setPassword(tx, { kind: 'staff', id }, encoded)
          if (families !== null) await recordActivity(tx, { kind: 'staff', id }, EVENTS.passwordSet)
          return families
        })
        if (revoked === null) throw staffErrors.notFound()
        await ctx.sessions.publish(revoked)
        return json(200, { message: 'ok' })
      }
    })
  ]
}
