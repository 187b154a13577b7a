import { z } from 'zod'
import { isEmail } from '../../src/auth/admins.ts'
import {
  deleteDepartment, departmentById, departmentStats, insertDepartment, listDepartments, SORTABLE, updateDepartment,
  type DepartmentFields, type DepartmentRow, type DepartmentWrite
} from '../../src/departments/store.ts'
import { departmentErrors } from '../../src/errors.ts'
import { json } from '../http.ts'
import type { WorkerContext } from '../context.ts'
import { defineRoute, field, type DocumentedRoute } from './define.ts'
import { pathId } from './dashboard.ts'

// Departments (legacy-api.md §1.2, §2.6), all for admins. `staff_count` is counted live; `/departments/stats` is
// served (legacy registered /departments/{id} first, so the path answered 422) with figures computed from the rows.

function departmentOut (row: DepartmentRow): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    head_of_department: row.head_of_department,
    staff_count: row.staff_count,
    services_count: row.services_count,
    status: row.status,
    location: row.location,
    contact_email: row.contact_email,
    contact_phone: row.contact_phone,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    // Additive: legacy stored these on PATCH and never sent them back.
    working_hours: row.working_hours,
    budget: row.budget === null ? null : Number(row.budget),
    manager_id: row.manager_id
  }
}

const departmentSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  head_of_department: z.string().nullable(),
  staff_count: z.number().int().describe('staff whose department is this name, counted on every read'),
  services_count: z.number().int(),
  status: z.enum(['active', 'inactive']),
  location: z.string().nullable(),
  contact_email: z.string().nullable(),
  contact_phone: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  working_hours: z.string().nullable(),
  budget: z.number().nullable(),
  manager_id: z.number().int().nullable()
})

const text = (max: number) => z.string().trim().max(max).nullable().optional()

const fields = {
  description: text(5000),
  head_of_department: text(255),
  location: text(255),
  contact_email: z.string().trim().max(255).refine(isEmail, 'contact_email must be a valid e-mail address').nullable().optional(),
  contact_phone: text(50),
  working_hours: text(255),
  // numeric(10,2): up to 99,999,999.99
  budget: z.preprocess((v) => typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v,
    z.number({ message: 'budget must be a number' }).finite().gt(-1e8, 'budget must be below 100,000,000 in size').lt(1e8, 'budget must be below 100,000,000 in size')).nullable().optional(),
  manager_id: field.id('manager_id').nullable().optional(),
  services_count: field.count('services_count').optional() // additive: legacy kept the column and no way to set it
}

const name = z.string().trim().min(1, 'name must not be empty').max(255)
const status = z.enum(['active', 'inactive'], { message: 'status must be active or inactive' })

const createBody = z.object({ name, status: status.nullable().optional(), ...fields })
const updateBody = z.object({ name: name.optional(), status: status.optional(), ...fields })

const listQuery = z.object({
  search: z.string().max(200).optional(),
  page: z.preprocess((v) => v ?? '1', field.id('page')),
  limit: z.preprocess((v) => v ?? '10', field.id('limit').pipe(z.number().max(100, 'limit must be at most 100'))),
  status: status.optional().or(z.literal('').transform(() => undefined)),
  sort_by: z.enum(SORTABLE, { message: `sort_by must be one of ${SORTABLE.join(', ')}` }).optional(),
  sort_order: z.preprocess((v) => typeof v === 'string' ? v.toLowerCase() : v, z.enum(['asc', 'desc'], { message: 'sort_order must be asc or desc' })).optional()
})

const statsSchema = z.object({
  total_departments: z.number().int(),
  active_departments: z.number().int(),
  inactive_departments: z.number().int(),
  total_staff: z.number().int(),
  total_services: z.number().int(),
  growth_rate: z.number().describe('percent change of the number of departments over the last 30 days')
})

// Drops what was not sent, so an update touches only the fields in the body.
function present<T extends Record<string, unknown>> (body: T): DepartmentFields {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as DepartmentFields
}

function saved (write: DepartmentWrite): DepartmentRow {
  if (write.outcome === 'not_found') throw departmentErrors.notFound()
  if (write.outcome === 'name_taken') throw departmentErrors.nameTaken()
  return write.row
}

export function departmentRoutes (ctx: WorkerContext): DocumentedRoute[] {
  const statusRoute = (action: 'activate' | 'deactivate'): DocumentedRoute => defineRoute(ctx, {
    method: 'post',
    pattern: `/departments/:id/${action}`,
    summary: `Set a department ${action === 'activate' ? 'active' : 'inactive'}`,
    auth: 'admin',
    mirror: true,
    responses: { 200: departmentSchema },
    errors: [departmentErrors.notFound],
    handler: async ({ params }) => {
      const id = pathId(params[0])
      const row = saved(await ctx.db.transaction((tx) => updateDepartment(tx, id, { status: action === 'activate' ? 'active' : 'inactive' })))
      return json(200, departmentOut(row))
    }
  })

  return [
    defineRoute(ctx, {
      method: 'get',
      pattern: '/departments',
      summary: 'Departments: search on name and head, status filter, paging, sorting on a fixed set of columns',
      auth: 'admin',
      mirror: true,
      query: listQuery,
      responses: { 200: z.object({ items: z.array(departmentSchema), total: z.number().int() }) },
      handler: async ({ query }) => {
        const search = query.search?.trim() ?? ''
        const { rows, total } = await ctx.db.run((sql) => listDepartments(sql, {
          search: search === '' ? null : search,
          status: query.status ?? null,
          page: query.page,
          limit: query.limit,
          sortBy: query.sort_by ?? 'created_at',
          sortOrder: query.sort_order ?? 'desc'
        }))
        return json(200, { items: rows.map(departmentOut), total })
      }
    }),

    defineRoute(ctx, {
      method: 'post',
      pattern: '/departments',
      summary: 'Create a department',
      auth: 'admin',
      mirror: true,
      body: createBody,
      responses: { 201: departmentSchema },
      errors: [departmentErrors.nameTaken],
      handler: async ({ body }) => {
        const row = saved(await ctx.db.transaction((tx) => insertDepartment(tx, { ...present(body), name: body.name, status: body.status ?? 'active' })))
        return json(201, departmentOut(row))
      }
    }),

    // Static, so uWS matches it before /departments/:id (legacy's order sent it to {id} and a 422).
    defineRoute(ctx, {
      method: 'get',
      pattern: '/departments/stats',
      summary: 'Department counts, staff and services, and the growth of the number of departments over 30 days',
      auth: 'admin',
      mirror: true,
      responses: { 200: statsSchema },
      handler: async () => {
        const stats = await ctx.db.run(departmentStats)
        const before = stats.existing_30_days_ago
        // Legacy sent a constant 12.5. From none to some is counted as 100 %.
        const growth = before === 0 ? (stats.created_last_30_days > 0 ? 100 : 0) : stats.created_last_30_days / before * 100
        return json(200, {
          total_departments: stats.total_departments,
          active_departments: stats.active_departments,
          inactive_departments: stats.inactive_departments,
          total_staff: stats.total_staff,
          total_services: stats.total_services,
          growth_rate: Math.round(growth * 10) / 10
        })
      }
    }),

    defineRoute(ctx, {
      method: 'get',
      pattern: '/departments/:id',
      summary: 'One department',
      auth: 'admin',
      mirror: true,
      responses: { 200: departmentSchema },
      errors: [departmentErrors.notFound],
      handler: async ({ params }) => {
        const id = pathId(params[0])
        const row = await ctx.db.run((sql) => departmentById(sql, id))
        if (row === null) throw departmentErrors.notFound()
        return json(200, departmentOut(row))
      }
    }),

    defineRoute(ctx, {
      method: 'patch',
      pattern: '/departments/:id',
      summary: 'Change a department (working_hours, budget and manager_id included, and sent back); a rename carries its staff',
      auth: 'admin',
      mirror: true,
      body: updateBody,
      responses: { 200: departmentSchema },
      errors: [departmentErrors.notFound, departmentErrors.nameTaken],
      handler: async ({ params, body }) => {
        const id = pathId(params[0])
        const row = saved(await ctx.db.transaction((tx) => updateDepartment(tx, id, present(body))))
        return json(200, departmentOut(row))
      }
    }),

    defineRoute(ctx, {
      method: 'del',
      pattern: '/departments/:id',
      summary: 'Delete a department (its staff keep the name as text)',
      auth: 'admin',
      mirror: true,
      responses: { 204: null },
      errors: [departmentErrors.notFound],
      handler: async ({ params }) => {
        const id = pathId(params[0])
        if (!await ctx.db.run((sql) => deleteDepartment(sql, id))) throw departmentErrors.notFound()
        return { status: 204, body: '' }
      }
    }),

    statusRoute('activate'),
    statusRoute('deactivate')
  ]
}
