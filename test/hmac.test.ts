// lib/hmac.ts is not a single node:crypto call, so it must equal createHmac exactly.
import { createHmac, randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import t from 'tap'
import fc from 'fast-check'
import { HmacKey, NOT_HEX, findKey } from '../lib/hmac.js'

const reference = (key: Buffer, message: string): string => createHmac('sha256', key).update(message, 'latin1').digest('hex')
const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1')

t.test('every key and message length around the block and scratch boundaries', async (t) => {
  const keyLengths = [0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200]
  const messageLengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 4031, 4032, 4095, 4096, 4097, 5000]
  let checked = 0
  for (const k of keyLengths) {
    const key = randomBytes(k)
    const mac = new HmacKey(key)
    for (const m of messageLengths) {
      const message = latin1(randomBytes(m))
      if (mac.hexDigest(message) !== reference(key, message)) t.fail(`key ${k} bytes, message ${m} bytes`)
      checked++
    }
  }
  t.equal(checked, keyLengths.length * messageLengths.length, `${checked} length pairs equal createHmac`)
})

t.test('a large random sample of keys and messages equals createHmac', async (t) => {
  const runs = Number(process.env.PROPERTY_RUNS ?? 300) * 10
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 160 }),
    fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 4000, maxLength: 4200 })),
    (key, message) => new HmacKey(Buffer.from(key)).hexDigest(latin1(message)) === reference(Buffer.from(key), latin1(message))
  ), { numRuns: runs })
  t.pass(`${runs} random pairs`)
})

t.test('one key gives the same MAC on every call: the scratch buffer leaves nothing behind', async (t) => {
  const key = randomBytes(64)
  const mac = new HmacKey(key)
  const long = latin1(randomBytes(3000))
  mac.hexDigest(long)
  t.equal(mac.hexDigest('short'), reference(key, 'short'))
  t.equal(mac.hexDigest(long), reference(key, long))
  t.equal(findKey([mac], 'short', reference(key, 'short')), 0)
  t.equal(findKey([mac], 'short', reference(key, 'shorT')), -1)
})

t.test('findKey: the first key whose MAC matches, -1 for none, NOT_HEX for a signature that cannot be one', async (t) => {
  const keys = [randomBytes(32), randomBytes(32), randomBytes(32)]
  const macs = keys.map((k) => new HmacKey(k))
  for (let i = 0; i < keys.length; i++) t.equal(findKey(macs, 'message', reference(keys[i], 'message')), i)
  const good = reference(keys[1], 'message')
  const letter = good.search(/[a-f]/)
  t.equal(findKey(macs, 'other', good), -1, 'a MAC of another message')
  t.equal(findKey([], 'message', good), -1, 'no keys')
  const forms: Array<[string, string]> = [
    ['upper-case hex', good.toUpperCase()],
    ['one letter re-cased', good.slice(0, letter) + good[letter].toUpperCase() + good.slice(letter + 1)],
    ['63 characters', good.slice(1)],
    ['65 characters', good + '0'],
    ['not hex', 'z'.repeat(64)],
    // latin1 would write U+0161 as 0x61 ("a") and U+0130 as 0x30 ("0")
    ['a character whose low byte is a hex digit', good.slice(0, 63) + String.fromCharCode(0x100 + good.charCodeAt(63))],
    ['the same, first', String.fromCharCode(0x100 + good.charCodeAt(0)) + good.slice(1)],
    ['latin-1 letters', 'é'.repeat(64)],
    ['empty', '']
  ]
  for (const [what, signature] of forms) t.equal(findKey(macs, 'message', signature), NOT_HEX, what)
  t.equal(findKey(macs, 'message', good), 1, 'and the right one still matches after them')
})

t.test('the key material cannot be printed or serialised', async (t) => {
  const key = Buffer.from('inspect-me-not-0123456789abcdef0123456789')
  const mac = new HmacKey(key)
  const shown = [inspect(mac, { showHidden: true, depth: Infinity }), JSON.stringify({ mac }), String(Object.keys(mac))].join('\n')
  t.notOk(shown.includes(key.toString()), 'no key text')
  t.notOk(shown.includes(key.toString('hex')), 'no key hex')
  t.equal(inspect(mac), 'HmacKey <redacted>')
  t.equal(JSON.stringify({ mac }), '{"mac":"[HmacKey]"}')
})
