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

// Comparison buffers, shared: everything here is synchronous.
const expected = Buffer.alloc(HEX)
const received = Buffer.alloc(HEX)

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
 * when none is; NOT_HEX, before any hashing, when the signature cannot be a MAC.
 * Each MAC is compared in constant time. The signature is written as UTF-8: a
 * string of 64 characters fills 64 bytes only if it is ASCII (latin1 would take
 * 'š', U+0161, for 'a').
 */
export function findKey (keys: readonly HmacKey[], message: string, signature: string): number {
  if (signature.length !== HEX || received.write(signature, 0, 'utf8') !== HEX) return NOT_HEX
  let hex = 1
  for (let i = 0; i < HEX; i++) hex &= LOWER_HEX[received[i]]
  if (hex !== 1) return NOT_HEX
  for (let k = 0; k < keys.length; k++) {
    expected.write(keys[k].hexDigest(message), 0, 'latin1')
    if (timingSafeEqual(expected, received)) return k
  }
  return -1
}
