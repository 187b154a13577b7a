// How much heap 1,000,000 distinct rate-limit keys cost in the coordinator, and how long one check takes.
// Run: npx tsx scripts/bench-limiter-memory.ts
import v8 from 'node:v8'
import vm from 'node:vm'
import { RateLimiter } from '../src/rate-limit/windows.ts'

const KEYS = 1_000_000
const LIMIT = 100
const MB = 1024 * 1024

// A settled heap needs a real GC; this enables it without asking the caller for --expose-gc.
v8.setFlagsFromString('--expose-gc')
const gc: unknown = vm.runInNewContext('gc')
function heap (): number {
  if (typeof gc === 'function') {
    gc()
    gc()
  }
  return process.memoryUsage().heapUsed
}

// Keys built from a Buffer are flat strings, like those msgpackr decodes off the IPC socket. Concatenated keys
// (`ip:${a}.${b}`) would each carry an extra 32-byte cons-string header that real traffic does not have.
function makeKeys (first: number, count: number): string[] {
  const keys = new Array<string>(count)
  for (let i = 0; i < count; i++) {
    const n = first + i
    keys[i] = Buffer.from(`ip:10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, 'latin1').toString('latin1')
  }
  return keys
}

function time (label: string, count: number, run: () => void): void {
  const start = process.hrtime.bigint()
  run()
  const ns = Number(process.hrtime.bigint() - start) / count
  console.log(`${label.padEnd(50)} ${ns.toFixed(0).padStart(6)} ns/hit`)
}

function mb (bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`
}

let offset = 0
const limiter = new RateLimiter({ windowMs: 60_000, maxKeys: KEYS, now: () => performance.now() + offset })

const empty = heap()
let keys = makeKeys(0, KEYS)
const withKeys = heap()

time('first hit of 1,000,000 distinct keys', KEYS, () => {
  for (const key of keys) limiter.hit(key, LIMIT)
})
time('second hit of the same 1,000,000 keys', KEYS, () => {
  for (const key of keys) limiter.hit(key, LIMIT)
})
const hot = keys.slice(0, 1_000)
time('1,000 hot keys, 1,000,000 hits (denied past 100)', KEYS, () => {
  for (let i = 0; i < KEYS; i++) limiter.hit(hot[i % hot.length] ?? '', LIMIT)
})
const structure = heap() - withKeys
keys = []
// What the limiter holds once the caller has let go of its keys: the windows and the key strings themselves.
const total = heap() - empty

keys = makeKeys(KEYS, KEYS)
time('1,000,000 new keys at maxKeys (each evicts)', KEYS, () => {
  for (const key of keys) limiter.hit(key, LIMIT)
})
keys = makeKeys(2 * KEYS, KEYS)
time('1,000,000 more new keys at maxKeys', KEYS, () => {
  for (const key of keys) limiter.hit(key, LIMIT)
})
keys = []
const afterChurn = heap() - empty
const { evicted } = limiter.stats()

// The slot turns twice with no traffic: the sweep drops both generations.
offset += 120_000
const started = process.hrtime.bigint()
const dropped = limiter.sweep()
const sweepMs = Number(process.hrtime.bigint() - started) / 1e6
const afterSweep = heap() - empty

// Limits above 32,767 (a gateway in front, a load test from one address): a window that counts past it is held as a
// boxed double. 100,000 such windows, each past 40,000, in a limiter of their own.
const wideEmpty = heap()
const wide = new RateLimiter({ windowMs: 60_000, maxKeys: 100_000 })
keys = makeKeys(3 * KEYS, 100_000)
time('100,000 keys under a 10,000,000 limit, 40,000 each', 100_000, () => {
  for (const key of keys) wide.hit(key, 10_000_000, 40_000)
})
time('then one more hit each (wide form)', 100_000, () => {
  for (const key of keys) wide.hit(key, 10_000_000)
})
keys = []
const wideTotal = heap() - wideEmpty

console.log()
console.log(`limiter structure for 1,000,000 keys             ${mb(structure)}`)
console.log(`key strings it holds (flat, ~15 chars)           ${mb(total - structure)}`)
console.log(`heap growth, structure + key strings             ${mb(total)}`)
console.log(`same, after 2,000,000 evictions at maxKeys       ${mb(afterChurn)} (evicted ${evicted})`)
console.log(`sweep() dropping ${dropped} ended windows       ${sweepMs.toFixed(3)} ms`)
console.log(`heap growth after that                           ${mb(afterSweep)}`)
console.log(`100,000 wide windows (limit 10,000,000), with keys ${mb(wideTotal)}`)
