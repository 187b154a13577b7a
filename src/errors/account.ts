import { detail } from './entry.ts'

// The dashboard account's own routes (legacy-api.md §2.3), the activity feed, admin management (§2.4) and password
// reset (§2.2). Legacy's reset answers were bare words (`invalid`, `used`, `expired`), which the dashboard reads.

export const accountErrors = {
  emailInUse: detail(400, 'email_in_use', 'email already used by another admin', { shown: 'البريد الإلكتروني مستخدم مسبقاً' }),
  activityForOther: detail(403, 'activity_for_other', 'an activity can only be recorded for the signed-in admin', { shown: 'لا يمكن إنشاء حدث لمستخدم آخر' }),
  lastSuperAdmin: detail(409, 'last_super_admin', 'the last active super-admin cannot be demoted, deactivated or deleted'),
  sessionNotFound: detail(404, 'session_not_found', 'no live session with this id'),
  resetInvalid: detail(400, 'reset_token_invalid', 'invalid'),
  resetUsed: detail(410, 'reset_token_used', 'used'),
  resetExpired: detail(410, 'reset_token_expired', 'expired'),
  recoveryLoginFailed: detail(401, 'recovery_login_failed', 'invalid email or recovery code', { headers: { 'WWW-Authenticate': 'Bearer' } })
}
