import { spawn } from 'node:child_process'
import { Redis } from 'ioredis'
import { accessSync, constants } from 'node:fs'
import { createConnection } from 'node:net'
import { delimiter, join } from 'node:path'
import { freePort } from '../../src/db/embedded.ts'
import { waitFor } from './server.ts'

// A real redis-server (Debian's package of that name) for the tests of REDIS_URL. `npm test` installs it first when
// it can (scripts/test-prerequisites.sh); where it could not, those tests skip with this reason instead of failing.

function onPath (name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    try {
      accessSync(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch {
      // not in this one
    }
  }
  return null
}

const binary = onPath('redis-server')

// For `t.test(name, { skip: redisMissing }, …)`: false when redis-server can run here.
export const redisMissing: string | false = binary === null
  ? 'redis-server is not installed: install the Debian package redis-server (npm test does when run as root with apt)'
  : false

export interface TestRedis {
  url: string
  port: number
  // How many clients are connected, besides the one asking.
  clients: () => Promise<number>
  // SIGSTOP freezes it, SIGCONT thaws it, SIGKILL ends it.
  kill: (signal?: NodeJS.Signals) => void
  exited: Promise<void>
}

// `port`: where to listen, to start a Redis again where the server expects it.
export async function startRedis (owner: { teardown: (fn: () => unknown) => void }, options: { port?: number } = {}): Promise<TestRedis> {
  if (binary === null) throw new Error(String(redisMissing))
  const port = options.port ?? await freePort()
  const redis = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => { redis.once('exit', () => resolve()) })
  // A frozen (SIGSTOPped) one would keep a SIGTERM pending forever.
  owner.teardown(() => { redis.kill('SIGCONT'); redis.kill('SIGKILL') })
  await waitFor('redis', async () => await new Promise<boolean>((resolve) => {
    const socket = createConnection(port, '127.0.0.1').once('connect', () => { socket.end(); resolve(true) }).once('error', () => resolve(false))
  }), 10_000)
  const url = `redis://127.0.0.1:${port}`
  return {
    url,
    port,
    clients: async () => {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 })
      try {
        await client.connect()
        const list = await client.client('LIST') as string
        return list.trim().split('\n').length - 1
      } finally {
        client.disconnect()
      }
    },
    kill: (signal = 'SIGTERM') => { redis.kill(signal) },
    exited
  }
}
