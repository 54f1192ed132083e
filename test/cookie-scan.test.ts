// Reading our cookie from the Cookie header: the same values a plain split would
// give, names and values trimmed of space and tab only (RFC 6265), and work that
// grows with the header's length, never faster, whatever the header's shape.
import t from 'tap'
import fc from 'fast-check'
import { readCookies } from '../lib/cookie.js'

// The rule, written the obvious way: split on ";", the name is what comes before
// the first "=", both sides trimmed of space and tab.
const blanks = /^[ \t]+|[ \t]+$/g
function reference (header: string, name: string): string[] {
  const found: string[] = []
  for (const segment of header.split(';')) {
    const eq = segment.indexOf('=')
    if (eq === -1 || segment.slice(0, eq).replace(blanks, '') !== name) continue
    const value = segment.slice(eq + 1).replace(blanks, '')
    let decoded = value
    try { decoded = value.includes('%') ? decodeURIComponent(value) : value } catch {}
    found.push(decoded)
  }
  return found
}

t.test('the values found are those of the plain split, for any header', async (t) => {
  const runs = Number(process.env.PROPERTY_RUNS ?? 300) * 10
  const unit = fc.constantFrom('s', 'e', 'ss', 'session', 'sessions', 'x', '=', ';', ' ', '\t', '\u00a0', '\u000b', '\u000c', '%', '%41', 'a.b')
  fc.assert(fc.property(
    fc.string({ unit, maxLength: 40 }),
    fc.constantFrom('session', 's', 'ss', 'sess'),
    (header, name) => {
      const got = readCookies(header, name)
      const want = reference(header, name)
      return got.length === want.length && got.every((v, i) => v === want[i])
    }
  ), { numRuns: runs })
  t.pass(`${runs} headers`)
})

t.test('only space and horizontal tab are trimmed around names and values', async (t) => {
  t.same(readCookies(' \tsession \t= \tv1 \t;session=v2', 'session'), ['v1', 'v2'])
  for (const blank of ['\u00a0', '\u000b', '\u000c', '\r', '\n']) {
    const code = blank.charCodeAt(0).toString(16)
    t.same(readCookies(`${blank}session=x`, 'session'), [], `U+${code} before the name is part of the name`)
    t.same(readCookies(`session${blank}=x`, 'session'), [], `U+${code} after the name is part of the name`)
    t.same(readCookies(`session=${blank}x${blank}`, 'session'), [`${blank}x${blank}`], `U+${code} around the value is part of the value`)
  }
})

t.test('the name must be a whole cookie name, not part of a name or a value', async (t) => {
  t.same(readCookies('mysession=a; session2=b; x=session=c; session; session =d', 'session'), ['d'])
  t.same(readCookies('session=a;session=b; session=', 'session'), ['a', 'b', ''])
  t.same(readCookies('session=a=b', 'session'), ['a=b'], 'the first "=" ends the name')
})

// Work is counted, not timed: during each call, the String methods a scan can use
// are wrapped to add up how many characters each one looked at. A scan that is
// linear does at most a few units of work per character of the header, for every
// shape; the old scan, whose indexOf('=') ran to the end of the header from every
// segment without one, did about a segment's worth per segment.
function work (header: string, name: string): { units: number, found: number } {
  const proto = String.prototype
  const saved = { indexOf: proto.indexOf, charCodeAt: proto.charCodeAt, slice: proto.slice, trim: proto.trim, includes: proto.includes }
  let units = 0
  proto.indexOf = function (this: string, search: string, from = 0) {
    const at = saved.indexOf.call(this, search, from)
    units += (at === -1 ? this.length : at + search.length) - Math.max(0, from)
    return at
  }
  proto.charCodeAt = function (this: string, i: number) { units++; return saved.charCodeAt.call(this, i) }
  proto.slice = function (this: string, a?: number, b?: number) { const s = saved.slice.call(this, a, b); units += s.length; return s }
  proto.trim = function (this: string) { units += this.length; return saved.trim.call(this) }
  proto.includes = function (this: string, search: string, from?: number) { units += this.length; return saved.includes.call(this, search, from) }
  let found: number
  try {
    found = readCookies(header, name).length
  } finally {
    Object.assign(proto, saved)
  }
  return { units, found }
}

t.test('the work of a scan is linear in the header\'s length, whatever its shape', async (t) => {
  const shapes: Record<string, string> = {
    'segments without "="': 'a;',
    'our name without "="': 'session;',
    'our name, no separators': 'session',
    'spaces before our name': '   session',
    'semicolons only': ';',
    'equals only': '=',
    'empty cookies': 'a=;',
    'our cookie, empty': 'session=;',
    'blanks around "="': 'session \t = \t ;'
  }
  for (const [shape, unit] of Object.entries(shapes)) {
    const small = work(unit.repeat(2000), 'session')
    const large = work(unit.repeat(20000), 'session')
    const length = unit.length * 20000
    t.ok(large.units >= length, `${shape}: the counter saw the scan (${large.units} units)`)
    t.ok(large.units <= 4 * length, `${shape}: at most 4 units per character (${(large.units / length).toFixed(2)})`)
    t.ok(large.units <= 11 * small.units, `${shape}: 10 times the header, at most 11 times the work (${(large.units / small.units).toFixed(2)})`)
  }
})

t.test('a header of 500,000 segments without "=" is read, and our cookie after them found', async (t) => {
  const header = 'a;'.repeat(500_000) + 'session=tail'
  t.same(readCookies(header, 'session'), ['tail'])
  t.same(readCookies('session=head;' + 'a;'.repeat(500_000), 'session'), ['head'])
})
