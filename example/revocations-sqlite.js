// @ts-check
// The plugin's RevocationStore in the demo's SQLite file, for the embedded default:
// processes sharing the file share the revocations. The cursor is the last row number
// read and its random mark; SQLite serializes writers, so rows become visible in number
// order, and a file put back from an older copy no longer has that row with that mark.
import { randomBytes } from 'node:crypto'

const PAGE = 10000

/**
 * @param {import('libsql').Database} db migrated (the revocations table exists)
 * @param {import('./db-sqlite.js').Runner} run how a query waits out a lock
 * @returns {import('fastify-dbbasic-sessions').RevocationStore}
 */
export function sqliteRevocations (db, run) {
  const insert = db.prepare('INSERT INTO revocations (kind, id, after, until, except_id, mark) VALUES (?, ?, ?, ?, ?, ?)')
  const page = db.prepare(`SELECT seq, mark, kind, id, after, until, except_id FROM revocations WHERE seq > ? ORDER BY seq LIMIT ${PAGE}`)
  const at = db.prepare('SELECT mark FROM revocations WHERE seq = ?')
  const prune = db.prepare('DELETE FROM revocations WHERE until < ? AND seq < (SELECT max(seq) FROM revocations)')
  /** @param {{ kind: string, id: string, after: number | null, until: number, except_id: string | null }} r */
  const revocationOf = (r) => r.kind === 'user'
    ? { kind: /** @type {const} */ ('user'), id: r.id, after: /** @type {number} */ (r.after), until: r.until, ...(r.except_id === null ? {} : { except: r.except_id }) }
    : { kind: /** @type {const} */ ('session'), id: r.id, until: r.until }
  return {
    // A write that waited on the file's lock past its deadline is not made: the plugin has told the caller it failed.
    add: (r, deadline) => run(() => {
      if (deadline !== undefined && Date.now() > deadline) throw new Error('the revocation waited past its deadline and was not stored')
      insert.run(r.kind, r.id, r.kind === 'user' ? r.after : null, r.until, r.kind === 'user' ? r.except ?? null : null, randomBytes(6).toString('hex'))
    }),
    since: (cursor, nowSeconds) => run(() => {
      const [seq, mark] = cursor !== null && /^[0-9]{1,15}:[0-9a-f]*$/.test(cursor) ? cursor.split(':') : ['0', '']
      const reset = seq !== '0' && /** @type {{ mark: string } | undefined} */ (at.get(Number(seq)))?.mark !== mark
      const rows = /** @type {Array<{ seq: number, mark: string, kind: string, id: string, after: number | null, until: number, except_id: string | null }>} */ (page.all(reset ? 0 : Number(seq)))
      const last = rows.at(-1)
      return {
        revocations: rows.filter((r) => r.until > nowSeconds).map(revocationOf),
        cursor: last === undefined ? (reset ? '0:' : `${seq}:${mark}`) : `${last.seq}:${last.mark}`,
        more: rows.length === PAGE,
        ...(reset ? { reset: true } : {})
      }
    }),
    prune: (nowSeconds) => run(() => { prune.run(nowSeconds) })
  }
}
