// Every relative link and #anchor in README.md, CONTRIBUTING.md and docs/*.md leads
// somewhere: the file exists, and the anchor is a heading of the target, as GitHub
// makes its ids. The README's and docs/'s links also lead to a file the package ships,
// so they work from node_modules and on the registry's page.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import t from 'tap'
import { documents, fences, read } from './docs.js'
import { root } from './paths.js'

/** The document's text outside fenced code blocks and inline code. */
function prose (file: string): string {
  let text = read(file)
  for (const f of fences(file)) text = text.replace(f.code, '')
  return text.replace(/`[^`\n]*`/g, '')
}

/** GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors (file: string): Set<string> {
  const seen = new Map<string, number>()
  const ids = new Set<string>()
  const text = read(file).split('\n')
  let inFence = false
  for (const line of text) {
    if (/^```/.test(line)) inFence = !inFence
    const h = inFence ? null : /^#{1,6} (.+)$/.exec(line)
    if (h === null) continue
    const base = (h[1] ?? '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    ids.add(n === 0 ? base : `${base}-${n}`)
  }
  return ids
}

const LINK = /!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g

/** The files `npm pack` puts in the tarball (no build: only the list). */
const shipped = new Set((JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: new URL('.', root), encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path))

for (const file of documents()) {
  t.test(file, async (t) => {
    const links = [...prose(file).matchAll(LINK)].map((m) => m[1] ?? '')
    t.ok(links.length > 0 || file.startsWith('docs/'), `${links.length} links`)
    for (const link of links) {
      if (/^[a-z]+:/i.test(link)) continue // https:, mailto:: not this test's business
      const [path = '', anchor] = link.split('#')
      const target = path === '' ? file : new URL(path, new URL(file, root)).pathname.slice(new URL(root).pathname.length)
      t.ok(existsSync(new URL(target, root)), `${file}: ${link} (the file ${target})`)
      if (file !== 'CONTRIBUTING.md') t.ok(shipped.has(target), `${file}: ${link} (${target} is in the package)`)
      if (anchor !== undefined && target.endsWith('.md') && existsSync(new URL(target, root))) {
        t.ok(anchors(target).has(anchor), `${file}: ${link} (the heading #${anchor} in ${target})`)
      }
    }
  })
}

t.test('the README stays under 20 kB: depth goes in docs/', async (t) => {
  const bytes = Buffer.byteLength(read('README.md'))
  t.ok(bytes <= 20_000, `${bytes} bytes`)
})

t.test("the README's performance figures are bench/INSTRUCTIONS.md's last run", async (t) => {
  const section = /\n## Performance\n([\s\S]*?)\n## /.exec(read('README.md'))?.[1] ?? ''
  const figures = section.match(/\b\d{1,3}(?:,\d{3})+\b|\b\d\.\d{3}x\b/g) ?? []
  t.ok(figures.length >= 5, `${figures.length} figures quoted`)
  const bench = read('bench/INSTRUCTIONS.md')
  for (const figure of figures) t.ok(bench.includes(` ${figure} `), `${figure} is in bench/INSTRUCTIONS.md`)
})
