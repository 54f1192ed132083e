// The revocations that can still matter, held in memory by every process: looked up
// on the request path, so a lookup is a few comparisons and allocates nothing.
// Revoked sessions are kept as a 64-bit fingerprint and an expiry, 12 bytes each in
// sorted typed arrays, with a bucket index over the fingerprint's top bits (about one
// byte more each); new ones wait in a map until the next merge. A user's sign-outs
// everywhere fold into one entry per user, however many there were.
import type { Revocation } from '../../types/index.js'
import { fingerprintHigh, fingerprintLow } from './fingerprint.js'

/** New session revocations wait in the map until this many (or an eighth of those held) trigger a merge. */
const MERGE_AT = 4096
/** About this many fingerprints share a bucket of the index. */
const PER_BUCKET = 4
/** Expiries are Unix seconds in 32 bits; a later one is held as this (the year 2106). */
const LATEST = 0xffffffff
/** A session revocation's id in fingerprint form (`memoryStore().since` hands them out so). */
const FINGERPRINT = /^#([0-9a-f]{8})([0-9a-f]{8})$/

const expiry = (until: number): number => Math.min(LATEST, Math.max(0, Math.floor(until)))
const hex = (n: number): string => n.toString(16).padStart(8, '0')

/**
 * What a user's sign-outs everywhere refuse, folded into one entry. A session whose
 * generation (the token's `gen`) is below its limit is refused; the limit is `after`
 * for every session but `except` (the one a "sign out the other sessions" kept), whose
 * limit is `floor`, the latest cut-off that did not keep it (0 for none). Folding is
 * order-free: any two processes that read the same cut-offs hold the same limits.
 */
export interface UserCutoff {
  after: number
  except: string | null
  floor: number
  /** Unix seconds: when the entry can be dropped. */
  until: number
}

/** How many live revocations one table holds that another does not (see `missingFrom`). */
export interface Missing { sessions: number, users: number }

type Fingerprint = [high: number, low: number, until: number]

function fingerprintOf (id: string): [number, number] {
  const form = FINGERPRINT.exec(id)
  return form === null ? [fingerprintHigh(id), fingerprintLow(id)] : [parseInt(form[1], 16), parseInt(form[2], 16)]
}

export class RevocationTable {
  #high: Uint32Array = new Uint32Array(0)
  #low: Uint32Array = new Uint32Array(0)
  #until: Uint32Array = new Uint32Array(0)
  #buckets: Uint32Array = new Uint32Array(2)
  #shift = 31
  /** New session revocations by the high half of their fingerprint: [low, until] pairs, flat. */
  #pending = new Map<number, number[]>()
  #pendingCount = 0
  readonly #users = new Map<string, UserCutoff>()

  /** How many session revocations are held. */
  get sessions (): number {
    return this.#high.length + this.#pendingCount
  }

  /** How many revocations are held (sessions and users). */
  get size (): number {
    return this.sessions + this.#users.size
  }

  /** Heap bytes of the session arrays and their index (the pending map aside). */
  get sessionBytes (): number {
    return this.#high.byteLength + this.#low.byteLength + this.#until.byteLength + this.#buckets.byteLength
  }

  add (revocation: Revocation): void {
    if (revocation.kind === 'session') {
      this.#addSession(revocation.id, expiry(revocation.until))
      if (this.#pendingCount >= Math.max(MERGE_AT, this.#high.length >>> 3)) this.merge(0)
      return
    }
    this.#addUser(revocation.id, revocation.after, revocation.except ?? null, revocation.until)
  }

  #addSession (id: string, until: number): void {
    const [high, low] = fingerprintOf(id)
    const pairs = this.#pending.get(high)
    if (pairs === undefined) {
      this.#pending.set(high, [low, until])
      this.#pendingCount++
      return
    }
    for (let i = 0; i < pairs.length; i += 2) {
      if (pairs[i] === low) {
        pairs[i + 1] = Math.max(pairs[i + 1], until)
        return
      }
    }
    pairs.push(low, until)
    this.#pendingCount++
  }

  #addUser (id: string, after: number, except: string | null, until: number): void {
    const known = this.#users.get(id)
    if (known === undefined) {
      this.#users.set(id, { after, except, floor: except === null ? after : 0, until })
      return
    }
    known.until = Math.max(known.until, until)
    if (after > known.after) {
      // The newer cut-off leads. The one it replaces still refuses whatever the new one
      // keeps, unless both keep the same session.
      if (except === null) known.floor = after
      else if (except !== known.except) known.floor = known.after
      known.after = after
      known.except = except
    } else if (except === null || except !== known.except) {
      known.floor = Math.max(known.floor, after)
    }
  }

  /** Whether the session known by `key` is revoked at `nowSeconds`. */
  sessionRevoked (key: string, nowSeconds: number): boolean {
    if (this.sessions === 0) return false
    const [high, low] = fingerprintOf(key)
    return this.fingerprintRevoked(high, low, nowSeconds)
  }

  /** Whether the session whose key has this fingerprint is revoked at `nowSeconds`. */
  fingerprintRevoked (high: number, low: number, nowSeconds: number): boolean {
    const pairs = this.#pending.get(high)
    if (pairs !== undefined) {
      for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === low && pairs[i + 1] >= nowSeconds) return true
    }
    const bucket = high >>> this.#shift
    for (let i = this.#buckets[bucket], end = this.#buckets[bucket + 1]; i < end; i++) {
      if (this.#high[i] === high && this.#low[i] === low) return this.#until[i] >= nowSeconds
    }
    return false
  }

  /** The user's folded cut-offs, if any is live at `nowSeconds`. */
  user (userId: string, nowSeconds: number): UserCutoff | undefined {
    if (this.#users.size === 0) return undefined
    const cutoff = this.#users.get(userId)
    return cutoff !== undefined && cutoff.until >= nowSeconds ? cutoff : undefined
  }

  /**
   * Moves the pending revocations into the sorted arrays and drops every revocation
   * whose expiry is before `nowSeconds` (0 keeps them all). Linear in what is held.
   */
  merge (nowSeconds: number): void {
    for (const [id, cutoff] of this.#users) if (cutoff.until < nowSeconds) this.#users.delete(id)
    const fresh: Fingerprint[] = []
    for (const [high, pairs] of this.#pending) {
      for (let i = 0; i < pairs.length; i += 2) if (pairs[i + 1] >= nowSeconds) fresh.push([high, pairs[i], pairs[i + 1]])
    }
    this.#pending.clear()
    this.#pendingCount = 0
    // By the high half, then the low: a difference in the high half outweighs any in the low.
    fresh.sort((a, b) => (a[0] - b[0]) * 4294967296 + (a[1] - b[1]))
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

  /** Every live revocation held, sessions in fingerprint form (`#` and 16 hex digits). */
  * entries (nowSeconds: number): Generator<Revocation> {
    this.merge(nowSeconds)
    for (let i = 0; i < this.#high.length; i++) {
      yield { kind: 'session', id: '#' + hex(this.#high[i]) + hex(this.#low[i]), until: this.#until[i] }
    }
    for (const [id, { after, except, floor, until }] of this.#users) {
      // A folded entry as the cut-offs it stands for: the newest, and what refuses its exception.
      if (except !== null && floor !== 0) yield { kind: 'user', id, after: floor, until }
      yield except === null ? { kind: 'user', id, after, until } : { kind: 'user', id, after, until, except }
    }
  }

  /** How many revocations live at `nowSeconds` this table holds that `other` does not enforce. */
  missingFrom (other: RevocationTable, nowSeconds: number): Missing {
    this.merge(nowSeconds)
    other.merge(nowSeconds)
    let sessions = 0
    let j = 0
    for (let i = 0; i < this.#high.length; i++) {
      const h = this.#high[i]
      const l = this.#low[i]
      while (j < other.#high.length && (other.#high[j] < h || (other.#high[j] === h && other.#low[j] < l))) j++
      const held = j < other.#high.length && other.#high[j] === h && other.#low[j] === l && other.#until[j] >= this.#until[i]
      if (!held) sessions++
    }
    let users = 0
    for (const [id, mine] of this.#users) if (!covers(other.#users.get(id), mine)) users++
    return { sessions, users }
  }
}

/** Whether `theirs` refuses every session `mine` refuses, for as long. */
function covers (theirs: UserCutoff | undefined, mine: UserCutoff): boolean {
  if (theirs === undefined || theirs.until < mine.until || theirs.after < mine.after) return false
  const limit = (c: UserCutoff, key: string | null): number => key !== null && key === c.except ? c.floor : c.after
  return limit(theirs, mine.except) >= limit(mine, mine.except) && limit(theirs, theirs.except) >= limit(mine, theirs.except)
}
