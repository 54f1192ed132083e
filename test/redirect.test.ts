// safeRedirect: a `next` taken from the request becomes a path on this site or the
// fallback, judged as the WHATWG URL parser (the browser's) reads it.
import t from 'tap'
import fc from 'fast-check'
import { safeRedirect } from '../lib/index.js'

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)
const SITE = 'https://app.example.test'

t.test('paths of this site are kept, normalised as a browser reads them', async (t) => {
  const kept: Array<[string, string]> = [
    ['/', '/'],
    ['/dashboard', '/dashboard'],
    ['/a/b?x=1&y=2#top', '/a/b?x=1&y=2#top'],
    ['/a/../b/./c', '/b/c'],
    ['/café?q=naïve', '/caf%C3%A9?q=na%C3%AFve'],
    ['/a b', '/a%20b'],
    // Encoded separators are not separators: these stay paths on this site.
    ['/%2F%2Fevil.test', '/%2F%2Fevil.test'],
    ['/%5Cevil.test', '/%5Cevil.test'],
    ['/%09/evil.test', '/%09/evil.test'],
    ['/?next=//evil.test', '/?next=//evil.test'],
    ['/#//evil.test', '/#//evil.test']
  ]
  for (const [next, expected] of kept) t.equal(safeRedirect(next), expected, JSON.stringify(next))
})

t.test('anything that would leave the site gives the fallback', async (t) => {
  const refused = [
    '//evil.test', '///evil.test', '//evil.test/a', '/\\evil.test', '\\/evil.test', '\\\\evil.test',
    '/\t/evil.test', '/\n/evil.test', '/\r/evil.test', '\t//evil.test', ' //evil.test', '/\u0000/evil.test', '/\u007f',
    '/.//evil.test', '/..//evil.test', '/a/../..//evil.test', '/./\\evil.test',
    'https://evil.test', 'http:evil.test', 'https:/evil.test', 'HTTPS://evil.test', '//user@evil.test',
    'javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,x', 'evil.test', 'dashboard', '%2F%2Fevil.test',
    '', '//[', '//evil.test:99999'
  ]
  for (const next of refused) {
    t.equal(safeRedirect(next), '/', JSON.stringify(next))
    t.equal(safeRedirect(next, '/home'), '/home', `${JSON.stringify(next)} with a fallback`)
  }
})

t.test('a next that is not a string (absent, repeated in the query) gives the fallback', async (t) => {
  for (const next of [undefined, null, 42, ['/a', '/b'], { toString: () => '/a' }]) {
    t.equal(safeRedirect(next, '/home'), '/home', String(next))
  }
})

/** Everything a safe result must be, checked as a browser would read it from a page of ours. */
function checkSafe (next: string, result: string): void {
  if (result === '/') return
  if (!result.startsWith('/') || result.startsWith('//')) throw new Error(`not a path: ${result}`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f-\uffff\\]/.test(result)) throw new Error(`raw character a header should not carry: ${JSON.stringify(result)}`)
  for (const page of [`${SITE}/`, `${SITE}/deep/page?x=1`, 'http://127.0.0.1:3000/login']) {
    const there = new URL(result, page)
    if (there.origin !== new URL(page).origin) throw new Error(`${result} leaves ${page}`)
    // The browser goes where the app was asked to send it: normalising changed nothing.
    if (there.href !== new URL(next, page).href) throw new Error(`${next} became ${result}`)
  }
  if (safeRedirect(result) !== result) throw new Error(`not stable: ${result}`)
}

t.test('property: whatever the input, the result is the fallback or a path of this site meaning the same', async (t) => {
  const piece = fc.constantFrom('/', '//', '\\', '.', '..', '%2F', '%5C', '%09', '%2e', '\t', '\n', ' ', ':', '@', '?', '#', 'evil.test', 'a', 'é', '[', '\u0000', 'https:', 'javascript:')
  const crafted = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''))
  const anyText = fc.oneof(crafted, fc.string(), fc.string({ unit: 'binary' }), crafted.map((s) => `/${s}`))
  fc.assert(fc.property(anyText, (next) => { checkSafe(next, safeRedirect(next)) }), { numRuns: RUNS * 3 })
  t.pass(`${RUNS * 3} generated inputs`)
})

t.test('control: the old rule ("starts with / but not //") lets these leave the site, as a browser parses them', async (t) => {
  const oldRule = (next: string): boolean => next.startsWith('/') && !next.startsWith('//')
  for (const next of ['/\\evil.test', '/\t/evil.test', '/\n/evil.test', '/\\/evil.test']) {
    t.ok(oldRule(next), `the old rule accepts ${JSON.stringify(next)}`)
    t.equal(new URL(next, SITE).host, 'evil.test', `which is evil.test to the URL parser: ${JSON.stringify(next)}`)
    t.equal(safeRedirect(next), '/', `safeRedirect refuses ${JSON.stringify(next)}`)
  }
})
