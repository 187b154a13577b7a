import type { WorkerContext } from '../../context.ts'
import type { DocumentedRoute } from '../define.ts'
import { doctorProfileRoutes } from './profile.ts'
import { doctorReadRoutes } from './directory.ts'
import { doctorDashboardRoutes } from './dashboard.ts'
import { clinicListRoutes } from './clinics.ts'
import { doctorStatusRoutes } from './account-status.ts'

// Doctors and clinics (a clinic is a doctor; its id is the clinic_id bookings carry). Rules live in
// src/clinics/profile.ts, SQL in src/clinics/store.ts and src/clinics/directory.ts; these modules are the wire:
// paths, guards, schemas and the legacy response shapes, one file per resource.
export function doctorRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [
    ...doctorProfileRoutes(ctx), // /doctor/profile: the doctor app
    ...doctorReadRoutes(ctx), // GET /api/doctors…: the directory and one doctor
    ...doctorDashboardRoutes(ctx), // PATCH, DELETE, POST /api/doctors…: the dashboard's writes
    ...clinicListRoutes(ctx), // /api/lookups/…, /api/clinics
    ...doctorStatusRoutes(ctx) // /api/doctor/status: account status
  ]
}
