import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { systemProgram } from './system.ts'

// A real headless browser: Debian's chromium. `npm test` installs it first when it can
// (scripts/test-prerequisites.sh); where it could not, the browser tests skip with this reason instead of failing.

const chromium = systemProgram('chromium', 'chromium')
const binary = chromium.path
// Its path, for helpers that drive it another way (test/helpers/devtools.ts); null when it is not installed.
export const chromiumPath: string | null = binary

// For `t.test(name, { skip: chromiumMissing }, …)`: false when chromium can run here.
export const chromiumMissing: string | false = chromium.missing

export interface DumpOptions {
  // Swagger UI renders only the operations within the window: a tall one renders them all.
  height?: number
  // Virtual time the page gets to load its scripts and render, in ms (not wall-clock: a loaded machine only slows it).
  budgetMs?: number
}

// The DOM of `url` once the page has run its scripts (--dump-dom after --virtual-time-budget), in a profile of its
// own that is removed afterwards.
export async function dumpDom (url: string, { height = 2000, budgetMs = 30_000 }: DumpOptions = {}): Promise<string> {
  if (binary === null) throw new Error('chromium is not installed')
  const profile = mkdtempSync(join(tmpdir(), 'tabeby-chromium-'))
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(binary, [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions',
        `--user-data-dir=${profile}`, `--window-size=1280,${height}`, `--virtual-time-budget=${budgetMs}`, '--dump-dom', url
      ], { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`chromium failed: ${error.message}\n${stderr.slice(-2000)}`))
        else resolve(stdout)
      })
    })
  } finally {
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }) // helpers may still be writing (ENOTEMPTY)
  }
}
