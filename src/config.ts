import { availableParallelism } from 'node:os'
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { z } from 'zod'
import { CHILD_ENV } from './children.ts'
import { MAX_LIMIT } from './rate-limit/windows.ts'

// Every variable of contract.md §4, as one zod schema over the environment. The primary parses its environment
// with it; each child parses the same environment again with it, after the primary has pinned the few values it
// resolved (childVariables below), so a worker restarted at 3 a.m. runs with exactly the settings the instance
// started with, and nothing a child reads is a cast.

export class ConfigError extends Error {
  constructor (readonly variable: string, detail: string, readonly others: string[] = []) {
    super(`${variable}: ${detail}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

// worker-hits: a worker answers a cached read from its own copy, no coordinator round trip (workers/cache.ts);
// limit-leases: a worker spends a leased share of a rate limit locally (workers/rate-limit.ts);
// full-days: a booking for a day known full is refused from memory (workers/full-days.ts);
// health-memory: /health answers from a state refreshed in the background (workers/health.ts).
export const HOT_PATHS = ['worker-hits', 'limit-leases', 'full-days', 'health-memory'] as const
export type HotPath = typeof HOT_PATHS[number]

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = typeof LOG_LEVELS[number]

// An unset or blank variable is absent: the field's default applies.
const blank = (value: unknown): unknown => typeof value === 'string' ? (value.trim() === '' ? undefined : value.trim()) : value

const between = (min: number, max: number) => ({ error: (issue: { input: unknown }) => `must be between ${min} and ${max}, got ${String(issue.input)}` })

function wholeNumber (fallback: number, min: number, max: number) {
  return z.preprocess(blank, z.string()
    .regex(/^\d+$/, { error: (issue) => `must be a whole number, got "${String(issue.input)}"` })
    .transform(Number)
    .pipe(z.number().min(min, between(min, max)).max(max, between(min, max)))
    .default(fallback))
}

function decimal (fallback: number, min: number, max: number) {
  return z.preprocess(blank, z.string()
    .regex(/^\d+(\.\d+)?$/, { error: (issue) => `must be a number, got "${String(issue.input)}"` })
    .transform(Number)
    .pipe(z.number().min(min, between(min, max)).max(max, between(min, max)))
    .default(fallback))
}

// A rate-limit tier: requests per client and minute, or `off` (null: no limit, no rate-limit headers). Any limit the
// counters hold exactly (up to 16,777,215, src/rate-limit/windows.ts): an operator behind a gateway that limits, or
// load-testing from one address, lifts or switches off a tier rather than being refused.
function rateLimit (fallback: number) {
  const off = (value: unknown): unknown => { const v = blank(value); return typeof v === 'string' && v.toLowerCase() === 'off' ? null : v }
  return z.preprocess(off, z.string()
    .regex(/^\d+$/, { error: (issue) => `must be a whole number of requests per minute or "off", got "${String(issue.input)}"` })
    .transform(Number)
    .pipe(z.number().min(1, between(1, MAX_LIMIT)).max(MAX_LIMIT, between(1, MAX_LIMIT)))
    .nullable()
    .default(fallback))
}

function choice<const T extends readonly [string, ...string[]]> (options: T) {
  const lower = (value: unknown): unknown => { const v = blank(value); return typeof v === 'string' ? v.toLowerCase() : v }
  return z.preprocess(lower, z.enum(options, { error: (issue) => `must be one of ${options.join(', ')}, got "${String(issue.input)}"` }))
}

const text = z.preprocess(blank, z.string().nullable().default(null))

const postgresUrl = z.preprocess(blank, z.url({ error: 'is not a valid URL', abort: true })
  .refine((url) => ['postgres:', 'postgresql:'].includes(new URL(url).protocol), {
    error: (issue) => `must be a postgres:// or postgresql:// URL, got ${new URL(String(issue.input)).protocol}//…`
  })
  .nullable()
  .default(null))

function urlWith (protocols: readonly string[], what: string) {
  return z.preprocess(blank, z.url({ error: 'is not a valid URL', abort: true })
    .refine((url) => protocols.includes(new URL(url).protocol), {
      error: (issue) => `must be ${what}, got ${new URL(String(issue.input)).protocol}//…`
    })
    .nullable()
    .default(null))
}

// `Name <address>` or a bare address; a line break (a header injection) never gets through.
const mailbox = z.preprocess(blank, z.string()
  .regex(/^[^\r\n<>]*<[^\s@<>]+@[^\s@<>]+>$|^[^\s@<>]+@[^\s@<>]+$/, { error: (issue) => `must be an e-mail address or "Name <address>", got "${String(issue.input)}"` })
  .nullable()
  .default(null))

// CORS_ORIGINS: `*`, or origins separated by commas (`https://admin.example.com,http://localhost:3000`). Each is an
// origin as a browser sends it in the Origin header (scheme, host, port), so it is compared as text; a trailing
// slash is forgiven, a path is refused rather than silently ignored.
const corsOrigins = z.preprocess(blank, z.string().transform((value, ctx): '*' | string[] => {
  const listed = value.split(',').map((item) => item.trim()).filter((item) => item !== '')
  if (listed.includes('*')) {
    if (listed.length > 1) ctx.addIssue({ code: 'custom', message: '"*" stands alone: it already allows every origin' })
    return '*'
  }
  const origins: string[] = []
  for (const item of listed) {
    let url: URL | null = null
    try { url = new URL(item) } catch {}
    if (url === null || !['http:', 'https:'].includes(url.protocol) || url.username !== '' || url.password !== '' ||
      url.pathname !== '/' || url.search !== '' || url.hash !== '') {
      ctx.addIssue({ code: 'custom', message: `must be "*" or a comma list of origins such as https://admin.example.com (scheme, host and optional port, no path), got "${item}"` })
      return z.NEVER
    }
    if (!origins.includes(url.origin)) origins.push(url.origin)
  }
  if (origins.length === 0) ctx.addIssue({ code: 'custom', message: 'lists no origin' })
  return origins
}).nullable().default(null))

// Where Google publishes the keys that sign Firebase ID tokens, as JWKS (Firebase: "Verify ID tokens using a
// third-party JWT library").
export const GOOGLE_SECURETOKEN_JWKS = 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com'

// Keyed by the variable's name, so an issue's path is the variable an operator has to fix.
export const variables = z.object({
  ENVIRONMENT: choice(['development', 'production', 'test']).default('development'),
  PORT: wholeNumber(8000, 0, 65535),
  HOST: text,
  WEB_CONCURRENCY: wholeNumber(availableParallelism(), 1, 64),
  DATABASE_URL: postgresUrl,
  DATABASE_DIRECT_URL: postgresUrl,
  DATA_DIR: text,
  DB_POOL_BUDGET: wholeNumber(40, 3, 10_000),
  DB_QUEUE_TIMEOUT_MS: wholeNumber(2000, 1, 60_000),
  DB_STATEMENT_TIMEOUT_MS: wholeNumber(5000, 100, 600_000),
  REQUEST_DEADLINE_MS: wholeNumber(6000, 100, 600_000),
  DOCTOR_PROFILE_SECRET: text,
  JWT_SECRET: text,
  SECRET_KEY: text,
  ADMIN_EMAIL: text,
  ADMIN_PASSWORD: text,
  RATE_LIMIT_AUTH: rateLimit(10),
  RATE_LIMIT_BOOKING: rateLimit(50),
  RATE_LIMIT_DEFAULT: rateLimit(100),
  RATE_LIMIT_IP_FACTOR: decimal(1, 0.1, 100),
  // Failed sign-in attempts on one target (an e-mail, a clinic's golden codes, an address guessing secretary codes)
  // within AUTH_LOCKOUT_SECONDS that lock it for AUTH_LOCKOUT_SECONDS, or `off` (src/rate-limit/lockout.ts).
  AUTH_LOCKOUT_FAILURES: z.preprocess((value: unknown) => { const v = blank(value); return typeof v === 'string' && v.toLowerCase() === 'off' ? null : v },
    z.string()
      .regex(/^\d+$/, { error: (issue) => `must be a whole number of failed attempts or "off", got "${String(issue.input)}"` })
      .transform(Number)
      .pipe(z.number().min(1, between(1, 1000)).max(1000, between(1, 1000)))
      .nullable()
      .default(10)),
  AUTH_LOCKOUT_SECONDS: wholeNumber(900, 1, 86_400),
  TRUST_PROXY_HOPS: wholeNumber(0, 0, 10),
  CACHE_TTL_SECONDS: wholeNumber(30, 1, 86_400),
  CACHE_MAX_ENTRIES: wholeNumber(10_000, 1, 10_000_000),
  CACHE_MAX_BYTES: wholeNumber(64 * 1024 * 1024, 1024, 8 * 1024 * 1024 * 1024),
  // The hot-path shortcuts to switch off, comma-separated (none by default): for the benchmarks' ablations, and as a
  // way back should one of them misbehave in production.
  HOT_PATHS_OFF: z.preprocess((value) => {
    const v = blank(value)
    return typeof v === 'string' ? v.split(',').map((part) => part.trim().toLowerCase()).filter((part) => part !== '') : []
  }, z.array(z.enum(HOT_PATHS, { error: (issue) => `must list some of ${HOT_PATHS.join(', ')}, got "${String(issue.input)}"` }))),
  AUTH_MODE: choice(['legacy', 'strict']).default('legacy'),
  SECRETARY_OVERBOOK: choice(['allow', 'deny']).default('allow'),
  // How far ahead the patient app may book: a date past today + this many days is refused.
  BOOKING_HORIZON_DAYS: wholeNumber(60, 1, 3650),
  REDIS_URL: text,
  MAX_BODY_BYTES: wholeNumber(64 * 1024, 1024, 16 * 1024 * 1024),
  MAX_URL_BYTES: wholeNumber(8 * 1024, 256, 1024 * 1024),
  MAX_HEADER_BYTES: wholeNumber(8 * 1024, 1024, 1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: wholeNumber(8000, 100, 60_000),
  // Password-reset e-mail (src/mail/mailer.ts): handed to nodemailer as it is (smtp:// with STARTTLS when offered,
  // smtps:// for TLS from the start, credentials in the URL); reset links point at FRONTEND_BASE_URL.
  SMTP_URL: urlWith(['smtp:', 'smtps:'], 'an smtp:// or smtps:// URL'),
  MAIL_FROM: mailbox,
  FRONTEND_BASE_URL: urlWith(['http:', 'https:'], 'an http:// or https:// URL'),
  RESET_TOKEN_EXPIRE_MINUTES: wholeNumber(30, 5, 24 * 60), // legacy's name and default
  LOG_LEVEL: choice(LOG_LEVELS).default('info'),
  // The browser origins allowed to call the API (workers/cors.ts). Unset: FRONTEND_BASE_URL's origin in production
  // (the dashboard), every origin elsewhere.
  CORS_ORIGINS: corsOrigins,
  // Phone sign-in (POST /auth/after-phone-login, strict-mode registration): Firebase ID tokens of this project,
  // checked against the keys published at FIREBASE_JWKS_URL (Google's when unset). Unset project: not configured.
  FIREBASE_PROJECT_ID: z.preprocess(blank, z.string()
    .regex(/^[a-z0-9][a-z0-9-]{2,62}$/, { error: (issue) => `must be a Firebase project id (lower-case letters, digits and dashes), got "${String(issue.input)}"` })
    .nullable()
    .default(null)),
  FIREBASE_JWKS_URL: urlWith(['http:', 'https:'], 'an http:// or https:// URL'),
  MAX_AD_IMAGE_BYTES: wholeNumber(2 * 1024 * 1024, 1024, 32 * 1024 * 1024),
  // Minutes per patient for a clinic with too little history of its own (src/queue/eta.ts).
  QUEUE_DEFAULT_SERVICE_MINUTES: decimal(10, 1, 240),
  // Push notifications (src/push/): a Firebase service account's JSON key (as the file holds it, or that JSON in
  // base64), whose client_email signs the OAuth token request at its token_uri. Unset: no push, /health says so.
  FCM_SERVICE_ACCOUNT: z.preprocess(blank, z.string().nullable().default(null)),
  // Where messages are sent: https://fcm.googleapis.com unless a test or a proxy says otherwise.
  FCM_ENDPOINT: urlWith(['http:', 'https:'], 'an http:// or https:// URL'),
  // Unset: pretty in a terminal outside production, JSON lines otherwise (logFormat below).
  LOG_FORMAT: choice(['json', 'pretty']).optional(),
  // Request lines (workers/request-log.ts): at most this many per second and worker; past it only server errors
  // are written and the rest counted. 0: server errors only.
  LOG_REQUESTS_PER_SECOND: wholeNumber(100, 0, 1_000_000),
  // How often each worker hands the freed pages of its C heap back to the system (workers/heap-trim.ts), in
  // seconds; 0 (the default): never, glibc keeps them.
  MALLOC_TRIM_SECONDS: wholeNumber(0, 0, 3600),
  // How far the coordinator's and the workers' V8 heaps may grow past what survived the last full collection before
  // the next one, in percent (src/supervisor.ts); 0: V8 chooses, up to 300 on a machine with this much memory.
  HEAP_GROWING_PERCENT: wholeNumber(40, 0, 300),
  // When set, /stats, /metrics, /healthz and /cache/stats need `Authorization: Bearer <STATS_TOKEN>`; unset, they
  // are public, as the v2 note had them. /health stays public (the host's health check).
  STATS_TOKEN: z.preprocess(blank, z.string()
    .min(16, { error: 'must be at least 16 characters (a long random string: it guards process ids, memory and row counts)' })
    .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces (it travels in an Authorization header)' })
    .nullable()
    .default(null))
})

type Variables = z.output<typeof variables>

// Pretty lines are for a person at a terminal; a host, a pipe or a file gets one JSON object per line, and
// production always does (asking for pretty there is a configuration error, below).
export function logFormat (environment: Variables['ENVIRONMENT'], requested: Variables['LOG_FORMAT'], terminal = process.stdout.isTTY === true): 'json' | 'pretty' {
  if (environment === 'production') return 'json'
  return requested ?? (terminal ? 'pretty' : 'json')
}

// Rules between variables: checked only once every variable parsed on its own (a transform runs after its input
// parsed cleanly), so an operator sees the plain mistake first.
export const configSchema = variables.transform((env, ctx) => {
  const fail = (variable: string, message: string): never => {
    ctx.addIssue({ code: 'custom', path: [variable], message })
    return z.NEVER
  }
  const production = env.ENVIRONMENT === 'production'
  const jwtSecret = env.JWT_SECRET ?? env.SECRET_KEY
  if (production) {
    if (env.DATABASE_URL === null) fail('DATABASE_URL', 'is required when ENVIRONMENT=production (the embedded database is for development)')
    if (env.DOCTOR_PROFILE_SECRET === null) fail('DOCTOR_PROFILE_SECRET', 'is required when ENVIRONMENT=production')
    if (jwtSecret === null) fail('JWT_SECRET', 'is required when ENVIRONMENT=production (SECRET_KEY is accepted as an alias)')
    else if (jwtSecret.length < 32) fail('JWT_SECRET', 'must be at least 32 characters when ENVIRONMENT=production')
    if (env.LOG_FORMAT === 'pretty') fail('LOG_FORMAT', 'pretty is for a terminal in development; production logs JSON lines')
    // Without them a password reset would be written to the log, where nobody who forgot a password can read it.
    if (env.SMTP_URL === null) fail('SMTP_URL', 'is required when ENVIRONMENT=production (password-reset e-mail)')
    if (env.MAIL_FROM === null) fail('MAIL_FROM', 'is required when ENVIRONMENT=production (password-reset e-mail)')
    if (env.FRONTEND_BASE_URL === null) fail('FRONTEND_BASE_URL', 'is required when ENVIRONMENT=production (password-reset links)')
    if (env.CORS_ORIGINS === '*') {
      fail('CORS_ORIGINS', '"*" is refused when ENVIRONMENT=production: list the origins of the browser apps (the admin dashboard), e.g. https://admin.example.com')
    }
    if (env.AUTH_MODE === 'strict' && env.FIREBASE_PROJECT_ID === null) {
      fail('FIREBASE_PROJECT_ID', 'is required when ENVIRONMENT=production and AUTH_MODE=strict (patients and doctors get tokens only for a verified phone)')
    }
  }
  if ((env.ADMIN_EMAIL === null) !== (env.ADMIN_PASSWORD === null)) {
    fail(env.ADMIN_EMAIL === null ? 'ADMIN_EMAIL' : 'ADMIN_PASSWORD', 'ADMIN_EMAIL and ADMIN_PASSWORD go together')
  }
  // Under 10 % a process would spend its time collecting: V8's own factor never goes below 1.1.
  if (env.HEAP_GROWING_PERCENT !== 0 && env.HEAP_GROWING_PERCENT < 10) {
    fail('HEAP_GROWING_PERCENT', `must be 0 (V8 chooses) or between 10 and 300, got ${env.HEAP_GROWING_PERCENT}`)
  }
  if (env.DB_POOL_BUDGET < env.WEB_CONCURRENCY + 2) {
    fail('DB_POOL_BUDGET', `must leave at least one connection per worker after the coordinator's 2 (${env.WEB_CONCURRENCY + 2} for WEB_CONCURRENCY=${env.WEB_CONCURRENCY}), got ${env.DB_POOL_BUDGET}`)
  }

  return {
    environment: env.ENVIRONMENT,
    port: env.PORT,
    host: env.HOST ?? '0.0.0.0',
    webConcurrency: env.WEB_CONCURRENCY,
    databaseUrl: env.DATABASE_URL,
    databaseDirectUrl: env.DATABASE_DIRECT_URL ?? env.DATABASE_URL,
    dataDir: resolve(env.DATA_DIR ?? './.data'),
    dbPoolBudget: env.DB_POOL_BUDGET,
    dbQueueTimeoutMs: env.DB_QUEUE_TIMEOUT_MS,
    dbStatementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    requestDeadlineMs: env.REQUEST_DEADLINE_MS,
    doctorProfileSecret: env.DOCTOR_PROFILE_SECRET ?? 'dev-secret',
    // A random key per start outside production: tokens die with the process instead of being forgeable.
    jwtSecret: jwtSecret ?? randomBytes(32).toString('hex'),
    adminEmail: env.ADMIN_EMAIL,
    adminPassword: env.ADMIN_PASSWORD,
    rateLimitAuth: env.RATE_LIMIT_AUTH,
    rateLimitBooking: env.RATE_LIMIT_BOOKING,
    rateLimitDefault: env.RATE_LIMIT_DEFAULT,
    rateLimitIpFactor: env.RATE_LIMIT_IP_FACTOR,
    authLockoutFailures: env.AUTH_LOCKOUT_FAILURES,
    authLockoutSeconds: env.AUTH_LOCKOUT_SECONDS,
    trustProxyHops: env.TRUST_PROXY_HOPS,
    cacheTtlSeconds: env.CACHE_TTL_SECONDS,
    cacheMaxEntries: env.CACHE_MAX_ENTRIES,
    cacheMaxBytes: env.CACHE_MAX_BYTES,
    hotPaths: new Set(HOT_PATHS.filter((path) => !env.HOT_PATHS_OFF.includes(path))),
    authMode: env.AUTH_MODE,
    secretaryOverbook: env.SECRETARY_OVERBOOK,
    bookingHorizonDays: env.BOOKING_HORIZON_DAYS,
    redisUrl: env.REDIS_URL,
    maxBodyBytes: env.MAX_BODY_BYTES,
    maxUrlBytes: env.MAX_URL_BYTES,
    maxHeaderBytes: env.MAX_HEADER_BYTES,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM ?? 'Tabeby <no-reply@localhost>',
    frontendBaseUrl: (env.FRONTEND_BASE_URL ?? 'http://localhost:3000').replace(/\/+$/, ''), // legacy's default
    // Legacy allowed every origin; production allows only the dashboard's unless told otherwise (COMPATIBILITY.md).
    corsOrigins: env.CORS_ORIGINS ?? (production && env.FRONTEND_BASE_URL !== null ? [new URL(env.FRONTEND_BASE_URL).origin] : '*'),
    resetTokenMinutes: env.RESET_TOKEN_EXPIRE_MINUTES,
    logLevel: env.LOG_LEVEL,
    logFormat: logFormat(env.ENVIRONMENT, env.LOG_FORMAT),
    firebaseProjectId: env.FIREBASE_PROJECT_ID,
    firebaseJwksUrl: env.FIREBASE_JWKS_URL ?? GOOGLE_SECURETOKEN_JWKS,
    maxAdImageBytes: env.MAX_AD_IMAGE_BYTES,
    logRequestsPerSecond: env.LOG_REQUESTS_PER_SECOND,
    statsToken: env.STATS_TOKEN,
    mallocTrimSeconds: env.MALLOC_TRIM_SECONDS,
    heapGrowingPercent: env.HEAP_GROWING_PERCENT === 0 ? null : env.HEAP_GROWING_PERCENT,
    queueDefaultServiceMinutes: env.QUEUE_DEFAULT_SERVICE_MINUTES,
    fcmServiceAccount: env.FCM_SERVICE_ACCOUNT === null ? null : parseServiceAccount(env.FCM_SERVICE_ACCOUNT, fail),
    fcmEndpoint: (env.FCM_ENDPOINT ?? 'https://fcm.googleapis.com').replace(/\/+$/, '')
  }
})

export type Config = z.output<typeof configSchema>

// The fields of a Google service-account key that sending to FCM needs; the key's other fields are ignored.
export interface ServiceAccount {
  projectId: string
  clientEmail: string
  privateKey: string // PKCS#8 PEM
  tokenUri: string
}

const serviceAccountKey = z.object({
  project_id: z.string().min(1),
  client_email: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY'),
  token_uri: z.url({ protocol: /^https?$/ }).default('https://oauth2.googleapis.com/token')
})

function parseServiceAccount (raw: string, fail: (variable: string, message: string) => never): ServiceAccount {
  let text = raw
  if (!text.startsWith('{')) text = Buffer.from(text, 'base64').toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return fail('FCM_SERVICE_ACCOUNT', 'must be a service-account JSON key, or that JSON in base64')
  }
  const parsed = serviceAccountKey.safeParse(value)
  if (!parsed.success) return fail('FCM_SERVICE_ACCOUNT', `is not a service-account key: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`)
  return { projectId: parsed.data.project_id, clientEmail: parsed.data.client_email, privateKey: parsed.data.private_key, tokenUri: parsed.data.token_uri }
}

// Throws a ConfigError naming the first variable to fix (and carrying the others' messages).
export function loadConfig (env: Env = process.env): Config {
  const result = configSchema.safeParse(env)
  if (result.success) return result.data
  const [first, ...rest] = result.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? 'environment'), message: issue.message }))
  if (first === undefined) throw new ConfigError('environment', 'could not be read')
  throw new ConfigError(first.variable, first.message, rest.map((issue) => `${issue.variable}: ${issue.message}`))
}

// What the primary resolved rather than read: pinned in its children's environment, so their parse of it agrees
// with the primary's (the random signing key, the embedded database's URL, the CPU count, the log format). The
// bootstrap admin's credentials stay in the primary.
export function childVariables (config: Config): Record<string, string> {
  return {
    JWT_SECRET: config.jwtSecret,
    DATABASE_URL: config.databaseUrl ?? '',
    DATABASE_DIRECT_URL: config.databaseDirectUrl ?? '',
    DATA_DIR: config.dataDir,
    WEB_CONCURRENCY: String(config.webConcurrency),
    LOG_FORMAT: config.logFormat,
    ADMIN_EMAIL: '',
    ADMIN_PASSWORD: ''
  }
}

// A child's configuration: the same schema over the environment its primary gave it.
export function configFromParent (): Config {
  if (process.env[CHILD_ENV.instance] === undefined) throw new Error(`${CHILD_ENV.instance} is not set: start the server through src/main.ts`)
  return loadConfig(process.env)
}
