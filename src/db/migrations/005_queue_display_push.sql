-- Beyond the legacy server (issue 15): "now serving", each patient's place and expected time, waiting-room screens
-- and push notifications when a patient's turn is near.

-- When a booking was called to the doctor (in_progress, or straight to served) and when it was served. Set by a
-- trigger rather than by each writer, so every path that changes a status (the edit routes, a secretary booking made
-- as already in progress, whatever comes later) records it the same way; going back to `booked` clears them. The
-- gaps between consecutive calls of a day are the clinic's service times (src/queue/eta.ts).
ALTER TABLE bookings ADD COLUMN called_at timestamptz, ADD COLUMN served_at timestamptz;

CREATE FUNCTION bookings_mark_calls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IN ('in_progress', 'served') THEN
    NEW.called_at := COALESCE(NEW.called_at, now());
  ELSIF NEW.status = 'booked' THEN
    NEW.called_at := NULL;
  END IF;
  IF NEW.status = 'served' THEN
    NEW.served_at := COALESCE(NEW.served_at, now());
  ELSIF NEW.status IN ('booked', 'in_progress') THEN
    NEW.served_at := NULL;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER bookings_mark_calls BEFORE INSERT OR UPDATE OF status ON bookings
  FOR EACH ROW EXECUTE FUNCTION bookings_mark_calls();
CREATE INDEX bookings_called_at ON bookings (called_at) WHERE called_at IS NOT NULL;

-- A clinic's expected service time per weekday (0 = Sunday … 6), and over every weekday (-1), in minutes: the
-- trimmed median of its gaps between calls, with the 25th and 90th percentiles as the estimate's range. Written by the
-- coordinator's estimate job, read with the day's queue: never computed on a request.
CREATE TABLE service_estimates (
  clinic_id   integer NOT NULL,
  weekday     smallint NOT NULL CHECK (weekday BETWEEN -1 AND 6),
  minutes     real NOT NULL CHECK (minutes > 0),
  low         real NOT NULL CHECK (low > 0),
  high        real NOT NULL CHECK (high > 0),
  samples     integer NOT NULL CHECK (samples > 0),
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, weekday)
);

-- A waiting-room screen's key: shown once at creation, stored as its SHA-256. A revoked key stays (revoked_at) so
-- the list shows what was revoked and when.
CREATE TABLE display_keys (
  id         serial PRIMARY KEY,
  clinic_id  integer NOT NULL,
  key_sha256 text NOT NULL UNIQUE CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
  label      text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX display_keys_clinic ON display_keys (clinic_id);

-- A patient's phone registered for push notifications. `patient_ref` is what the patient's bookings carry as
-- patient_id (`P-71`); a device token belongs to one patient at a time (the phone changed hands: the last one wins).
CREATE TABLE patient_devices (
  device_token text PRIMARY KEY CHECK (length(device_token) BETWEEN 1 AND 4096),
  patient_ref  text NOT NULL,
  threshold    smallint NOT NULL DEFAULT 3 CHECK (threshold BETWEEN 1 AND 50),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patient_devices_patient ON patient_devices (patient_ref);

-- One row per notification to send: (booking, event, device) is unique, so whichever coordinator (of whichever
-- instance) inserts it first owns it, and a notification is sent once however many heard of the change. A row is
-- claimed by moving next_attempt_at ahead (a lease), so a coordinator that dies mid-send leaves it to be retried.
CREATE TABLE push_deliveries (
  id              bigserial PRIMARY KEY,
  booking_id      bigint NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
  event           text NOT NULL CHECK (event IN ('near', 'called')),
  device_token    text NOT NULL,
  payload         jsonb NOT NULL,
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  UNIQUE (booking_id, event, device_token)
);
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_at) WHERE state = 'pending';
