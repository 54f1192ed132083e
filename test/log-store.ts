// A revocation store in memory that keeps the whole contract the shipped stores keep
// (pages, a cursor of number and mark, `reset` when the cursor's entry is gone or marked
// otherwise, deadlines), with the faults a database has: calls that reject or never
// answer, slow reads on the test's clock, a page that fails once, a history restored
// from an older copy. Shared by the tests; not a test itself.
import { randomBytes } from 'node:crypto'
import type { Revocation, RevocationBatch, RevocationStore } from '../types/index.js'

interface Entry { seq: number, mark: string, revocation: Revocation }

export interface LogStore extends RevocationStore {
  down: 'no' | 'reject' | 'hang'
  /** Entries a read returns at most. */
  page: number
  /** What each read takes, on the clock the test passes (advanced by it); 0 for none. */
  slowSeconds: number
  /** The cursors asked for, in order. */
  readonly reads: Array<string | null>
  readonly pruned: number[]
  /** The read with this index (0 is the first) rejects, once. */
  failRead: number | null
  /** Adds push nothing while this is set: the test pushes when it chooses. */
  quiet: boolean
  /** Pushes to the subscribers, as a store's LISTEN or pub/sub would. */
  push: () => void
  /** The history as an older copy had it: its first `keep` entries (a restore); 0 is a flush. */
  restore: (keep: number) => void
  /** How many entries are held. */
  readonly size: number
}

export function logStore (clock?: { advance: (seconds: number) => void }): LogStore {
  let entries: Entry[] = []
  let seq = 0
  const subscribers = new Set<() => void>()
  const gate = async <T>(call: () => T): Promise<T> => {
    if (store.down === 'reject') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })
    if (store.down === 'hang') return await new Promise<T>(() => {})
    return call()
  }
  const read = (cursor: string | null, nowSeconds: number): RevocationBatch => {
    const [at, mark] = cursor === null ? [0, ''] : [Number(cursor.split(':')[0]), cursor.split(':')[1]]
    const here = entries.find((e) => e.seq === at)
    if (at !== 0 && here?.mark !== mark) return { ...read(null, nowSeconds), reset: true }
    const after = entries.filter((e) => e.seq > at).slice(0, store.page)
    const last = after.at(-1)
    return {
      revocations: after.filter((e) => e.revocation.until > nowSeconds).map((e) => ({ ...e.revocation })),
      cursor: last === undefined ? `${at}:${mark}` : `${last.seq}:${last.mark}`,
      more: after.length === store.page
    }
  }
  const store: LogStore = {
    down: 'no',
    page: 1000,
    slowSeconds: 0,
    reads: [],
    pruned: [],
    failRead: null,
    quiet: false,
    get size () { return entries.length },
    async add (revocation, deadline) {
      await gate(() => {
        if (deadline !== undefined && Date.now() > deadline) throw new Error('past its deadline')
        entries.push({ seq: ++seq, mark: randomBytes(6).toString('hex'), revocation: { ...revocation } })
      })
      if (!store.quiet) for (const notify of subscribers) queueMicrotask(notify)
    },
    async since (cursor, nowSeconds) {
      const index = store.reads.length
      store.reads.push(cursor)
      if (store.failRead === index) {
        store.failRead = null
        throw new Error('the connection was reset')
      }
      return await gate(() => {
        if (store.slowSeconds > 0) clock?.advance(store.slowSeconds)
        return read(cursor, nowSeconds)
      })
    },
    async prune (nowSeconds) {
      store.pruned.push(nowSeconds)
      await gate(() => { entries = entries.filter((e) => e.revocation.until >= nowSeconds || e.seq === seq) })
    },
    async subscribe (onChange) {
      subscribers.add(onChange)
      return async () => { subscribers.delete(onChange) }
    },
    push: () => { for (const notify of subscribers) notify() },
    restore: (keep) => {
      entries = entries.slice(0, keep)
      seq = entries.at(-1)?.seq ?? 0
    }
  }
  return store
}
