-- The normalized booking book (architecture.md §3). The legacy server kept a clinic's whole book in one JSON
-- text column and rewrote it on every change; here every day and every booking is a row, and the constraints
-- below are what make overbooking and duplicate tokens impossible, whatever the number of workers or instances.

CREATE TYPE booking_lane AS ENUM ('regular', 'golden');
CREATE TYPE booking_status AS ENUM ('booked', 'in_progress', 'served', 'no_show', 'cancelled');
CREATE TYPE day_status AS ENUM ('open', 'closed', 'archived');

-- A clinic is a doctor (legacy: clinic_id == doctors.id). The profile is kept whole as jsonb, as the apps send it;
-- the columns are the parts that rules and list filters read.
CREATE TABLE clinics (
  id                 integer PRIMARY KEY,
  profile            jsonb NOT NULL DEFAULT '{}'::jsonb,
  name               text NOT NULL DEFAULT 'Doctor',
  email              text,
  phone              text,
  image_url          text,
  specialty          text,
  clinic_state       text,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  experience_years   integer,
  patients_count     integer,
  receiving_patients integer CHECK (receiving_patients IS NULL OR receiving_patients > 0),
  golden_capacity    integer NOT NULL DEFAULT 5 CHECK (golden_capacity >= 0),
  golden_fee         integer NOT NULL DEFAULT 1500 CHECK (golden_fee >= 0),
  is_closed          boolean NOT NULL DEFAULT false,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clinics_specialty ON clinics (specialty);
CREATE INDEX clinics_state ON clinics (clinic_state);

-- The version of a clinic's lane (its ETag and SSE id). Every write transaction of the lane takes the next value
-- into lane_versions as its last statement, holding that row until it commits: versions of one lane therefore grow
-- in commit order, and a reader's snapshot sees a version together with exactly the changes it names.
CREATE SEQUENCE booking_version_seq;

-- One row per (clinic, lane, date). active_count is the number of bookings whose status is not cancelled; the
-- booking transaction reserves a seat with a conditional UPDATE on this row, so it is never recomputed by a reader.
CREATE TABLE booking_days (
  id             bigserial PRIMARY KEY,
  clinic_id      integer NOT NULL,
  lane           booking_lane NOT NULL,
  day            date NOT NULL,
  source         text NOT NULL DEFAULT 'patient_app',
  status         day_status NOT NULL DEFAULT 'open',
  capacity_total integer NOT NULL CHECK (capacity_total >= 0),
  active_count   integer NOT NULL DEFAULT 0 CHECK (active_count >= 0),
  next_seq       integer NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
  extra          jsonb NOT NULL DEFAULT '{}'::jsonb, -- client-sent day keys the legacy server stored verbatim
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
-- One live day per (clinic, lane, date). An archived day keeps its row and its bookings, and the same date may be
-- opened again afterwards (legacy removed a closed day from its blob, so create_table/add_day could re-create it).
CREATE UNIQUE INDEX booking_days_live ON booking_days (clinic_id, lane, day) WHERE status <> 'archived';
CREATE INDEX booking_days_clinic_day ON booking_days (clinic_id, lane, day);
CREATE TABLE lane_versions (
  clinic_id integer NOT NULL,
  lane      booking_lane NOT NULL,
  version   bigint NOT NULL,
  PRIMARY KEY (clinic_id, lane)
);

CREATE TABLE bookings (
  id                bigserial PRIMARY KEY,
  day_id            bigint NOT NULL REFERENCES booking_days (id) ON DELETE CASCADE,
  seq               integer NOT NULL CHECK (seq >= 1), -- monotonic per day, never reused
  token             integer NOT NULL CHECK (token >= 1), -- queue position among the active bookings
  display_id        text NOT NULL UNIQUE, -- the legacy booking_id (B-…, S-…, G-…)
  patient_id        text, -- the legacy patient reference as the apps send it (P-71, "002")
  name              text NOT NULL,
  phone             text NOT NULL,
  source            text, -- patient_app | secretary_app (golden bookings have none)
  status            booking_status NOT NULL DEFAULT 'booked',
  golden_code       text CHECK (golden_code IS NULL OR golden_code ~ '^[0-9]{4}$'),
  secretary_id      text,
  client_created_at text, -- a created_at the client sent, stored as sent (contract.md §2.13)
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (day_id, seq)
);
-- One patient, one active booking per day and lane (contract.md §2.4).
CREATE UNIQUE INDEX bookings_one_active_per_patient ON bookings (day_id, patient_id)
  WHERE status <> 'cancelled' AND patient_id IS NOT NULL;
-- Golden codes unique per clinic and day (contract.md §2.6).
CREATE UNIQUE INDEX bookings_golden_code ON bookings (day_id, golden_code) WHERE golden_code IS NOT NULL;
-- Active tokens are unique per day. Deferred, because a cancellation moves everyone behind it up by one in a
-- single UPDATE, which passes through transient duplicates row by row.
ALTER TABLE bookings ADD CONSTRAINT bookings_active_token_unique
  EXCLUDE USING btree (day_id WITH =, token WITH =) WHERE (status <> 'cancelled') DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX bookings_day_token ON bookings (day_id, token);

-- The frozen summary of a day (save_table, close_table, the nightly archive). One per (clinic, lane, day).
CREATE TABLE day_archives (
  id                 bigserial PRIMARY KEY,
  clinic_id          integer NOT NULL,
  lane               booking_lane NOT NULL,
  day                date NOT NULL,
  capacity_total     integer NOT NULL,
  capacity_served    integer,
  capacity_cancelled integer,
  patients           json NOT NULL DEFAULT '[]'::json, -- json, not jsonb: the entries keep their key order on the wire
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (clinic_id, lane, day)
);

CREATE TABLE golden_payments (
  id             bigserial PRIMARY KEY,
  clinic_id      integer NOT NULL,
  booking_id     text NOT NULL UNIQUE,
  patient_name   text NOT NULL,
  code           text,
  exam_date      text NOT NULL,
  book_status    text NOT NULL DEFAULT 'تمت المعاينة',
  amount         integer NOT NULL,
  payment_month  text NOT NULL CHECK (payment_month ~ '^[0-9]{4}-[0-9]{2}$'),
  payment_status text NOT NULL DEFAULT 'not_paid',
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX golden_payments_clinic_month ON golden_payments (clinic_id, payment_month);

CREATE TABLE secretaries (
  id             serial PRIMARY KEY,
  code           integer NOT NULL UNIQUE CHECK (code BETWEEN 100000 AND 999999), -- the 6-digit login code
  clinic_id      integer NOT NULL,
  doctor_name    text,
  secretary_name text,
  created_date   text,
  is_active      boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX secretaries_clinic ON secretaries (clinic_id);

CREATE TABLE accounts (
  id           serial PRIMARY KEY,
  user_uid     text,
  user_role    text NOT NULL CHECK (user_role IN ('patient', 'secretary', 'doctor')),
  phone_number text NOT NULL UNIQUE,
  doctor_id    integer,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE patient_profiles (
  id            serial PRIMARY KEY,
  account_id    integer NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
  patient_name  text NOT NULL,
  phone_number  text NOT NULL,
  gender        text,
  date_of_birth text,
  is_active     boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE admins (
  id            serial PRIMARY KEY,
  name          text NOT NULL,
  email         text NOT NULL,
  password_hash text NOT NULL,
  is_active     boolean NOT NULL DEFAULT true,
  is_superuser  boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX admins_email ON admins (lower(email));

CREATE TABLE refresh_tokens (
  id         bigserial PRIMARY KEY,
  jti        uuid NOT NULL UNIQUE,
  family     uuid NOT NULL, -- a reused, already rotated token revokes its whole family
  admin_id   integer NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  revoked    boolean NOT NULL DEFAULT false,
  rotated    boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

CREATE TABLE revoked_access_tokens (
  jti        uuid PRIMARY KEY,
  expires_at timestamptz NOT NULL
);

CREATE TABLE maintenance (
  id         smallint PRIMARY KEY CHECK (id = 1),
  is_active  boolean NOT NULL DEFAULT false,
  message    text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
  key         text NOT NULL,
  route       text NOT NULL,
  request_sha text NOT NULL,
  status      integer NOT NULL,
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (route, key)
);

CREATE TABLE audit_log (
  id        bigserial PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text NOT NULL,
  action    text NOT NULL,
  clinic_id integer,
  detail    jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Scheduled jobs record each run, so a re-run of the same night is a no-op and two leaders cannot both run it.
CREATE TABLE job_runs (
  job         text NOT NULL,
  run_key     text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (job, run_key)
);
