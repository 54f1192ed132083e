// HMAC-SHA256 (RFC 2104) from two one-shot node:crypto hashes over key blocks
// prepared once: H((K ^ opad) || H((K ^ ipad) || m)). It skips createHmac's
// per-call object and key setup, the larger part of a verify's cost. Nothing
// here branches on or indexes by the key's or the message's content.
import { createHash, hash } from 'node:crypto'
import { inspect } from 'node:util'

const BLOCK = 64
const DIGEST = 32
/** The longest message the scratch buffer takes without allocating. */
const SCRATCH = 4096

export class HmacKey {
  // Private fields: util.inspect and JSON.stringify cannot reach them.
  readonly #inner: Buffer
  readonly #outer: Buffer

  constructor (secret: Buffer) {
    const key = Buffer.alloc(BLOCK)
    // A key longer than a block is hashed first, as RFC 2104 says; its length is not secret.
    ;(secret.length > BLOCK ? createHash('sha256').update(secret).digest() : secret).copy(key)
    this.#inner = Buffer.alloc(BLOCK + SCRATCH)
    this.#outer = Buffer.alloc(BLOCK + DIGEST)
    for (let i = 0; i < BLOCK; i++) {
      this.#inner[i] = key[i] ^ 0x36
      this.#outer[i] = key[i] ^ 0x5c
    }
    key.fill(0)
  }

  /** The MAC of `message`, whose characters are taken as bytes (latin1; our messages are ASCII). */
  digest (message: string): Buffer {
    let inner: Buffer
    if (message.length <= SCRATCH) {
      const end = BLOCK + this.#inner.write(message, BLOCK, 'latin1')
      inner = hash('sha256', this.#inner.subarray(0, end), 'buffer')
    } else {
      inner = hash('sha256', Buffer.concat([this.#inner.subarray(0, BLOCK), Buffer.from(message, 'latin1')]), 'buffer')
    }
    inner.copy(this.#outer, BLOCK)
    return hash('sha256', this.#outer, 'buffer')
  }

  toJSON (): string {
    return '[HmacKey]'
  }

  [inspect.custom] (): string {
    return 'HmacKey <redacted>'
  }
}
