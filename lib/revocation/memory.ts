// A store in this process's memory: for one process, and for tests. Every plugin
// instance given the same store shares its revocations.
import type { Revocation, RevocationStore } from '../../types/index.js'

interface Entry { seq: number, revocation: Revocation }

export function memoryStore (): RevocationStore {
  let entries: Entry[] = []
  let seq = 0
  const listeners = new Set<() => void>()
  /** The first entry after `cursor`: entries are in sequence order. */
  const after = (cursor: number): number => {
    let lo = 0
    let hi = entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (entries[mid].seq <= cursor) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  return {
    async add (revocation) {
      entries.push({ seq: ++seq, revocation: { ...revocation } })
      for (const listener of listeners) queueMicrotask(listener)
    },
    async since (cursor, nowSeconds) {
      const from = cursor === null ? 0 : after(Number(cursor))
      const revocations: Revocation[] = []
      for (let i = from; i < entries.length; i++) {
        if (cursor !== null || entries[i].revocation.until > nowSeconds) revocations.push({ ...entries[i].revocation })
      }
      return { revocations, cursor: String(seq) }
    },
    async prune (nowSeconds) {
      entries = entries.filter((e) => e.revocation.until >= nowSeconds)
    },
    async subscribe (onChange) {
      const listener = (): void => { onChange() }
      listeners.add(listener)
      return async () => { listeners.delete(listener) }
    }
  }
}
