import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

// A program from a Debian package that some tests need (chromium, nginx). `npm test` installs the missing ones
// first when it can (scripts/test-prerequisites.sh); where it could not, those tests skip with `missing`, which
// names the package, instead of failing.
export interface SystemProgram {
  path: string | null
  missing: string | false
}

export function systemProgram (name: string, debianPackage: string): SystemProgram {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin']
  for (const dir of dirs) {
    if (dir === '') continue
    try {
      accessSync(join(dir, name), constants.X_OK)
      return { path: join(dir, name), missing: false }
    } catch {
      // not in this one
    }
  }
  return { path: null, missing: `${name} is not installed: install the Debian package ${debianPackage} (npm test does when run as root with apt)` }
}
