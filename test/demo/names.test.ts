// Account names people can tell apart: NFKC, no invisible or control characters, no
// mix of look-alike scripts, compared by Unicode case folding and look-alike letters.
import t from 'tap'
import { nameKey, nameProblem, normalizeName } from '../../example/names.js'
import { readCredentials } from '../../example/input.js'

const INVISIBLE = 'A name cannot hold control characters or invisible ones (zero-width spaces, direction marks).'

t.test('NFKC: compatibility forms are the plain name', async (t) => {
  t.equal(normalizeName('ｆｕｌｌ ｗｉｄｔｈ'), 'full width')
  t.equal(normalizeName('\ufb01ona'), 'fiona', 'the fi ligature')
  t.equal(normalizeName('Zoe\u0308'), 'Zo\u00eb', 'composed')
  t.equal(normalizeName('Ann\u00a0Lee'), 'Ann Lee', 'a no-break space is a space')
  t.equal(normalizeName('  Ann  '), 'Ann')
})

t.test('invisible and control characters are refused, each with why', async (t) => {
  const cases: Array<[string, string]> = [
    ['A\u200bnn', 'zero-width space'],
    ['An\u200dn', 'zero-width joiner'],
    ['Ann\u00ad', 'soft hyphen'],
    ['An\ufeffn', 'byte order mark (zero-width no-break space)'],
    ['Ann\u202egnp', 'right-to-left override'],
    ['Ann\u2066', 'bidi isolate'],
    ['Ann\u200e', 'left-to-right mark'],
    ['A\u0000nn', 'NUL'],
    ['Ann\nBob', 'newline'],
    ['Ann\u3164', 'Hangul filler'],
    ['Ann\ue000', 'private use'],
    ['An\u034fn', 'combining grapheme joiner'],
    ['Ann\ufe0f', 'variation selector']
  ]
  for (const [name, what] of cases) t.equal(nameProblem(normalizeName(name)), INVISIBLE, what)
  t.equal(nameProblem('Ann\tLee'), INVISIBLE, 'a tab is a control character')
  t.equal(nameProblem('Ann  Lee'), 'A name can have single plain spaces between words, no other spacing.')
  t.equal(nameProblem('Ann\u2003Lee'), 'A name can have single plain spaces between words, no other spacing.', 'an em space')
})

t.test('names mixing look-alike scripts are refused; one script, or scripts written together, are fine', async (t) => {
  t.equal(nameProblem('\u0410nn'), 'A name cannot mix Cyrillic and Latin letters: some of them look alike, so the name could pass for another.', 'Cyrillic A')
  t.equal(nameProblem('P\u0430yPal'), 'A name cannot mix Latin and Cyrillic letters: some of them look alike, so the name could pass for another.')
  t.equal(nameProblem('\u039fscar'), 'A name cannot mix Greek and Latin letters: some of them look alike, so the name could pass for another.', 'Greek Omicron')
  t.match(nameProblem('\u0391\u043d\u0430'), /cannot mix Greek and Cyrillic letters/)
  for (const fine of ['Ann', 'Zoë O\'Neil-Smith', 'Анна', 'Ἀλέξανδρος', '山田太郎', '山田たろう', 'Tanaka さん', '김철수', 'R2-D2', 'محمد', 'अनु']) {
    t.equal(nameProblem(normalizeName(fine)), undefined, fine)
  }
})

t.test('the key: Unicode case folding, and the Cyrillic and Greek letters that look Latin read as Latin', async (t) => {
  t.equal(nameKey('ANN'), nameKey('ann'))
  t.equal(nameKey('STRASSE'), nameKey('straße'), 'ß folds to ss')
  t.equal(nameKey('ΣΟΦΙΑ'), nameKey('σοφια'))
  t.equal(nameKey('Οδυσσεύς'), nameKey('ΟΔΥΣΣΕΎΣ'), 'final sigma and capital sigma')
  t.equal(nameKey('ÉLODIE'), nameKey('élodie'), 'beyond ASCII')
  t.equal(nameKey('\u0410\u0412\u0421'), nameKey('ABC'), 'an all-Cyrillic look-alike has the Latin name\'s key')
  t.equal(nameKey('\u0421\u043e\u0440'), nameKey('Cop'))
  t.equal(nameKey('АННА'), nameKey('AHHA'), 'Cyrillic capital EN looks like Latin H')
  t.not(nameKey('Анна'), nameKey('Anna'), 'Cyrillic en does not look like Latin n: two names')
  t.not(nameKey('Ann'), nameKey('Anne'))
})

t.test('the forms say why a name is refused, and refill nothing that was refused', async (t) => {
  t.same(readCredentials({ name: 'A\u200bnn', password: 'long enough' }, true), { error: INVISIBLE, name: '' })
  t.same(readCredentials({ name: '\u0410nn', password: 'long enough' }, false), { error: 'A name cannot mix Cyrillic and Latin letters: some of them look alike, so the name could pass for another.', name: '' })
  t.same(readCredentials({ name: 'ｆｕｌｌ', password: 'long enough' }, true), { name: 'full', password: 'long enough' })
  t.same(readCredentials({ name: 'x'.repeat(257), password: 'long enough' }, true), { error: 'A name has at most 64 characters.', name: '' }, 'bounded before NFKC')
  t.same(readCredentials({ name: '\ufdfa'.repeat(4), password: 'long enough' }, true), { error: 'A name has at most 64 characters.', name: '' }, 'counted after NFKC (one character becomes 18)')
})
