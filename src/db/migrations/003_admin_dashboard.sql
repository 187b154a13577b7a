-- The admin dashboard's backend (legacy-api.md §1.1, §1.2, §2.2-§2.6): staff and roles, departments, the admins'
-- activity feed, recovery codes, password reset, and session families that can be revoked at once.

-- Roles and the permission universe. The seven default roles are rows from the start (legacy seeded them lazily on
-- the first call to /roles or /staff), in legacy's order, so their ids match the legacy server's.
CREATE TABLE roles (
  id          serial PRIMARY KEY,
  key         text NOT NULL UNIQUE,
  name        text NOT NULL,
  description text
);

CREATE DOMAIN permission AS text CHECK (VALUE IN (
  'staff.read', 'staff.create', 'staff.update', 'staff.delete', 'staff.invite', 'staff.activate',
  'appointments.read', 'appointments.create', 'appointments.update', 'appointments.delete'
));

CREATE TABLE role_permissions (
  role_id    integer NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  permission permission NOT NULL,
  PRIMARY KEY (role_id, permission)
);

INSERT INTO roles (key, name, description) VALUES
  ('super-admin', 'Super Admin', 'Full system access'),
  ('admin', 'Administrator', 'Administrative access'),
  ('staff', 'Staff', 'General staff'),
  ('receptionist', 'Receptionist', 'Front desk staff'),
  ('nurse', 'Nurse', 'Nursing staff'),
  ('doctor', 'Doctor', 'Medical doctor'),
  ('manager', 'Manager', 'Manage staff and schedules');

INSERT INTO role_permissions (role_id, permission)
SELECT r.id, p.permission
FROM roles r
JOIN (VALUES
  ('super-admin', ARRAY['staff.read', 'staff.create', 'staff.update', 'staff.delete', 'staff.invite', 'staff.activate',
                        'appointments.read', 'appointments.create', 'appointments.update', 'appointments.delete']),
  ('admin', ARRAY['staff.read', 'staff.create', 'staff.update', 'staff.invite', 'staff.activate']),
  ('staff', ARRAY['staff.read', 'staff.create', 'staff.update', 'staff.invite', 'staff.activate']),
  ('receptionist', ARRAY['staff.read', 'appointments.read', 'appointments.create']),
  ('nurse', ARRAY['staff.read', 'appointments.read']),
  ('doctor', ARRAY['staff.read', 'appointments.read', 'appointments.update']),
  ('manager', ARRAY['staff.read', 'staff.create', 'staff.update', 'staff.activate'])
) AS d (key, permissions) ON d.key = r.key
CROSS JOIN LATERAL unnest(d.permissions) AS p (permission);

CREATE TABLE staff (
  id            serial PRIMARY KEY,
  admin_id      integer REFERENCES admins (id) ON DELETE SET NULL, -- the admin who created the row, when one did
  name          text NOT NULL,
  email         text NOT NULL,
  role_id       integer REFERENCES roles (id) ON DELETE SET NULL,
  role_key      text, -- denormalized from the role, as legacy kept it; written with role_id
  department    text, -- free text, matched to departments.name
  phone         text,
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'on_leave', 'inactive')),
  avatar_url    text,
  password_hash text, -- null: the account cannot log in (legacy /api/staff/create allowed an empty password)
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Legacy matched e-mails case-insensitively but indexed them as sent; one index on lower(email) makes a duplicate a
-- conflict the insert reports instead of a race.
CREATE UNIQUE INDEX staff_email ON staff (lower(email));
CREATE INDEX staff_department ON staff (department);
CREATE INDEX staff_created ON staff (created_at DESC, id DESC);

CREATE TABLE staff_permissions (
  staff_id   integer NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  permission permission NOT NULL,
  PRIMARY KEY (staff_id, permission)
);

CREATE TABLE departments (
  id                 serial PRIMARY KEY,
  name               text NOT NULL,
  description        text,
  head_of_department text,
  services_count     integer NOT NULL DEFAULT 0 CHECK (services_count >= 0),
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  location           text,
  contact_email      text,
  contact_phone      text,
  working_hours      text,
  budget             numeric(10, 2),
  manager_id         integer,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
-- Staff find their department by name, so two departments of one name would share their staff.
CREATE UNIQUE INDEX departments_name ON departments (lower(name));

-- Sessions: a refresh-token family belongs to an admin or to a staff member.
ALTER TABLE refresh_tokens ALTER COLUMN admin_id DROP NOT NULL;
ALTER TABLE refresh_tokens ADD COLUMN staff_id integer REFERENCES staff (id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_one_account CHECK (num_nonnulls(admin_id, staff_id) = 1);
ALTER TABLE refresh_tokens ADD COLUMN user_agent text;
CREATE INDEX refresh_tokens_admin ON refresh_tokens (admin_id) WHERE admin_id IS NOT NULL;
CREATE INDEX refresh_tokens_staff ON refresh_tokens (staff_id) WHERE staff_id IS NOT NULL;

-- Families whose access tokens must stop working before they expire (reuse of a rotated refresh token, logout,
-- "end every session", a password change or reset). Every access token names its family; the coordinator holds
-- the live rows in memory and pushes them to the workers, so the check costs no query. A row is needed only as long
-- as an access token issued before the revocation can live, and is dropped after that.
CREATE TABLE revoked_families (
  family     uuid PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
-- Logout revoked single access tokens by jti; it now ends the token's whole family, and every other one.
DROP TABLE revoked_access_tokens;

-- The activity feed of an admin or a staff member: an audit trail, written by the server on real events and by
-- POST /activity. Rows are never changed or removed, whatever the role of the connection's caller.
CREATE TABLE activities (
  id           text PRIMARY KEY DEFAULT replace(gen_random_uuid()::text, '-', ''),
  account_kind text NOT NULL CHECK (account_kind IN ('admin', 'staff')),
  account_id   integer NOT NULL, -- no foreign key: the trail outlives the account
  event        text NOT NULL, -- what happened, in our words (login_failed, staff_created, …)
  type         text NOT NULL CHECK (type IN ('password_changed', 'login_new_device', 'profile_updated', 'security_modified',
                 'document_downloaded', 'new_device_registered', 'failed_login_attempt', 'account_recovery_initiated',
                 'security_alert')),
  title        text NOT NULL,
  description  text,
  status       text NOT NULL CHECK (status IN ('success', 'warning', 'error', 'info')),
  at           timestamptz NOT NULL DEFAULT now(), -- when it happened (a client may date its own entries)
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  detail       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX activities_account_at ON activities (account_kind, account_id, at DESC);

CREATE FUNCTION activities_append_only () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'activities is an audit trail: its rows are never changed or removed' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER activities_no_update BEFORE UPDATE OR DELETE ON activities FOR EACH ROW EXECUTE FUNCTION activities_append_only();
CREATE TRIGGER activities_no_truncate BEFORE TRUNCATE ON activities FOR EACH STATEMENT EXECUTE FUNCTION activities_append_only();

-- The devices an account has logged in from (a digest of the User-Agent), so a login from another one is an event.
CREATE TABLE known_devices (
  account_kind text NOT NULL CHECK (account_kind IN ('admin', 'staff')),
  account_id   integer NOT NULL,
  device       text NOT NULL,
  first_seen   timestamptz NOT NULL DEFAULT now(),
  last_seen    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_kind, account_id, device)
);

-- Recovery codes: only a SHA-256 of each is stored (legacy kept them as plain text); the dashboard sees a code once,
-- when it is generated, and afterwards its first four characters.
CREATE TABLE recovery_codes (
  id         bigserial PRIMARY KEY,
  admin_id   integer NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
  code_hash  text NOT NULL UNIQUE,
  hint       text NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recovery_codes_admin ON recovery_codes (admin_id);

-- Password-reset tokens, for admins and staff: a SHA-256 of the token (legacy: plain text), single use, with a TTL.
CREATE TABLE password_reset_tokens (
  id         bigserial PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  admin_id   integer REFERENCES admins (id) ON DELETE CASCADE,
  staff_id   integer REFERENCES staff (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (num_nonnulls(admin_id, staff_id) = 1)
);
