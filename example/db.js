// @ts-check
// The one interface the demo's routes use for its database, whichever it is:
// db-sqlite.js (embedded, the default) or db-postgres.js (DATABASE_URL). Every call
// is asynchronous and none holds the event loop longer than its query takes: a
// locked or unreachable database makes that request wait, then fail with
// DatabaseUnavailable (a 503 page), never the whole process.

/**
 * @typedef {object} UserRow
 * @property {number} id
 * @property {string} name as typed (NFKC)
 * @property {string} password_hash
 */

/**
 * @typedef {object} Device a sign-in: its session id, when, and from which browser
 * @property {string} sessionId
 * @property {number} signedInAt Unix seconds
 * @property {string} browser the User-Agent, shortened
 */

/**
 * @typedef {object} DemoDatabase
 * @property {string} where what to tell the person starting the demo
 * @property {boolean} created the database was made by this start
 * @property {{ from: number, to: number }} migration schema versions before and after this start
 * @property {(key: string) => Promise<UserRow | undefined>} userByKey by names.js's nameKey
 * @property {(id: number) => Promise<Omit<UserRow, 'password_hash'> | undefined>} userById
 * @property {(name: string, key: string, passwordHash: string, createdAt: number) => Promise<number | null>} addUser the new id, or null when the key is taken
 * @property {() => Promise<number>} countUsers
 * @property {(userId: number, device: Device, forgetBefore: number) => Promise<void>} addDevice also forgets sign-ins older than forgetBefore (Unix seconds)
 * @property {(userId: number, since: number) => Promise<Device[]>} devicesOf the newest first, signed in since (Unix seconds)
 * @property {(userId: number, sessionId: string) => Promise<boolean>} hasDevice whether this sign-in is the user's
 * @property {(userId: number, sessionId: string | null, keep?: string | null) => Promise<void>} removeDevice one sign-in, or with null all of the user's but `keep`
 * @property {import('fastify-dbbasic-sessions').RevocationStore} revocations the plugin's store, in the same database
 * @property {() => Promise<void>} close
 */

/** What a session's user id is when it names an account: the demo's ids are whole numbers from 1. */
export const ACCOUNT_ID = /^[1-9][0-9]{0,14}$/

/** The database cannot answer now (locked, down, unreachable): the request is a 503. */
export class DatabaseUnavailable extends Error {
  statusCode = 503
  code = 'DEMO_DATABASE_UNAVAILABLE'
  /** @param {string} message @param {unknown} [cause] */
  constructor (message, cause) {
    super(message, { cause })
    this.name = 'DatabaseUnavailable'
  }
}

/** A User-Agent as the devices list shows it: at most 200 characters, printable. */
export const browserOf = (/** @type {string | undefined} */ userAgent) =>
  (userAgent ?? 'unknown browser').replace(/[^\x20-\x7e]/g, '?').slice(0, 200) || 'unknown browser'
