-- Clinic ads (legacy-api.md §2.12), the legacy /patients list (§2.1), and what strict mode needs to end an actor's
-- tokens at once.

-- An uploaded ad image, stored once however many ads show it: the row is named by the SHA-256 of its bytes, which
-- is also its ETag and the last segment of the URL it is served from.
CREATE TABLE ad_images (
  sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
  size         integer NOT NULL CHECK (size > 0),
  bytes        bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- The legacy server kept each ad as one JSON text blob and found an ad by scanning every blob for its ad_ID; here
-- every field the apps send is a column. Text columns are null where the ad never had the field (the legacy
-- payload had no such key), which is what the read routes leave out.
CREATE TABLE ads (
  id             serial PRIMARY KEY, -- the legacy row id of /api/ads/{id}
  public_id      text NOT NULL UNIQUE, -- ad_ID, "<clinic_id>_<8 hex>_<unix seconds>"
  clinic_id      integer NOT NULL,
  ad_status      boolean NOT NULL DEFAULT false,
  request_date   text,
  created_date   text,
  clinic_name    text,
  ad_subtitle    text,
  ad_description text,
  ad_address     text,
  ad_phonenumber text,
  ad_state       text,
  ad_discount    text,
  ad_price       text,
  team_message   text,
  clinic_address text,
  ad_location    jsonb, -- a maps URL in the docs' example, an object from some app builds: kept as sent
  image_url      text, -- a URL the app sent (its own storage); null when the image is one of ours
  image_sha256   text REFERENCES ad_images (sha256),
  expired_date   text, -- the legacy display form, "DD/MM/YYYY HH:MM" (UTC) or the "set on activation" placeholder
  expires_at     timestamptz, -- the same instant, for the expiry job; null while the ad has none
  activated_at   timestamptz,
  expired_at     timestamptz, -- set by the expiry job: the ad is kept, and no route shows it any more
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ads_clinic ON ads (clinic_id) WHERE expired_at IS NULL;
CREATE INDEX ads_active ON ads (id) WHERE ad_status AND expired_at IS NULL;
CREATE INDEX ads_expiring ON ads (expires_at) WHERE expired_at IS NULL AND expires_at IS NOT NULL;
CREATE INDEX ads_image ON ads (image_sha256) WHERE image_sha256 IS NOT NULL;

-- The legacy `patients` table of POST/GET /patients: a name and a unique e-mail, nothing else reads it.
CREATE TABLE legacy_patients (
  id    serial PRIMARY KEY,
  name  text NOT NULL,
  email text NOT NULL UNIQUE
);

-- Actors whose row is gone while their tokens may still be unexpired (a deleted patient account, a deleted doctor):
-- an inactive patient or doctor is found by its own row, a deleted one only here. Kept for the longest actor token's
-- lifetime, then purged.
CREATE TABLE revoked_actors (
  key        text PRIMARY KEY CHECK (key ~ '^(patient|doctor):[0-9]+$'),
  revoked_at timestamptz NOT NULL DEFAULT now()
);

-- Phone sign-in finds a doctor by its login phone when no account links it yet.
CREATE INDEX clinics_phone ON clinics (phone) WHERE phone IS NOT NULL;
