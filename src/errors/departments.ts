import { detail } from './entry.ts'

// Departments (legacy-api.md §2.6), FastAPI-style with the router's English texts.

export const departmentErrors = {
  notFound: detail(404, 'department_not_found', 'Department not found'),
  // Staff belong to a department by its name, so two departments of one name would share their staff.
  nameTaken: detail(409, 'department_name_taken', 'a department with this name already exists')
}
