import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.ts'
import { startServer } from './helpers/server.ts'

const productionSecrets = {
  ENVIRONMENT: 'production',
  DATABASE_URL: 'postgres://u:p@db.example:5432/tabeby',
  DOCTOR_PROFILE_SECRET: 'a-secret-the-apps-send',
  JWT_SECRET: 'x'.repeat(40)
}

t.test('with nothing set, the defaults of contract.md §4 apply', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 8000)
  t.equal(config.environment, 'development')
  t.equal(config.databaseUrl, null, 'no DATABASE_URL: embedded database')
  t.match(config.dataDir, /\.data$/)
  t.equal(config.dbPoolBudget, 40)
  t.equal(config.doctorProfileSecret, 'dev-secret')
  t.equal(config.jwtSecret.length, 64, 'a random signing key per start')
  t.not(loadConfig({}).jwtSecret, config.jwtSecret, 'a different one each start')
  t.same([config.rateLimitAuth, config.rateLimitBooking, config.rateLimitDefault], [10, 50, 100])
  t.equal(config.trustProxyHops, 0)
  t.same([config.cacheTtlSeconds, config.cacheMaxEntries, config.cacheMaxBytes], [30, 10_000, 64 * 1024 * 1024])
  t.equal(config.authMode, 'legacy')
  t.equal(config.secretaryOverbook, 'allow')
  t.equal(config.redisUrl, null)
  t.ok(config.webConcurrency >= 1, 'WEB_CONCURRENCY defaults to the CPU count')
})

t.test('DATABASE_DIRECT_URL defaults to DATABASE_URL; SECRET_KEY is an alias of JWT_SECRET', async (t) => {
  const config = loadConfig({ DATABASE_URL: 'postgresql://a@b/c', SECRET_KEY: 'k' })
  t.equal(config.databaseDirectUrl, 'postgresql://a@b/c')
  t.equal(config.jwtSecret, 'k')
})

function variableOf (env: Record<string, string>): string | null {
  try {
    loadConfig(env)
    return null
  } catch (error) {
    if (error instanceof ConfigError && error.message.startsWith(`${error.variable}: `)) return error.variable
    throw error
  }
}

const bad: Array<[string, Record<string, string>]> = [
  ['PORT', { PORT: 'eighty' }],
  ['PORT', { PORT: '70000' }],
  ['WEB_CONCURRENCY', { WEB_CONCURRENCY: '0' }],
  ['DB_POOL_BUDGET', { DB_POOL_BUDGET: '-3' }],
  ['DB_POOL_BUDGET', { DB_POOL_BUDGET: '5', WEB_CONCURRENCY: '8' }],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://x@y/z' }],
  ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
  ['AUTH_MODE', { AUTH_MODE: 'loose' }],
  ['SECRETARY_OVERBOOK', { SECRETARY_OVERBOOK: 'maybe' }],
  ['ENVIRONMENT', { ENVIRONMENT: 'staging' }],
  ['RATE_LIMIT_AUTH', { RATE_LIMIT_AUTH: '1.5' }],
  ['CACHE_TTL_SECONDS', { CACHE_TTL_SECONDS: '0' }],
  ['TRUST_PROXY_HOPS', { TRUST_PROXY_HOPS: 'all' }],
  ['ADMIN_PASSWORD', { ADMIN_EMAIL: 'a@b.c' }]
]
for (const [variable, env] of bad) {
  t.test(`a bad ${variable} is an error naming it (${JSON.stringify(env)})`, async (t) => {
    t.equal(variableOf(env), variable)
  })
}

t.test('ENVIRONMENT=production refuses missing secrets and the embedded database', async (t) => {
  t.doesNotThrow(() => loadConfig(productionSecrets))
  for (const missing of ['DATABASE_URL', 'DOCTOR_PROFILE_SECRET', 'JWT_SECRET'] as const) {
    const env: Record<string, string> = { ...productionSecrets }
    delete env[missing]
    t.equal(variableOf(env), missing, `without ${missing}`)
  }
  t.throws(() => loadConfig({ ...productionSecrets, JWT_SECRET: 'short' }), /JWT_SECRET/)
})

t.test('the server refuses to start on a bad value and says which variable', async (t) => {
  const server = await startServer({ waitForReady: false, env: { DB_POOL_BUDGET: 'lots' } })
  t.teardown(server.cleanup)
  const { code } = await server.exited
  t.equal(code, 2)
  t.match(server.output(), /configuration error: DB_POOL_BUDGET: must be a whole number/)
})

t.test('the server refuses to start in production without its secrets', async (t) => {
  const server = await startServer({ waitForReady: false, env: { ENVIRONMENT: 'production' } })
  t.teardown(server.cleanup)
  const { code } = await server.exited
  t.equal(code, 2)
  t.match(server.output(), /configuration error: DATABASE_URL: is required when ENVIRONMENT=production/)
})
