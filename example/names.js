// @ts-check
// Account names people can tell apart. A name is stored as typed after Unicode NFKC
// (so "ﬁ" and "fi", full-width and plain letters, are one name); it may not hold
// invisible or control characters, nor mix scripts whose letters look alike. Two
// names are the same account when their keys are equal: case folded (Unicode, not
// only ASCII) and with the Cyrillic and Greek letters that look like Latin ones
// read as those, so "Ann" and an all-Cyrillic "Аnn" look-alike cannot both exist.

/** Control, format (zero-width, bidi), surrogate, private-use and unassigned code points, and anything invisible. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]/u
/** Spaces other than the plain one (NFKC turns most, like no-break spaces, into it). */
const ODD_SPACE = /[^\S ]/u

/** The scripts told apart, each with the characters of it (Script_Extensions). */
const SCRIPTS = ['Latin', 'Greek', 'Cyrillic', 'Armenian', 'Georgian', 'Cherokee', 'Hebrew', 'Arabic', 'Devanagari', 'Bengali', 'Thai', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Bopomofo']
  .map((name) => ({ name, pattern: new RegExp(`\\p{Script_Extensions=${name}}`, 'u') }))
/** Letters of scripts not in the list above: kept apart from each other by their own script. */
const LETTER = /[\p{L}\p{M}]/u

// Scripts written together (UTS #39's "highly restrictive" sets): Latin with Japanese, Chinese or Korean.
const TOGETHER = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul'])
]

// Cyrillic and Greek letters that display like Latin ones (after case folding), and those.
const LIKE = 'авсԁеһіјкмнорԛѕтуԝхүӏ' + 'αβεηικμνορτυχω'
const LATIN = 'abcdehijkmhopqstywxyl' + 'abenikuvoptuxw'
const LOOKALIKE = new Map([...LIKE].map((char, i) => [char, LATIN[i]]))

/** The scripts a name's letters belong to. */
function scriptsOf (/** @type {string} */ name) {
  const found = new Set()
  for (const char of name) {
    if (!LETTER.test(char)) continue
    const scripts = SCRIPTS.filter((s) => s.pattern.test(char)).map((s) => s.name)
    // A character of several scripts (Script_Extensions) alone mixes nothing: count the first.
    found.add(scripts.length === 0 ? `other:${char}` : scripts.length === 1 ? scripts[0] : scripts.find((s) => found.has(s)) ?? scripts[0])
  }
  return [...found]
}

/** Why a name (already NFKC and trimmed) is refused, or undefined when it is fine. */
export function nameProblem (/** @type {string} */ name) {
  if (INVISIBLE.test(name)) return 'A name cannot hold control characters or invisible ones (zero-width spaces, direction marks).'
  if (ODD_SPACE.test(name) || name.includes('  ')) return 'A name can have single plain spaces between words, no other spacing.'
  const scripts = scriptsOf(name)
  if (scripts.length > 1 && !TOGETHER.some((set) => scripts.every((s) => set.has(s)))) {
    const shown = scripts.map((s) => s.startsWith('other:') ? 'other' : s)
    return `A name cannot mix ${[...new Set(shown)].join(' and ')} letters: some of them look alike, so the name could pass for another.`
  }
  return undefined
}

/** The name as stored: NFKC, outer spaces trimmed. */
export const normalizeName = (/** @type {string} */ raw) => raw.normalize('NFKC').trim()

/**
 * The key two names are compared by: full case folding (upper then lower case maps
 * ß to ss and final sigma to sigma, as Unicode's folding does), then look-alikes read as Latin.
 */
export function nameKey (/** @type {string} */ name) {
  const folded = name.toUpperCase().toLowerCase().normalize('NFKC')
  let key = ''
  for (const char of folded) key += LOOKALIKE.get(char) ?? char
  return key
}
