import t from 'tap'
import { ConfigError, childVariables, loadConfig, logFormat } from '../src/config.ts'
import { startServer } from './helpers/server.ts'

const productionSecrets = {
  ENVIRONMENT: 'production',
  DATABASE_URL: 'postgres://u:p@db.example:5432/tabeby',
  DOCTOR_PROFILE_SECRET: 'a-secret-the-apps-send',
  JWT_SECRET: 'x'.repeat(40),
  SMTP_URL: 'smtps://mailer:pw@smtp.example:465',
  MAIL_FROM: 'Tabeby <no-reply@tabeby.example>',
  FRONTEND_BASE_URL: 'https://dashboard.tabeby.example'
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
  t.equal(config.bookingHorizonDays, 60)
  t.equal(config.mallocTrimSeconds, 0, 'workers leave their freed heap to glibc unless told')
  t.equal(config.heapGrowingPercent, 40, 'the heaps grow by 40 % between full collections')
  t.equal(loadConfig({ HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent, null, '0: V8 chooses')
  t.equal(loadConfig({ HEAP_GROWING_PERCENT: '10' }).heapGrowingPercent, 10, 'the smallest allowed')
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
  ['BOOKING_HORIZON_DAYS', { BOOKING_HORIZON_DAYS: '0' }],
  ['BOOKING_HORIZON_DAYS', { BOOKING_HORIZON_DAYS: 'two months' }],
  ['ENVIRONMENT', { ENVIRONMENT: 'staging' }],
  ['RATE_LIMIT_AUTH', { RATE_LIMIT_AUTH: '1.5' }],
  ['CACHE_TTL_SECONDS', { CACHE_TTL_SECONDS: '0' }],
  ['TRUST_PROXY_HOPS', { TRUST_PROXY_HOPS: 'all' }],
  ['ADMIN_PASSWORD', { ADMIN_EMAIL: 'a@b.c' }],
  ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
  ['LOG_FORMAT', { LOG_FORMAT: 'colour' }],
  ['LOG_FORMAT', { ...productionSecrets, LOG_FORMAT: 'pretty' }],
  ['SMTP_URL', { SMTP_URL: 'http://smtp.example' }],
  ['SMTP_URL', { SMTP_URL: 'smtp server' }],
  ['MAIL_FROM', { MAIL_FROM: 'Tabeby' }],
  ['MAIL_FROM', { MAIL_FROM: 'a@b.c\r\nBcc: x@y.z' }],
  ['FRONTEND_BASE_URL', { FRONTEND_BASE_URL: 'javascript:alert(1)' }],
  ['RESET_TOKEN_EXPIRE_MINUTES', { RESET_TOKEN_EXPIRE_MINUTES: '0' }],
  ['MALLOC_TRIM_SECONDS', { MALLOC_TRIM_SECONDS: 'often' }],
  ['MALLOC_TRIM_SECONDS', { MALLOC_TRIM_SECONDS: '3601' }],
  ['HEAP_GROWING_PERCENT', { HEAP_GROWING_PERCENT: '5' }],
  ['HEAP_GROWING_PERCENT', { HEAP_GROWING_PERCENT: '301' }],
  ['HEAP_GROWING_PERCENT', { HEAP_GROWING_PERCENT: '1.4' }]
]
for (const [variable, env] of bad) {
  t.test(`a bad ${variable} is an error naming it (${JSON.stringify(env)})`, async (t) => {
    t.equal(variableOf(env), variable)
  })
}

t.test('ENVIRONMENT=production refuses missing secrets and the embedded database', async (t) => {
  t.doesNotThrow(() => loadConfig(productionSecrets))
  for (const missing of ['DATABASE_URL', 'DOCTOR_PROFILE_SECRET', 'JWT_SECRET', 'SMTP_URL', 'MAIL_FROM', 'FRONTEND_BASE_URL'] as const) {
    const env: Record<string, string> = { ...productionSecrets }
    delete env[missing]
    t.equal(variableOf(env), missing, `without ${missing}`)
  }
  t.throws(() => loadConfig({ ...productionSecrets, JWT_SECRET: 'short' }), /JWT_SECRET/)
})

t.test('logs: LOG_LEVEL and LOG_FORMAT are read like every other variable; pretty only in a terminal, never in production', async (t) => {
  t.equal(loadConfig({}).logLevel, 'info')
  t.equal(loadConfig({ LOG_LEVEL: ' DEBUG ' }).logLevel, 'debug', 'trimmed, any case')
  t.equal(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat, 'pretty', 'asked for')
  t.equal(logFormat('development', undefined, true), 'pretty', 'a terminal in development')
  t.equal(logFormat('development', undefined, false), 'json', 'a pipe or a file')
  t.equal(logFormat('production', undefined, true), 'json', 'production, even at a terminal')
  t.equal(loadConfig({ ...productionSecrets, LOG_FORMAT: 'json' }).logFormat, 'json')
})

t.test('a child parses the same configuration as its primary from the variables the primary pins', async (t) => {
  const env = { WEB_CONCURRENCY: '3', RATE_LIMIT_IP_FACTOR: '2.5', AUTH_MODE: 'STRICT', ADMIN_EMAIL: 'a@b.c', ADMIN_PASSWORD: 'secret-password', SECRET_KEY: 'alias' }
  const primary = { ...loadConfig(env), databaseUrl: 'postgres://postgres:pw@127.0.0.1:5999/tabeby' }
  const child = loadConfig({ ...env, ...childVariables(primary) })
  t.same({ ...child, adminEmail: primary.adminEmail, adminPassword: primary.adminPassword, databaseDirectUrl: primary.databaseDirectUrl },
    primary, 'the same values, the signing key and the resolved database included')
  t.equal(child.databaseDirectUrl, primary.databaseUrl, 'the direct URL follows the resolved one')
  t.same([child.adminEmail, child.adminPassword], [null, null], 'the bootstrap credentials stay in the primary')
  const random = loadConfig({})
  t.equal(loadConfig(childVariables(random)).jwtSecret, random.jwtSecret, 'a random signing key is shared, not drawn again')
})

t.test('every bad variable is reported, not only the first', async (t) => {
  try {
    loadConfig({ PORT: 'x', AUTH_MODE: 'loose' })
    t.fail('should throw')
  } catch (error) {
    t.ok(error instanceof ConfigError)
    const { variable, others } = error as ConfigError
    t.equal(variable, 'PORT')
    t.same(others, ['AUTH_MODE: must be one of legacy, strict, got "loose"'])
  }
})

t.test('the server refuses to start on a bad value and says which variable', async (t) => {
  const server = await startServer({ waitForReady: false, env: { DB_POOL_BUDGET: 'lots' } })
  t.teardown(server.cleanup)
  const { code } = await server.exited
  t.equal(code, 2)
  t.match(server.output(), /configuration error: DB_POOL_BUDGET: must be a whole number/)
})

t.test('password-reset mail: without SMTP_URL outside production it goes to the log; the link points at FRONTEND_BASE_URL', async (t) => {
  const development = loadConfig({})
  t.same([development.smtpUrl, development.frontendBaseUrl, development.resetTokenMinutes], [null, 'http://localhost:3000', 30])
  const set = loadConfig({ SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'ops@tabeby.example', FRONTEND_BASE_URL: 'https://dash.example/admin/' })
  t.same([set.smtpUrl, set.mailFrom, set.frontendBaseUrl], ['smtp://127.0.0.1:2525', 'ops@tabeby.example', 'https://dash.example/admin'])
})

t.test('the server refuses to start in production without an SMTP server for password resets', async (t) => {
  const env: Record<string, string> = { ...productionSecrets }
  delete env['SMTP_URL']
  const server = await startServer({ waitForReady: false, env })
  t.teardown(server.cleanup)
  const { code } = await server.exited
  t.equal(code, 2)
  t.match(server.output(), /configuration error: SMTP_URL: is required when ENVIRONMENT=production/)
})

t.test('the server refuses to start in production without its secrets', async (t) => {
  const server = await startServer({ waitForReady: false, env: { ENVIRONMENT: 'production' } })
  t.teardown(server.cleanup)
  const { code } = await server.exited
  t.equal(code, 2)
  t.match(server.output(), /configuration error: DATABASE_URL: is required when ENVIRONMENT=production/)
})
