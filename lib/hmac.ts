// HMAC-SHA256 (RFC 2104) from two one-shot node:crypto hashes over key blocks
// prepared once: H((K ^ opad) || H((K ^ ipad) || m)). It skips createHmac's
// per-call object and key setup, and hex output skips a Buffer allocation per
// hash: together most of a verify's cost. Nothing here branches on or indexes
// by the content of the key or the message.
import { createHash, hash, timingSafeEqual } from 'node:crypto'
import { inspect } from 'node:util'

const BLOCK = 64
const HEX = 64
/** The longest message the scratch buffer takes without allocating. */
const SCRATCH = 4096
/** Messages up to this length get a view of the scratch buffer made once and kept. */
const VIEWS = 512

// Comparison buffer, shared (everything here is synchronous), with its two halves
// as views made once: one write fills both.
const both = Buffer.alloc(2 * HEX)
const expected = both.subarray(0, HEX)
const received = both.subarray(HEX)

// 1 for the bytes of lower-case hex digits. Checked by table, not by branches or a
// regular expression: digits and letters alternate at random in a signature, and
// every mispredicted branch costs more than the lookup.
const LOWER_HEX = new Uint8Array(256)
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1

export class HmacKey {
  // Private fields: util.inspect and JSON.stringify cannot reach them.
  readonly #inner: Buffer
  readonly #outer: Buffer
  readonly #views: Buffer[] = []

  constructor (secret: Buffer) {
    const key = Buffer.alloc(BLOCK)
    // A key longer than a block is hashed first, as RFC 2104 says; its length is not secret.
    ;(secret.length > BLOCK ? createHash('sha256').update(secret).digest() : secret).copy(key)
    this.#inner = Buffer.alloc(BLOCK + SCRATCH)
    this.#outer = Buffer.alloc(BLOCK + 32)
    for (let i = 0; i < BLOCK; i++) {
      this.#inner[i] = key[i] ^ 0x36
      this.#outer[i] = key[i] ^ 0x5c
    }
    key.fill(0)
  }

  /** The MAC of `message` in lower-case hex; its characters are taken as bytes (latin1: our messages are ASCII). */
  hexDigest (message: string): string {
    let data: Buffer
    if (message.length <= VIEWS) {
      const length = this.#inner.write(message, BLOCK, 'latin1')
      data = this.#views[length] ??= this.#inner.subarray(0, BLOCK + length)
    } else if (message.length <= SCRATCH) {
      data = this.#inner.subarray(0, BLOCK + this.#inner.write(message, BLOCK, 'latin1'))
    } else {
      data = Buffer.concat([this.#inner.subarray(0, BLOCK), Buffer.from(message, 'latin1')])
    }
    this.#outer.write(hash('sha256', data, 'binary'), BLOCK, 'binary')
    return hash('sha256', this.#outer, 'hex')
  }

  toJSON (): string {
    return '[HmacKey]'
  }

  [inspect.custom] (): string {
    return 'HmacKey <redacted>'
  }
}

/** findKey's answer when the signature is not 64 lower-case hex characters. */
export const NOT_HEX = -2

/**
 * The position in `keys` of the key whose MAC of `message` is `signature`, or -1
 * when none is, or NOT_HEX when the signature cannot be a MAC. Each MAC is compared
 * in constant time; one write puts both sides in the comparison buffer. Written as
 * latin1, a character above U+00FF would count as its low byte ('š', U+0161, as
 * 'a'): a signature that matches that way is not the MAC's own text, so it is refused.
 */
export function findKey (keys: readonly HmacKey[], message: string, signature: string): number {
  if (signature.length !== HEX) return NOT_HEX
  if (keys.length === 0) return -1
  for (let k = 0; k < keys.length; k++) {
    const mac = keys[k].hexDigest(message)
    both.write(mac + signature, 0, 'latin1')
    if (timingSafeEqual(expected, received)) return mac === signature ? k : NOT_HEX
  }
  // Only to say why: the received half still holds the signature's bytes.
  let hex = 1
  for (let i = 0; i < HEX; i++) hex &= LOWER_HEX[received[i]]
  return hex === 1 ? -1 : NOT_HEX
}
