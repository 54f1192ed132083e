// @ts-check
// The plugin's RevocationStore in the demo's SQLite file, for the embedded default:
// processes sharing the file share the revocations. The cursor is the last row
// number read; SQLite serializes writers, so rows become visible in number order.

/**
 * @param {import('libsql').Database} db migrated (the revocations table exists)
 * @param {import('./db-sqlite.js').Runner} run how a query waits out a lock
 * @returns {import('fastify-dbbasic-sessions').RevocationStore}
 */
export function sqliteRevocations (db, run) {
  const insert = db.prepare('INSERT INTO revocations (kind, id, after, until) VALUES (?, ?, ?, ?)')
  const live = db.prepare('SELECT seq, kind, id, after, until FROM revocations WHERE until > ? ORDER BY seq LIMIT 10000')
  const since = db.prepare('SELECT seq, kind, id, after, until FROM revocations WHERE seq > ? ORDER BY seq LIMIT 10000')
  const last = db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM revocations')
  const prune = db.prepare('DELETE FROM revocations WHERE until < ?')
  return {
    add: (r) => run(() => { insert.run(r.kind, r.id, r.kind === 'user' ? r.after : null, r.until) }),
    since: (cursor, nowSeconds) => run(() => {
      const from = cursor !== null && /^[0-9]{1,15}$/.test(cursor) ? Number(cursor) : null
      const rows = /** @type {Array<{ seq: number, kind: string, id: string, after: number | null, until: number }>} */ (
        from === null ? live.all(nowSeconds) : since.all(from))
      const end = rows.length > 0 ? rows[rows.length - 1].seq : from ?? /** @type {{ seq: number }} */ (last.get()).seq
      return {
        revocations: rows.map((r) => r.kind === 'user'
          ? { kind: /** @type {const} */ ('user'), id: r.id, after: /** @type {number} */ (r.after), until: r.until }
          : { kind: /** @type {const} */ ('session'), id: r.id, until: r.until }),
        cursor: String(end)
      }
    }),
    prune: (nowSeconds) => run(() => { prune.run(nowSeconds) })
  }
}
