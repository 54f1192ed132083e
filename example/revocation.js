// @ts-check
// "Sign out everywhere" for the plugin's `validate`: each account has a cut-off,
// sessions_valid_after, and a session counts only if it was issued after it.
// Cut-offs are cached in the process for `cacheSeconds`, so a cut-off set by
// another process reaches this one within that time; this process's own are seen
// at once.

const MAX_ENTRIES = 10000
const ACCOUNT_ID = /^[1-9][0-9]{0,14}$/

/**
 * @param {object} options
 * @param {(id: number) => number | undefined} options.cutoffOf the account's cut-off in Unix seconds, or undefined if it has none (gone)
 * @param {() => number} options.now milliseconds
 * @param {number} options.cacheSeconds 0 reads the database on every request
 */
export function makeRevocation ({ cutoffOf, now, cacheSeconds }) {
  /** @type {Map<string, { cutoff: number | undefined, until: number }>} */
  const cache = new Map()

  /** @param {string} userId @param {number | undefined} cutoff */
  function remember (userId, cutoff) {
    if (cacheSeconds === 0) return
    cache.delete(userId)
    // Oldest first in a Map: drop the oldest entry when full.
    if (cache.size >= MAX_ENTRIES) cache.delete(/** @type {string} */ (cache.keys().next().value))
    cache.set(userId, { cutoff, until: now() + cacheSeconds * 1000 })
  }

  /** @param {string} userId */
  function cutoffFor (userId) {
    const hit = cache.get(userId)
    if (hit !== undefined && now() < hit.until) return hit.cutoff
    const cutoff = cutoffOf(Number(userId))
    remember(userId, cutoff)
    return cutoff
  }

  return {
    remember,
    /**
     * For the plugin's `validate` option. Token times are whole seconds, so a
     * session issued in the cut-off's own second may predate it and is refused.
     * @param {{ userId: string, issuedAt: number | null }} session
     */
    validate (session) {
      if (!ACCOUNT_ID.test(session.userId)) return false
      const cutoff = cutoffFor(session.userId)
      return cutoff !== undefined && session.issuedAt !== null && session.issuedAt > cutoff
    }
  }
}
