import type { WorkerContext } from '../../context.ts'
import type { DocumentedRoute } from '../define.ts'
import { accountRoutes } from './accounts.ts'
import { profileRoutes } from './profiles.ts'

// Phone accounts and patient profiles. An account id is what the apps call user_server_id; patients see it as
// `P-<id>`. SQL in src/accounts/store.ts and src/patients/store.ts.
export function patientRoutes (ctx: WorkerContext): DocumentedRoute[] {
  return [...accountRoutes(ctx), ...profileRoutes(ctx)]
}
