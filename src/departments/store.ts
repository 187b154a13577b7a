import type { Sql, TransactionSql } from '../db/pool.ts'
import { likePattern } from '../staff/store.ts'

// Departments (legacy-api.md §1.2, §2.6). A staff member belongs to a department by its name, as legacy had it, so
// `staff_count` is counted live from the staff table on every read, and a rename carries the staff with it.

export type DepartmentStatus = 'active' | 'inactive'

export interface DepartmentRow {
  id: number
  name: string
  description: string | null
  head_of_department: string | null
  staff_count: number
  services_count: number
  status: DepartmentStatus
  location: string | null
  contact_email: string | null
  contact_phone: string | null
  working_hours: string | null
  budget: string | null // numeric(10,2), as postgres.js gives it: exact, turned into a number on the wire
  manager_id: number | null
  created_at: Date
  updated_at: Date
}

// The columns a list may be sorted by (legacy took any model attribute, as sent).
export const SORTABLE = ['id', 'name', 'head_of_department', 'status', 'location', 'staff_count', 'services_count', 'budget', 'created_at', 'updated_at'] as const
export type SortColumn = typeof SORTABLE[number]

const SELECT = (sql: Sql | TransactionSql) => sql`
  SELECT d.id, d.name, d.description, d.head_of_department,
         (SELECT count(*)::int FROM staff s WHERE s.department = d.name) AS staff_count,
         d.services_count, d.status, d.location, d.contact_email, d.contact_phone, d.working_hours, d.budget::text AS budget,
         d.manager_id, d.created_at, d.updated_at
  FROM departments d`

export interface DepartmentQuery {
  search: string | null
  status: DepartmentStatus | null
  page: number
  limit: number
  sortBy: SortColumn
  sortOrder: 'asc' | 'desc'
}

export async function listDepartments (sql: Sql, query: DepartmentQuery): Promise<{ rows: DepartmentRow[], total: number }> {
  const pattern = query.search === null ? null : likePattern(query.search)
  const where = sql`WHERE ${pattern === null ? sql`TRUE` : sql`(name ILIKE ${pattern} OR head_of_department ILIKE ${pattern})`}
    AND ${query.status === null ? sql`TRUE` : sql`status = ${query.status}`}`
  const [count] = await sql<Array<{ total: number }>>`SELECT count(*)::int AS total FROM departments ${where}`
  // The column comes from SORTABLE, never from the request as sent; the id breaks ties so pages do not overlap.
  const order = sql.unsafe(`${query.sortBy} ${query.sortOrder === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, id ${query.sortOrder === 'asc' ? 'ASC' : 'DESC'}`)
  const rows = await sql<DepartmentRow[]>`
    SELECT * FROM (${SELECT(sql)}) d ${where} ORDER BY ${order}
    LIMIT ${query.limit} OFFSET ${(query.page - 1) * query.limit}`
  return { rows, total: count?.total ?? 0 }
}

export async function departmentById (sql: Sql | TransactionSql, id: number): Promise<DepartmentRow | null> {
  const [row] = await sql<DepartmentRow[]>`${SELECT(sql)} WHERE d.id = ${id}`
  return row ?? null
}

export interface DepartmentFields {
  name?: string
  description?: string | null
  head_of_department?: string | null
  location?: string | null
  contact_email?: string | null
  contact_phone?: string | null
  status?: DepartmentStatus
  working_hours?: string | null
  budget?: number | null
  manager_id?: number | null
  services_count?: number
}

export type DepartmentWrite =
  | { outcome: 'saved', row: DepartmentRow }
  | { outcome: 'not_found' }
  | { outcome: 'name_taken' }

export async function insertDepartment (tx: TransactionSql, fields: DepartmentFields & { name: string }): Promise<DepartmentWrite> {
  const [created] = await tx<Array<{ id: number }>>`INSERT INTO departments ${tx(fields)} ON CONFLICT DO NOTHING RETURNING id`
  if (created === undefined) return { outcome: 'name_taken' }
  return { outcome: 'saved', row: await departmentById(tx, created.id) as DepartmentRow }
}

/** A rename moves the department's staff along (they are matched by name). */
export async function updateDepartment (tx: TransactionSql, id: number, fields: DepartmentFields): Promise<DepartmentWrite> {
  const [current] = await tx<Array<{ name: string }>>`SELECT name FROM departments WHERE id = ${id} FOR UPDATE`
  if (current === undefined) return { outcome: 'not_found' }
  if (Object.keys(fields).length > 0) {
    const [updated] = await tx`
      UPDATE departments SET ${tx(fields)}, updated_at = now() WHERE id = ${id}
      AND NOT EXISTS (SELECT 1 FROM departments o WHERE o.id <> ${id} AND lower(o.name) = lower(${fields.name ?? current.name}))
      RETURNING id`
    if (updated === undefined) return { outcome: 'name_taken' }
    if (fields.name !== undefined && fields.name !== current.name) {
      await tx`UPDATE staff SET department = ${fields.name} WHERE department = ${current.name}`
    }
  }
  return { outcome: 'saved', row: await departmentById(tx, id) as DepartmentRow }
}

export async function deleteDepartment (sql: Sql, id: number): Promise<boolean> {
  const deleted = await sql`DELETE FROM departments WHERE id = ${id} RETURNING id`
  return deleted.length > 0
}

export interface DepartmentStats {
  total_departments: number
  active_departments: number
  inactive_departments: number
  total_staff: number
  total_services: number
  created_last_30_days: number
  existing_30_days_ago: number
}

export async function departmentStats (sql: Sql): Promise<DepartmentStats> {
  const [row] = await sql<DepartmentStats[]>`
    SELECT count(*)::int AS total_departments,
           count(*) FILTER (WHERE status = 'active')::int AS active_departments,
           count(*) FILTER (WHERE status = 'inactive')::int AS inactive_departments,
           (SELECT count(*)::int FROM staff) AS total_staff,
           coalesce(sum(services_count), 0)::int AS total_services,
           count(*) FILTER (WHERE created_at > now() - interval '30 days')::int AS created_last_30_days,
           count(*) FILTER (WHERE created_at <= now() - interval '30 days')::int AS existing_30_days_ago
    FROM departments`
  return row as DepartmentStats
}
