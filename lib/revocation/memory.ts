// A store in this process's memory: the default, for one process, and for tests. It is a
// revocation table, which every plugin instance given the same store enforces directly:
// about 13 bytes a revoked session, nothing to read, never stale. Only a reader of its
// own (a store of the app's that wraps it) makes it keep a log of what was added.
import type { Revocation, RevocationStore } from '../../types/index.js'
import { RevocationTable } from './table.js'

const tables = new WeakMap<RevocationStore, RevocationTable>()

/** The table a memory store is, for the plugin to share; undefined for any other store. */
export const sharedTable = (store: RevocationStore): RevocationTable | undefined => tables.get(store)

interface Entry { seq: number, revocation: Revocation }

export function memoryStore (): RevocationStore {
  const table = new RevocationTable()
  let seq = 0
  /** What was added since the first read, in order; null until something reads. */
  let log: Entry[] | null = null
  const listeners = new Set<() => void>()
  /** The first entry of `entries` after `cursor`: they are in sequence order. */
  const after = (entries: Entry[], cursor: number): number => {
    let lo = 0
    let hi = entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (entries[mid].seq <= cursor) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const store: RevocationStore = {
    async add (revocation) {
      table.add(revocation)
      seq++
      log?.push({ seq, revocation: { ...revocation } })
      for (const listener of listeners) queueMicrotask(listener)
    },
    // The first read is the table as it is (sessions in fingerprint form); later ones, the log.
    async since (cursor, nowSeconds) {
      const from = cursor === null ? NaN : Number(cursor)
      if (log === null || !(Number.isInteger(from) && from >= 0 && from <= seq)) {
        log ??= []
        return { revocations: [...table.entries(nowSeconds)], cursor: String(seq), reset: cursor !== null }
      }
      const revocations = log.slice(after(log, from)).map((e) => ({ ...e.revocation }))
      return { revocations, cursor: String(seq) }
    },
    async prune (nowSeconds) {
      table.merge(nowSeconds)
      if (log !== null) log = log.filter((e) => e.revocation.until >= nowSeconds)
    },
    async subscribe (onChange) {
      const listener = (): void => { onChange() }
      listeners.add(listener)
      return async () => { listeners.delete(listener) }
    }
  }
  tables.set(store, table)
  return store
}
