import { detail } from './entry.ts'

// Staff and roles (legacy-api.md §1.2, §2.5), FastAPI-style with the staff router's Arabic texts. Where legacy
// answered 500 (a duplicate e-mail, an unknown role or an invalid permission inside PATCH /staff, a duplicate in
// POST /staff), the meaning it had in mind gets its 400 here (COMPATIBILITY.md).

export const staffErrors = {
  // The caller's own effective permissions lack the one the route needs.
  permissionDenied: detail(403, 'permission_denied', (permission: string) => `missing permission ${permission}`,
    { shown: 'صلاحية غير كافية', example: ['staff.delete'], fields: (permission: string) => ({ permission }) }),
  // Role permissions and promotions are a super-admin's.
  superuserOnly: detail(403, 'superuser_required', 'only a super-admin may do this', { shown: 'غير مسموح' }),
  notFound: detail(404, 'staff_not_found', 'staff member not found', { shown: 'غير موجود' }),
  roleNotFound: detail(404, 'role_not_found', 'role not found', { shown: 'الدور غير موجود' }),
  unknownRole: detail(400, 'role_unknown', (role: string) => `no role has the id, key or name ${role}`,
    { shown: 'الدور غير موجود', example: ['janitor'] }),
  invalidPermission: detail(400, 'permission_invalid', (permission: string) => `permission '${permission}' is invalid`,
    { example: ['staff.fly'] }),
  emailTaken: detail(400, 'staff_email_taken', 'email already used by another staff member', { shown: 'البريد مستخدم مسبقاً' }),
  // The app-secret route's own wording and status (POST /api/staff/create).
  emailExists: detail(409, 'staff_email_exists', 'email already used by another staff member', { shown: 'الإيميل مستخدم مسبقاً' }),
  createInvalid: detail(400, 'staff_create_invalid', (reason: string) => reason,
    { shown: 'يجب إرسال email و password (واسم اختياري)', withMessage: true, example: ['email must be a valid e-mail address'] }),
  updateInvalid: detail(400, 'staff_update_invalid', (reason: string) => reason,
    { shown: 'بيانات التعديل غير صحيحة', withMessage: true, example: ['status must be active, on_leave or inactive'] }),
  passwordRequired: detail(400, 'staff_password_required', (reason: string) => reason,
    { shown: 'password مطلوب', withMessage: true, example: ['password must be at least 8 characters'] }),
  loginInvalid: detail(400, 'staff_login_fields', 'email and password must be sent', { shown: 'يجب إرسال البريد وكلمة المرور' }),
  // One answer for an unknown e-mail, an inactive account, one without a password and a wrong password: legacy's
  // four messages told anyone which e-mails had accounts.
  loginFailed: detail(401, 'staff_login_failed', 'invalid email or password', { shown: 'بيانات الدخول غير صحيحة', headers: { 'WWW-Authenticate': 'Bearer' } }),
  noPassword: detail(400, 'staff_no_password', 'this account has no password yet', { shown: 'لا توجد كلمة مرور حالية محددة' }),
  // The app-secret routes (/api/staff/*).
  appNotFound: detail(404, 'staff_member_not_found', 'staff member not found', { shown: 'الموظف غير موجود' }),
  appCreateInvalid: detail(400, 'staff_app_create_invalid', (reason: string) => reason,
    { shown: 'يجب إرسال email و name', withMessage: true, example: ['email and name must be sent'] }),
  statusIdMissing: detail(400, 'staff_id_missing', 'staff_id must be sent', { shown: 'يجب إرسال staff_id' }),
  statusActiveMissing: detail(400, 'staff_is_active_missing', 'is_active must be sent', { shown: 'يجب إرسال is_active' }),
  appUpdateInvalid: detail(400, 'staff_app_update_invalid', (reason: string) => reason, { example: ['email must be a valid e-mail address'] })
}
