// The revocations that can still matter, held in memory by every process: looked up
// on the request path, so a lookup is a few comparisons and allocates nothing.
// Revoked sessions are kept as a 64-bit fingerprint and an expiry, 12 bytes each in
// sorted typed arrays, with a bucket index over the fingerprint's top bits (about one
// byte more each); new ones wait in a small map until the next merge.
import type { Revocation } from '../../types/index.js'
import { fingerprintHigh, fingerprintLow } from './fingerprint.js'

/** New session revocations wait here, looked up by key, until this many trigger a merge. */
const MERGE_AT = 4096
/** About this many fingerprints share a bucket of the index. */
const PER_BUCKET = 4

export interface UserCutoff {
  /** Unix milliseconds: sessions whose login is before this are refused. */
  after: number
  /** Unix seconds: when the cut-off can be dropped. */
  until: number
}

export class RevocationTable {
  #high: Uint32Array = new Uint32Array(0)
  #low: Uint32Array = new Uint32Array(0)
  #until: Uint32Array = new Uint32Array(0)
  #buckets: Uint32Array = new Uint32Array(2)
  #shift = 31
  #pending = new Map<string, number>()
  readonly users = new Map<string, UserCutoff>()

  /** How many revocations are held (sessions and users). */
  get size (): number {
    return this.#high.length + this.#pending.size + this.users.size
  }

  /** Heap bytes of the session arrays and their index (the pending map aside). */
  get sessionBytes (): number {
    return this.#high.byteLength + this.#low.byteLength + this.#until.byteLength + this.#buckets.byteLength
  }

  add (revocation: Revocation): void {
    if (revocation.kind === 'session') {
      const known = this.#pending.get(revocation.id)
      if (known === undefined || known < revocation.until) this.#pending.set(revocation.id, revocation.until)
      if (this.crowded) this.merge(0)
      return
    }
    const known = this.users.get(revocation.id)
    if (known === undefined) this.users.set(revocation.id, { after: revocation.after, until: revocation.until })
    else {
      known.after = Math.max(known.after, revocation.after)
      known.until = Math.max(known.until, revocation.until)
    }
  }

  /** Whether the session known by `key` is revoked at `nowSeconds`. */
  sessionRevoked (key: string, nowSeconds: number): boolean {
    if (this.#pending.size !== 0) {
      const until = this.#pending.get(key)
      if (until !== undefined && until >= nowSeconds) return true
    }
    if (this.#high.length === 0) return false
    const high = fingerprintHigh(key)
    const low = fingerprintLow(key)
    const bucket = high >>> this.#shift
    for (let i = this.#buckets[bucket], end = this.#buckets[bucket + 1]; i < end; i++) {
      if (this.#high[i] === high && this.#low[i] === low) return this.#until[i] >= nowSeconds
    }
    return false
  }

  /** Whether a login of `userId` at `loginMs` is before that user's cut-off. */
  userRevoked (userId: string, loginMs: number, nowSeconds: number): boolean {
    const cutoff = this.users.get(userId)
    return cutoff !== undefined && loginMs < cutoff.after && cutoff.until >= nowSeconds
  }

  /**
   * Moves the pending revocations into the sorted arrays and drops every revocation
   * whose expiry is before `nowSeconds` (0 keeps them all). Linear in what is held.
   */
  merge (nowSeconds: number): void {
    for (const [id, cutoff] of this.users) if (cutoff.until < nowSeconds) this.users.delete(id)
    const fresh: Array<[number, number, number]> = []
    for (const [key, until] of this.#pending) {
      if (until >= nowSeconds) fresh.push([fingerprintHigh(key), fingerprintLow(key), until])
    }
    this.#pending.clear()
    fresh.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    const total = this.#high.length + fresh.length
    const high = new Uint32Array(total)
    const low = new Uint32Array(total)
    const until = new Uint32Array(total)
    let count = 0
    const put = (h: number, l: number, u: number): void => {
      if (u < nowSeconds) return
      // The same session revoked twice keeps the later expiry.
      if (count > 0 && high[count - 1] === h && low[count - 1] === l) {
        until[count - 1] = Math.max(until[count - 1], u)
        return
      }
      high[count] = h
      low[count] = l
      until[count++] = u
    }
    let i = 0
    let j = 0
    while (i < this.#high.length || j < fresh.length) {
      const takeOld = j === fresh.length || (i < this.#high.length &&
        (this.#high[i] < fresh[j][0] || (this.#high[i] === fresh[j][0] && this.#low[i] <= fresh[j][1])))
      if (takeOld) {
        put(this.#high[i], this.#low[i], this.#until[i])
        i++
      } else {
        put(fresh[j][0], fresh[j][1], fresh[j][2])
        j++
      }
    }
    this.#index(high.slice(0, count), low.slice(0, count), until.slice(0, count))
  }

  /** Whether enough revocations wait in the map to be worth a merge. */
  get crowded (): boolean {
    return this.#pending.size >= MERGE_AT
  }

  #index (high: Uint32Array, low: Uint32Array, until: Uint32Array): void {
    const bits = Math.ceil(Math.log2(Math.max(2, high.length / PER_BUCKET)))
    this.#shift = 32 - bits
    this.#high = high
    this.#low = low
    this.#until = until
    this.#buckets = new Uint32Array(2 ** bits + 1)
    for (let i = 0; i < high.length; i++) this.#buckets[(high[i] >>> this.#shift) + 1]++
    for (let b = 1; b < this.#buckets.length; b++) this.#buckets[b] += this.#buckets[b - 1]
  }
}
