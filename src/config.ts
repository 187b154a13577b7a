import { availableParallelism } from 'node:os'
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { MAX_LIMIT } from './rate-limit/windows.ts'

// Every variable of contract.md §4, resolved once in the primary and handed to the children through the
// environment, so a worker restarted at 3 a.m. runs with exactly the settings the instance started with.
export interface Config {
  environment: 'development' | 'production' | 'test'
  port: number
  host: string
  webConcurrency: number
  databaseUrl: string | null
  databaseDirectUrl: string | null
  dataDir: string
  dbPoolBudget: number
  dbQueueTimeoutMs: number
  dbStatementTimeoutMs: number
  requestDeadlineMs: number
  doctorProfileSecret: string
  jwtSecret: string
  adminEmail: string | null
  adminPassword: string | null
  // Requests per client and minute; null: the tier is off (no limit, no rate-limit headers).
  rateLimitAuth: number | null
  rateLimitBooking: number | null
  rateLimitDefault: number | null
  rateLimitIpFactor: number
  trustProxyHops: number
  cacheTtlSeconds: number
  cacheMaxEntries: number
  cacheMaxBytes: number
  authMode: 'legacy' | 'strict'
  secretaryOverbook: 'allow' | 'deny'
  redisUrl: string | null
  maxBodyBytes: number
  maxUrlBytes: number
  maxHeaderBytes: number
  shutdownTimeoutMs: number
}

export class ConfigError extends Error {
  constructor (readonly variable: string, detail: string) {
    super(`${variable}: ${detail}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

function text (env: Env, name: string): string | null {
  const value = env[name]
  return value === undefined || value.trim() === '' ? null : value.trim()
}

function integer (env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name)
  if (raw === null) return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
  return value
}

// A rate-limit tier: requests per client and minute, or `off`. Any limit the counters hold exactly (up to
// 16,777,215, src/rate-limit/windows.ts): an operator behind a gateway that limits, or load-testing from one
// address, lifts or switches off a tier rather than being refused.
function rateLimit (env: Env, name: string, fallback: number): number | null {
  if (text(env, name)?.toLowerCase() === 'off') return null
  const raw = text(env, name)
  if (raw !== null && !/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number of requests per minute or "off", got "${raw}"`)
  return integer(env, name, fallback, 1, MAX_LIMIT)
}

function decimal (env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name)
  if (raw === null) return fallback
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(name, `must be a number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
  return value
}

function choice<T extends string> (env: Env, name: string, options: readonly T[], fallback: T): T {
  const raw = text(env, name)
  if (raw === null) return fallback
  const value = raw.toLowerCase()
  const found = options.find((option) => option === value)
  if (found === undefined) throw new ConfigError(name, `must be one of ${options.join(', ')}, got "${raw}"`)
  return found
}

function postgresUrl (env: Env, name: string): string | null {
  const raw = text(env, name)
  if (raw === null) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(name, 'is not a valid URL')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, `must be a postgres:// or postgresql:// URL, got ${url.protocol}//…`)
  }
  return raw
}

export function loadConfig (env: Env = process.env): Config {
  const environment = choice(env, 'ENVIRONMENT', ['development', 'production', 'test'] as const, 'development')
  const production = environment === 'production'

  const databaseUrl = postgresUrl(env, 'DATABASE_URL')
  const doctorProfileSecret = text(env, 'DOCTOR_PROFILE_SECRET')
  const jwtSecret = text(env, 'JWT_SECRET') ?? text(env, 'SECRET_KEY')
  if (production) {
    if (databaseUrl === null) throw new ConfigError('DATABASE_URL', 'is required when ENVIRONMENT=production (the embedded database is for development)')
    if (doctorProfileSecret === null) throw new ConfigError('DOCTOR_PROFILE_SECRET', 'is required when ENVIRONMENT=production')
    if (jwtSecret === null) throw new ConfigError('JWT_SECRET', 'is required when ENVIRONMENT=production (SECRET_KEY is accepted as an alias)')
    if (jwtSecret.length < 32) throw new ConfigError('JWT_SECRET', 'must be at least 32 characters when ENVIRONMENT=production')
  }

  const adminEmail = text(env, 'ADMIN_EMAIL')
  const adminPassword = text(env, 'ADMIN_PASSWORD')
  if ((adminEmail === null) !== (adminPassword === null)) {
    throw new ConfigError(adminEmail === null ? 'ADMIN_EMAIL' : 'ADMIN_PASSWORD', 'ADMIN_EMAIL and ADMIN_PASSWORD go together')
  }

  const webConcurrency = integer(env, 'WEB_CONCURRENCY', availableParallelism(), 1, 64)
  const dbPoolBudget = integer(env, 'DB_POOL_BUDGET', 40, 3, 10_000)
  if (dbPoolBudget < webConcurrency + 2) {
    throw new ConfigError('DB_POOL_BUDGET', `must leave at least one connection per worker after the coordinator's 2 (${webConcurrency + 2} for WEB_CONCURRENCY=${webConcurrency}), got ${dbPoolBudget}`)
  }

  return {
    environment,
    port: integer(env, 'PORT', 8000, 0, 65535),
    host: text(env, 'HOST') ?? '0.0.0.0',
    webConcurrency,
    databaseUrl,
    databaseDirectUrl: postgresUrl(env, 'DATABASE_DIRECT_URL') ?? databaseUrl,
    dataDir: resolve(text(env, 'DATA_DIR') ?? './.data'),
    dbPoolBudget,
    dbQueueTimeoutMs: integer(env, 'DB_QUEUE_TIMEOUT_MS', 2000, 1, 60_000),
    dbStatementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
    requestDeadlineMs: integer(env, 'REQUEST_DEADLINE_MS', 6000, 100, 600_000),
    doctorProfileSecret: doctorProfileSecret ?? 'dev-secret',
    // A random key per start outside production: tokens die with the process instead of being forgeable.
    jwtSecret: jwtSecret ?? randomBytes(32).toString('hex'),
    adminEmail,
    adminPassword,
    rateLimitAuth: rateLimit(env, 'RATE_LIMIT_AUTH', 10),
    rateLimitBooking: rateLimit(env, 'RATE_LIMIT_BOOKING', 50),
    rateLimitDefault: rateLimit(env, 'RATE_LIMIT_DEFAULT', 100),
    rateLimitIpFactor: decimal(env, 'RATE_LIMIT_IP_FACTOR', 1, 0.1, 100),
    trustProxyHops: integer(env, 'TRUST_PROXY_HOPS', 0, 0, 10),
    cacheTtlSeconds: integer(env, 'CACHE_TTL_SECONDS', 30, 1, 86_400),
    cacheMaxEntries: integer(env, 'CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    cacheMaxBytes: integer(env, 'CACHE_MAX_BYTES', 64 * 1024 * 1024, 1024, 8 * 1024 * 1024 * 1024),
    authMode: choice(env, 'AUTH_MODE', ['legacy', 'strict'] as const, 'legacy'),
    secretaryOverbook: choice(env, 'SECRETARY_OVERBOOK', ['allow', 'deny'] as const, 'allow'),
    redisUrl: text(env, 'REDIS_URL'),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    maxUrlBytes: integer(env, 'MAX_URL_BYTES', 8 * 1024, 256, 1024 * 1024),
    maxHeaderBytes: integer(env, 'MAX_HEADER_BYTES', 8 * 1024, 1024, 1024 * 1024),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 8000, 100, 60_000)
  }
}

// The primary resolves the configuration once (including the random JWT secret and the embedded database URL)
// and passes it down as JSON, so every child agrees on it.
export const CONFIG_ENV = 'TABEBY_RESOLVED_CONFIG'

export function configFromParent (): Config {
  const raw = process.env[CONFIG_ENV]
  if (raw === undefined) throw new Error(`${CONFIG_ENV} is not set: start the server through src/main.ts`)
  return JSON.parse(raw) as Config
}
