import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { chromiumPath } from './chromium.ts'

// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: NUL-separated JSON on
// file descriptors 3 and 4), so no WebSocket client or browser-automation package is needed. .ci/run and the
// pretest step install Debian's `chromium` package where they can; a test skips where it is absent
// (chromiumMissing in chromium.ts names the package).

export interface Page {
  navigate: (url: string) => Promise<void>
  // Evaluates an expression in the page, returning its value (JSON-serialisable).
  evaluate: <T>(expression: string) => Promise<T>
  screenshot: () => Promise<Buffer>
  close: () => Promise<void>
}

export async function openPage (): Promise<Page> {
  if (chromiumPath === null) throw new Error('chromium is not installed')
  const profile = mkdtempSync(join(tmpdir(), 'tabeby-chromium-'))
  const child: ChildProcess = spawn(chromiumPath, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
    '--disable-extensions', '--remote-debugging-pipe', `--user-data-dir=${profile}`, '--window-size=1280,720', 'about:blank'
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const toBrowser = child.stdio[3] as Writable
  const fromBrowser = child.stdio[4] as Readable
  let nextId = 1
  const pending = new Map<number, { resolve: (value: Record<string, unknown>) => void, reject: (error: Error) => void }>()
  let buffered = ''
  fromBrowser.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    let end
    while ((end = buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffered.slice(0, end)) as { id?: number, result?: Record<string, unknown>, error?: { message: string } }
      buffered = buffered.slice(end + 1)
      if (message.id === undefined) continue
      const waiter = pending.get(message.id)
      pending.delete(message.id)
      if (message.error !== undefined) waiter?.reject(new Error(message.error.message))
      else waiter?.resolve(message.result ?? {})
    }
  })
  // A browser that is gone answers nothing: what was pending, and whatever is sent after, fails instead of hanging
  // (a test that polls the page would otherwise wait forever for a crashed browser).
  let gone: Error | null = null
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    gone = new Error(`chromium exited (${signal ?? code}): ${stderr}`)
    for (const waiter of pending.values()) waiter.reject(gone)
    pending.clear()
    resolve()
  }))
  toBrowser.on('error', () => {}) // a write to a browser that exited: answered by `gone`
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (gone !== null) {
        reject(gone)
        return
      }
      const id = nextId++
      pending.set(id, { resolve, reject })
      toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) }) + '\0')
    })

  const { targetId } = await send('Target.createTarget', { url: 'about:blank' }) as { targetId: string }
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string }
  await send('Page.enable', {}, sessionId)
  await send('Runtime.enable', {}, sessionId)

  return {
    navigate: async (url) => { await send('Page.navigate', { url }, sessionId) },
    evaluate: async <T>(expression: string): Promise<T> => {
      const answer = await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId) as { result: { value: T }, exceptionDetails?: unknown }
      if (answer.exceptionDetails !== undefined) throw new Error(`page error: ${JSON.stringify(answer.exceptionDetails)}`)
      return answer.result.value
    },
    screenshot: async () => Buffer.from((await send('Page.captureScreenshot', { format: 'png' }, sessionId) as { data: string }).data, 'base64'),
    close: async () => {
      try {
        await Promise.race([send('Browser.close'), exited])
      } catch {
        // already gone
      }
      if (child.exitCode === null) child.kill('SIGKILL')
      await exited
      // Chromium's helper processes may still be writing into the profile just after the browser exited (ENOTEMPTY
      // once in a full run); a throw here would also skip the test's other teardowns and leave its server running.
      try {
        rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
      } catch {
        // a temporary directory left behind
      }
    }
  }
}
