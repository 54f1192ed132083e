// Where the project's files are, for the tests. The tests run as the JavaScript that
// `npm run typecheck` writes to .build/test/, so a path relative to import.meta.url
// would point inside .build/: this walks up to the folder holding package.json instead.
import { existsSync } from 'node:fs'

function findRoot (dir: URL): URL {
  while (!existsSync(new URL('package.json', dir))) {
    const parent = new URL('..', dir)
    if (parent.href === dir.href) throw new Error(`no package.json above ${import.meta.url}`)
    dir = parent
  }
  return dir
}

/** The project's root folder, as a file: URL ending in a slash. */
export const root = findRoot(new URL('.', import.meta.url))
