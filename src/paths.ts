import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The same modules run in two forms: TypeScript through tsx (`npm run dev`, the tests) and compiled to dist/
// (`npm start`, the Procfile), where dist/ mirrors the source tree. Code that names a file at run time asks here.

// A module to load in the same form as the caller: `sibling(import.meta.url, './tasks.ts')` is tasks.ts next to
// a .ts caller and tasks.js next to a compiled one (tsc rewrites the extensions of imports, not of strings).
export function sibling (caller: string, relative: string): URL {
  const url = new URL(relative, caller)
  if (caller.endsWith('.js')) url.pathname = url.pathname.replace(/\.ts$/, '.js')
  return url
}

// The package root: package.json, and the files that are not code (the SQL migrations), which are read from
// where they are written rather than copied into dist/: one copy of each, and a migration added to src/db/migrations
// is found without touching the build.
function findPackageRoot (): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error('package.json not found above the running code')
  }
}

export const packageRoot = findPackageRoot()
