import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type createError from '@fastify/error'

/**
 * Secrets by role, for rotating across servers without re-signing cookies back and
 * forth (docs/rotation.md). Every secret verifies; tokens are tried against `current`,
 * then `next`, then `previous`, in that order (the order `secretIndex` counts in).
 * Each is a string of at least 32 bytes, not obviously weak, and no secret may be
 * given twice or in two roles.
 */
export interface SecretRoles {
  /** The secret that signs every new token and every re-signed one. */
  current: string
  /**
   * Secrets that verify and are kept: a token signed with one is never re-signed with
   * `current`, and a renewal of it stays signed with it. Step 1 of a rotation.
   * @default []
   */
  next?: readonly string[] | undefined
  /**
   * Secrets that verify and are retired: a token signed with one is re-signed with
   * `current` on its next request. Step 2 of a rotation.
   * @default []
   */
  previous?: readonly string[] | undefined
}

/**
 * A secret; a list of them, the first signing and the others verifying as `previous`
 * (`[a, b, c]` is `{ current: a, previous: [b, c] }`); or secrets by role.
 */
export type Secret = string | readonly string[] | SecretRoles

/** Attributes of the session cookie. */
export interface CookieOptions {
  /**
   * The cookie's Path.
   * @default '/'
   */
  path?: string | undefined
  /**
   * The cookie's Domain. Leave it unset for a host-only cookie (safest: a sibling
   * subdomain cannot read it).
   * @default undefined
   */
  domain?: string | undefined
  /**
   * Send the cookie over HTTPS only. Turn it off only for local plain-http development.
   * @default true
   */
  secure?: boolean | undefined
  /**
   * Hide the cookie from page scripts (`document.cookie`). `false` is said at start-up
   * (a script injected into any page could then read the session), and is refused with
   * a `__Http-` or `__Host-Http-` name.
   * @default true
   */
  httpOnly?: boolean | undefined
  /**
   * The cookie's SameSite. `'none'` requires `secure: true`.
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict' | 'none' | undefined
}

/** Options of the cross-origin protection. */
export interface CsrfOptions {
  /**
   * Origins (`scheme://host[:port]`, lower case, nothing after) whose unsafe requests
   * pass, exactly as browsers send them: a front end on another host of yours
   * (`https://app.example.com`), a browser extension (`chrome-extension://<id>`,
   * `moz-extension://<uuid>`), a hybrid app's web view (`capacitor://localhost`).
   * @default []
   */
  trustedOrigins?: readonly string[] | undefined
}

/**
 * The app's side of the types, augmented once for the whole program (as @fastify/jwt's
 * `FastifyJWT` is). `sessionName` names the request property the plugin fills, to run
 * beside @fastify/secure-session or @fastify/session, which declare `request.session`:
 *
 * ```ts
 * declare module 'fastify-dbbasic-sessions' {
 *   interface FastifyDbbasicSessionsTypes { sessionName: 'auth' }
 * }
 * ```
 *
 * Then `request.auth` is typed, `request.session` is not ours, and the plugin's
 * `sessionName` option must be `'auth'`. Left empty, the property is `session`.
 */
export interface FastifyDbbasicSessionsTypes {}

/** The request property the plugin fills, as the app declared it in `FastifyDbbasicSessionsTypes` (`'session'` unless it did). */
export type SessionName = FastifyDbbasicSessionsTypes extends { sessionName: infer N extends string } ? N : 'session'

/** The `sessionName` option: optional while `'session'` is a declared name, required otherwise. */
export type SessionNameOption = 'session' extends SessionName
  ? {
      /**
       * The request property the plugin fills. Another name needs `FastifyDbbasicSessionsTypes`
       * augmented to match (see `docs/typescript.md`), so that the types follow it.
       * @default 'session'
       */
      sessionName?: SessionName | undefined
    }
  : {
      /**
       * The request property the plugin fills: the name declared in `FastifyDbbasicSessionsTypes`.
       * @default 'session' (which the declared name replaces, hence required)
       */
      sessionName: SessionName
    }

/** The request properties the plugin fills: `session`, or the name the app declared. */
export type SessionProperties = { [K in SessionName]: Session }

/** Options of the plugin. Validated at register; a bad one makes `register`/`ready` reject. */
export interface FastifyDbbasicSessionsOptions extends SessionNameOption {
  /**
   * The signing secret: a string of at least 32 bytes, a non-empty list of them
   * (the first signs, every one verifies, for rotation), or `{ current, next, previous }`
   * (see SecretRoles). Used as its UTF-8 bytes, as dbbasic-sessions does, so a Python
   * service with the same SECRET_KEY reads the same tokens.
   * Make one with `node -e "console.log(crypto.randomBytes(32).toString('hex'))"`.
   * Without it: `SECRET_KEYS` (comma-separated, the first signs, the others are
   * previous) with `SECRET_KEYS_NEXT` (comma-separated next secrets), else `SECRET_KEY`
   * (one secret, used whole).
   * @default process.env.SECRET_KEYS, else process.env.SECRET_KEY
   */
  secret?: Secret | undefined
  /**
   * Session lifetime in seconds, an integer from 1 to 34560000 (400 days, the most
   * a browser keeps a cookie). Also the cookie's Max-Age.
   * @default 2592000 (30 days)
   */
  ttl?: number | undefined
  /**
   * Name of the session cookie. By default it follows the strongest prefix the cookie's
   * attributes allow, so that another host, a plain-http response or a page script
   * cannot plant it: `'__Host-Http-session'` (secure, httpOnly, path `/`, no domain),
   * `'__Http-session'` (secure and httpOnly, with a domain or another path),
   * `'__Host-session'` / `'__Secure-session'` (the same without httpOnly), `'session'`
   * (`secure: false`). Each prefix's rules are checked at register: `__Secure-` needs
   * `secure`; `__Host-` also path `/` and no domain; `__Http-` needs `secure` and
   * `httpOnly`; `__Host-Http-` all four.
   * @default '__Host-Http-session'
   */
  cookieName?: string | undefined
  /**
   * Cross-origin protection for unsafe methods (anything but GET, HEAD and OPTIONS),
   * checked in onRequest from `Sec-Fetch-Site`, else `Origin` against `Host`. A refused
   * request gets 403 `FST_DBBASIC_SESSIONS_CROSS_ORIGIN` before body parsing. `false`
   * turns it off; `{ trustedOrigins }` lets named origins through. A route opts out
   * with `config: { csrf: false }`.
   * @default true
   */
  csrf?: boolean | CsrfOptions | undefined
  /**
   * Attributes of the session cookie.
   * @default { path: '/', secure: true, httpOnly: true, sameSite: 'lax' }
   */
  cookie?: CookieOptions | undefined
  /**
   * Makes `ttl` an idle timeout: a request whose valid token has less than half its
   * ttl left gets a new cookie expiring `ttl` from now (capped by `absoluteTtl`), with
   * the same login time. At most one Set-Cookie per response; none while the token is fresh.
   * @default false
   */
  rolling?: boolean | undefined
  /**
   * The longest a session can live from its login, whatever the activity: integer
   * seconds, at least `ttl`, at most 34560000 (400 days). Caps every expiry and Max-Age.
   * @default undefined (no cap beyond ttl)
   */
  absoluteTtl?: number | undefined
  /**
   * The most your servers' clocks (and a Python service's) may disagree by, in seconds:
   * an integer from 0 to 300. A token is still accepted this long after it expires; a
   * login time further than this in the future is refused; and a token that cannot show
   * it came after a sign-out everywhere counts as after it only when its login is later
   * by more than this plus one second (docs/revocation.md#clocks).
   * @default 0
   */
  clockTolerance?: number | undefined
  /**
   * Called for every correctly signed, unexpired token; `false` means no session
   * (debug reason `revoked`). Sync or async. Keep a "sessions valid after" time on the
   * user and compare it with `session.issuedAt` to sign a user out everywhere without a
   * store. If it throws or rejects, the request fails through Fastify's error handling.
   * It runs only for requests that carry a valid session cookie. `request` is `null`
   * when called from `fastify.readSession`, outside a route.
   * @default undefined
   */
  validate?: ((session: ValidatedSession, request: FastifyRequest | null) => boolean | Promise<boolean>) | undefined
  /**
   * How many already-verified tokens this plugin instance remembers, so that the same
   * cookie on the next request skips the HMAC (expiry and `validate` are still checked
   * on every request). Only tokens that verified, and only once seen a second time, are
   * stored. The cache is bounded in bytes as well as entries: its token and user-id text
   * stays under 256 bytes per entry on average, so long user ids make fewer entries, not
   * a bigger heap (the default, measured by `npm run bench`: about 4.4 MB of heap with short
   * ids, each entry also holding the token's other fields; about 2 MB with ids of 2,800 characters). 0
   * turns the cache off.
   * @default 10000
   */
  cacheSize?: number | undefined
  /**
   * The clock, in milliseconds since the epoch. Tests pass their own instead of sleeping.
   * @default Date.now
   */
  now?: (() => number) | undefined
  /**
   * The longest ttl (seconds) that tokens without a login time are made with: those of
   * dbbasic-sessions in Python and of the standalone `createSession`. Such a token counts
   * as issued this long before it expires, so its lifetime rules depend on the token
   * alone; one expiring later than this from now is refused (`issued in the future`).
   * Set it to the ttl your Python side uses.
   * @default 2592000 (30 days, the reference's default)
   */
  externalTtl?: number | undefined
  /**
   * Server-side revocation: `destroySession` ends the presented session everywhere (and
   * `createSession` the one a request carried), `fastify.revokeAllSessions(userId)` signs a
   * user out everywhere, `reply.revokeOtherSessions()` all but the current one, and
   * `fastify.revokeSessionById(sessionId)` ends one device's session. Only the revocations
   * are stored, never the sessions; the request path does no I/O. On by default with a
   * store in this process's memory (a restart forgets it; said once at start-up);
   * `{ store }` shares them across processes, `false` turns revocation off.
   * @default true (this instance's own memoryStore())
   */
  revocation?: RevocationOptions | boolean | undefined
}

/**
 * One revocation as a store keeps it. `until` (Unix seconds) is when no token it covers
 * can still be valid: after it the revocation is dropped everywhere.
 * - `session`: the session with this id (`request.session.sessionId`, or `#` and 16 hex
 *   digits: a fingerprint, as `memoryStore().since` gives them) is refused, every copy and
 *   every renewal of it.
 * - `user`: a sign-out everywhere. `after` is its generation (milliseconds since the
 *   epoch by the revoking process's clock, above the user's previous one): every session
 *   of the user that cannot show it came after it is refused, but the one `except` names
 *   (a session id: "sign out the other sessions").
 */
export type Revocation =
  | { kind: 'session', id: string, until: number }
  | { kind: 'user', id: string, after: number, until: number, except?: string | undefined }

/** What a store's `since` returns. */
export interface RevocationBatch {
  /** Revocations added since the cursor; some may be given again (the plugin ignores repeats). */
  revocations: Revocation[]
  /** Opaque position to pass to the next `since` call. */
  cursor: string
  /** More revocations wait after this batch: the plugin calls `since` again at once with its cursor. */
  more?: boolean | undefined
  /**
   * The store's history no longer holds the cursor given (the store was flushed, restored
   * or replaced): this batch starts a full read, and the plugin replaces what it holds
   * with what that read gives once it is complete.
   */
  reset?: boolean | undefined
}

/**
 * Where revocations are shared between processes. The plugin never calls it on the
 * request path: each process keeps the live revocations in memory and calls `since`
 * in the background, at least every `staleness / 2` seconds.
 */
export interface RevocationStore {
  /**
   * Stores one revocation durably. Resolves once stored; rejects when it could not be.
   * `deadline` (milliseconds since the epoch, real time) is half-way through the
   * plugin's wait: a store must not apply the revocation after it (by its own clock), so
   * a failure the plugin reports is a write not made, never a late sign-out.
   */
  add (revocation: Revocation, deadline?: number): Promise<void>
  /**
   * The revocations added after `cursor`, or with `cursor` null from the start (at least
   * every revocation whose `until` is after `nowSeconds`), with the cursor for the next
   * call; a store may answer in pages (`more`), and says `reset` when the cursor no
   * longer belongs to its history. Rejects when the store cannot be read. `signal` is
   * aborted when the plugin stops waiting (the store's timeout).
   */
  since (cursor: string | null, nowSeconds: number, signal?: AbortSignal): Promise<RevocationBatch>
  /** Deletes revocations whose `until` is before `nowSeconds`. Optional. */
  prune? (nowSeconds: number): Promise<void>
  /**
   * Push, where the store has it (PostgreSQL LISTEN/NOTIFY, Redis pub/sub): calls
   * `onChange` soon after any process adds a revocation; resolves to a function that
   * stops it. Optional: polling is the bound that always holds.
   */
  subscribe? (onChange: () => void): Promise<() => Promise<void>>
}

/** Options of the built-in revocation. */
export interface RevocationOptions {
  /**
   * Where revocations are shared: `memoryStore()`, `postgresStore(pool)`, `redisStore(client)` or your own.
   * @default this instance's own memoryStore() (one process; forgotten at a restart)
   */
  store?: RevocationStore | undefined
  /**
   * The longest, in seconds, a revocation made on one process takes to be enforced by
   * every other process: an integer from 1 to 60. The process that revokes enforces it at once.
   * @default 2
   */
  staleness?: number | undefined
  /**
   * What the plugin does once it has not been able to read the store for longer than
   * `staleness`: `'accept'` keeps verifying sessions against the revocations it knows
   * (a store nobody can reach cannot take new revocations either: each write fails
   * loudly), `'refuse'` treats every session as signed out until the store answers.
   * @default 'accept'
   */
  onStale?: 'accept' | 'refuse' | undefined
  /**
   * Milliseconds a store call (a write, or one page of a read) may take before it counts
   * as failed. A write that fails is never applied later (see `RevocationStore.add`).
   * @default 5000
   */
  timeout?: number | undefined
  /**
   * Accept sessions before the store's live revocations have been read completely (at
   * start-up, or while the store cannot be reached then), checking them against what was
   * read so far. Off: until the first complete read, every session is refused.
   * @default false
   */
  acceptBeforeLoad?: boolean | undefined
  /**
   * The most revoked sessions this process holds (about 16 bytes each). Past it, a
   * sign-out ends every session of its user (a sign-out everywhere, one entry per user)
   * instead of adding one more, so an attacker signing in and out in a loop cannot grow
   * the memory; a warning says so once.
   * @default 1000000
   */
  maxRevokedSessions?: number | undefined
}

/**
 * What `postgresStore` uses of a node-postgres (`pg`) Pool, such as `fastify.pg.pool` from
 * @fastify/postgres. Described here so that the package needs no `pg` of its own.
 */
export interface PostgresPool {
  /** Runs one statement on a pooled connection, values as parameters ($1, $2...); used until the store's own connection is up. */
  query (text: string, values?: unknown[]): Promise<{ rows: unknown[] }>
  /** Checks out a connection, for the store's own when the pool has no `Client` and `options` (those of `pg`'s Pool do). */
  connect (): Promise<PostgresPoolClient>
  /** `pg`'s Pool keeps its client class here: the store opens its own connection with it, outside the pool's `max`. */
  readonly Client?: (new (options: never) => PostgresClient) | undefined
  /** `pg`'s Pool keeps its settings here: the store's own connection uses the same. */
  readonly options?: unknown
}

/** What `postgresStore` uses of a `pg` Client it opens itself. */
export interface PostgresClient {
  connect (): Promise<unknown>
  query (text: string, values?: unknown[]): Promise<{ rows: unknown[] }>
  end (): Promise<void>
  on (event: 'notification', listener: (message: { channel: string }) => void): unknown
  on (event: 'error', listener: (error: Error) => void): unknown
  on (event: 'end', listener: () => void): unknown
}

/** What `postgresStore` uses of a connection checked out of a `pg` Pool. */
export interface PostgresPoolClient {
  /** Runs one statement on this connection. */
  query (text: string, values?: unknown[]): Promise<{ rows: unknown[] }>
  /** Gives the connection back; with an error or `true` the pool closes it instead of keeping it. */
  release (destroy?: Error | boolean): void
  /** A NOTIFY on a channel this connection LISTENs to. */
  on (event: 'notification', listener: (message: { channel: string }) => void): unknown
  /** The connection failed (the server went away, for instance). */
  on (event: 'error', listener: (error: Error) => void): unknown
  /** The connection closed. */
  on (event: 'end', listener: () => void): unknown
}

/** Options of `postgresStore`. */
export interface PostgresStoreOptions {
  /**
   * The table that holds the revocations, created with its indexes when missing. Also
   * the LISTEN/NOTIFY channel's name. An unqualified SQL identifier: a letter or an
   * underscore, then letters, digits or underscores, at most 48 characters; it is
   * quoted, so it is case-sensitive. The connection's search_path decides the schema.
   * @default 'dbbasic_sessions_revocations'
   */
  table?: string | undefined
}

/**
 * What `redisStore` uses of an ioredis client, such as `fastify.redis` from
 * @fastify/redis. Described here so that the package needs no `ioredis` of its own.
 */
export interface RedisClient {
  /**
   * The connection's state: the store refuses a command, rather than let ioredis queue
   * it, while the connection is lost (`'reconnecting'`, `'close'`, `'end'`) or, once
   * the client has answered the store, `'connecting'` again.
   */
  readonly status: string
  /** Runs a Lua script atomically: the store's writes and reads are each one script. */
  eval (script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>
  /** Another connection with the same options (and these overrides): the store's own, for SUBSCRIBE and for its commands. */
  duplicate (override?: Record<string, unknown>): RedisConnection
}

/** What `redisStore` uses of a connection that `RedisClient.duplicate()` makes. */
export interface RedisConnection {
  /** The connection's state: commands go through it while it is `'ready'`. */
  readonly status: string
  /** Runs a Lua script atomically. */
  eval (script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>
  /** Subscribes to a channel; the client subscribes again by itself after reconnecting. */
  subscribe (channel: string): Promise<unknown>
  /** A message published on a subscribed channel. */
  on (event: 'message', listener: (channel: string, message: string) => void): unknown
  /** The connection failed; the client keeps reconnecting. */
  on (event: 'error', listener: (error: Error) => void): unknown
  /** The connection is (again) ready. */
  on (event: 'ready', listener: () => void): unknown
  /** Closes the connection at once, without waiting for queued commands; with `true`, then connects again. */
  disconnect (reconnect?: boolean): void
}

/** Options of `redisStore`. */
export interface RedisStoreOptions {
  /**
   * Prepended to the store's keys (`seq`, `log`, `expiry`) and to its pub/sub channel
   * (`changes`). 1 to 100 printable ASCII characters, no spaces. The default's braces are a
   * Redis Cluster hash tag: every key of the store is in one slot, as its scripts need.
   * @default '{dbbasic-sessions:revocations}:'
   */
  prefix?: string | undefined
}

/** What `validate` is asked about: a correctly signed, unexpired session. */
export interface ValidatedSession {
  /** The user id the token carries. */
  userId: string
  /**
   * The login time (Unix seconds) the token carries, or `null` for a token without one
   * (made by dbbasic-sessions in Python, or while none of rolling, absoluteTtl and
   * validate was set).
   */
  issuedAt: number | null
  /** When the session ends (Unix seconds), after any absoluteTtl cap or renewal. */
  expiresAt: number
  /** The session id the token carries, or `null` for a token without one (made by Python or the standalone API). */
  sessionId: string | null
}

/** What the plugin read from the request's cookie. A fresh object on every request. */
export interface Session {
  /** The signed-in user's id, or `null` when the request carries no valid session. */
  userId: string | null
  /** The login time the token carries (Unix seconds), or `null` without a session or without one in the token. */
  issuedAt: number | null
  /** When the session ends (Unix seconds), or `null` without a session. */
  expiresAt: number | null
  /**
   * The session's id, kept across renewals: what `fastify.revokeSessionById` takes. `null`
   * without a session, or for a token without one (made by Python or the standalone API).
   */
  sessionId: string | null
}

/** The session `reply.createSession` and `reply.refreshLogin` made: what `request.session` now holds, and the token. */
export interface SignedIn {
  /** The user id, as the token carries it (a string). */
  userId: string
  /** The new session's id: what to record in a device list, and what `revokeSessionById` takes. */
  sessionId: string
  /** The login time (Unix seconds). */
  issuedAt: number
  /** When the session ends unless renewed (Unix seconds). */
  expiresAt: number
  /** The token the cookie carries, for a client that keeps it some other way. */
  token: string
}

/** Options of `reply.createSession`. */
export interface ReplyCreateSessionOptions {
  /**
   * Lifetime of this session in seconds, same rule as the plugin's `ttl`. With
   * `rolling`, its renewals keep this ttl (the token carries it).
   * @default the plugin's ttl
   */
  ttl?: number | undefined
  /**
   * `false` makes a browser-session cookie ("remember me" unticked): no Max-Age or
   * Expires, so the browser drops it when it closes, while the token still expires after
   * its ttl. Renewals and re-signings keep it non-persistent.
   * @default true
   */
  persistent?: boolean | undefined
}

/** Options of the standalone `createSession`. */
export interface CreateSessionOptions {
  /**
   * The signing secret (the first of a list signs; `current` of SecretRoles).
   * @default process.env.SECRET_KEYS, else process.env.SECRET_KEY (as the plugin reads them)
   */
  secret?: Secret | undefined
  /**
   * Lifetime in seconds, an integer from 1 to 34560000.
   * @default 2592000 (30 days)
   */
  ttl?: number | undefined
  /**
   * The clock, in milliseconds since the epoch.
   * @default Date.now
   */
  now?: (() => number) | undefined
}

/** Options of the standalone `getSession`. */
export interface GetSessionOptions {
  /**
   * The secret, or a list of secrets that may each verify, or SecretRoles (all verify).
   * @default process.env.SECRET_KEYS, else process.env.SECRET_KEY (as the plugin reads them)
   */
  secret?: Secret | undefined
  /**
   * The clock, in milliseconds since the epoch.
   * @default Date.now
   */
  now?: (() => number) | undefined
}

/** A user id as `createSession` takes it: a non-empty string, or a safe integer or bigint (written in decimal). */
export type UserId = string | number | bigint

/** Why a request has no session, as logged at debug and published on the diagnostics channel. */
export type NoSessionReason =
  | 'no cookie' | 'malformed' | 'bad signature' | 'expired' | 'absolute lifetime over'
  | 'issued in the future' | 'expiry too far' | 'revoked' | 'conflicting cookies'
  | 'revocations unavailable'

/** The name of the `node:diagnostics_channel` channel the plugin publishes on. */
export declare const diagnosticsChannelName: 'fastify-dbbasic-sessions:session'

/**
 * Where an event happened, and never the request itself (its Cookie header holds the
 * token): an event is safe to log whole.
 */
export interface SessionEventSource {
  /** The matched route's URL pattern; undefined when none matched. */
  route: string | undefined
  /** Fastify's `request.id`, the id its log lines for the request carry. */
  requestId: string
  /** The request's method. */
  method: string
}

/**
 * A message on the diagnostics channel: plain data, safe to log whole (no request, no
 * token, no secret). A `no-session` event from `readSession` has `requestId` and
 * `method` null and `route` undefined. Nothing is built unless the channel has a subscriber.
 */
export type SessionEvent =
  | { event: 'no-session', reason: NoSessionReason, route: string | undefined, requestId: string | null, method: string | null }
  | ({ event: 'renewed', userId: string, expiresAt: number, secretIndex: number } & SessionEventSource)
  | ({
    event: 're-signed'
    /**
     * Why the cookie was re-issued besides any renewal: signed by a secret to re-sign
     * away from (`previous`, or any but the first of a list).
     */
    reason: 'older secret'
    userId: string
    expiresAt: number
    /** The position of the secret that verified the token: in the list, or counting `current` as 0, then `next`, then `previous`. */
    secretIndex: number
  } & SessionEventSource)
  | ({ event: 'renewal-deferred', reason: 'shared cache', userId: string } & SessionEventSource)
  | ({ event: 'created', userId: string, expiresAt: number } & SessionEventSource)
  | ({ event: 'destroyed' } & SessionEventSource)
  | ({ event: 'login-refreshed', userId: string, expiresAt: number } & SessionEventSource)
  | ({ event: 'cross-origin-refused', reason: string } & SessionEventSource)
  | {
    /** The revocation store has not been read for longer than `staleness`; `policy` is `onStale`. */
    event: 'revocation-stale'
    policy: 'accept' | 'refuse'
  }
  | { event: 'revocation-recovered' }
  | {
    /** The store's live revocations were read completely for the first time: sessions are checked against them. */
    event: 'revocation-loaded'
    revocations: number
  }
  | {
    /** A read of the store took longer than `staleness` (said once until a read is fast again). */
    event: 'revocation-slow'
    ms: number
  }
  | {
    /**
     * The store's history changed (flushed, restored, replaced): it was read again in full,
     * and what this process enforced that the store no longer holds was dropped.
     */
    event: 'revocation-store-reset'
    lostSessions: number
    lostUsers: number
  }
  | {
    /** A revocation could not be stored: the call that asked for it failed. */
    event: 'revocation-write-failed'
    kind: Revocation['kind']
  }

/** The OpenAPI security scheme of the session cookie, for @fastify/swagger. */
export interface SessionSecurityScheme {
  readonly type: 'apiKey'
  readonly in: 'cookie'
  /** The session cookie's name. */
  readonly name: string
}

// Inside this block a bare `Session` would name the `Session` interface that
// @fastify/session adds to 'fastify', hence import('./index.js').Session.
declare module 'fastify' {
  /**
   * `request.session` (or the name declared in `FastifyDbbasicSessionsTypes`): the session
   * read from the cookie by the plugin's onRequest hook, an empty one until then (null
   * only in onRequest hooks added before the plugin).
   */
  interface FastifyRequest extends SessionProperties {
    /**
     * The signed-in user's id as a string, for routes that need one: throws the 401
     * `FST_DBBASIC_SESSIONS_UNAUTHORIZED` error (through Fastify's error handling) when
     * the request has no session.
     */
    requireUserId(): string
  }
  interface FastifyContextConfig {
    /**
     * `false` lets this route take cross-origin unsafe requests (e.g. an identity
     * provider's form_post callback); the plugin's cross-origin check skips it.
     * @default true
     */
    csrf?: boolean | undefined
  }
  interface FastifyReply {
    /**
     * Signs the user in: a new session (a new id), its cookie (Max-Age = ttl), and
     * `request.session` filled. A valid session the request carried is ended on the
     * server first (ASVS 7.2.4: a token planted or stolen before the sign-in stays out).
     * Resolves once done; if that revocation cannot be stored, rejects with
     * `RevocationFailedError` (503) and nothing changes: no cookie, no session. Not
     * awaited, the response waits for it the same way.
     * @throws TypeError when `userId` is not a non-empty string or a safe integer;
     * Error `FST_DBBASIC_SESSIONS_REPLY_SENT` once the reply has been sent.
     */
    createSession(userId: UserId, options?: ReplyCreateSessionOptions): Promise<SignedIn>
    /**
     * Signs the user out: ends the presented session on the server (every copy of the
     * cookie is refused), clears the cookie and `request.session`. Resolves once the
     * revocation is stored, so a route can order its own clean-up after it; if it cannot
     * be, rejects with `RevocationFailedError` (503) and the cookie is kept. Not awaited,
     * the response waits for it the same way. Write `await reply.destroySession(); return x`.
     * @throws Error `FST_DBBASIC_SESSIONS_REPLY_SENT` once the reply has been sent.
     */
    destroySession(): Promise<void>
    /**
     * Signs the user out of every other session ("sign out other devices", after a
     * password change): every session of the user but the current one (every copy of
     * it) is refused, by this process at once and by every other within `staleness`; the
     * current one never is. Needs revocation.
     * @throws `UnauthorizedError` without a session; `RevocationFailedError` (503) when the
     * store could not record it (nothing was revoked then).
     */
    revokeOtherSessions(): Promise<void>
    /**
     * After the user proved who they are again (their password, a second factor): the
     * current session gets a new login time, now, and keeps its id, so the device stays
     * the same device and `requireRecentLogin` lets it through. Its lifetime starts again.
     * @throws `UnauthorizedError` without a session.
     */
    refreshLogin(): SignedIn
  }
  interface FastifyInstance {
    /** A preHandler that answers 401 (Fastify's JSON error body) when the request has no session. */
    requireSession(request: FastifyRequest, reply: FastifyReply): Promise<void>
    /**
     * Reads a session from a Cookie header outside a route (a socket.io handshake, an
     * upgrade handled by hand), with the same checks as the plugin's hook: duplicates,
     * lifetime, `validate` (called with `request = null` and a copy of the session).
     * Never renews: there is no response to carry a cookie. `undefined` or `null` (no
     * header) gives no session; any other non-string rejects with a `TypeError`.
     */
    readSession(cookieHeader: string | null | undefined): Promise<import('./index.js').Session>
    /**
     * A preHandler for sensitive routes (ASVS 7.5): 401 `UnauthorizedError` without a
     * session, 401 `ReauthenticationRequiredError` when its login is older than
     * `maxAgeSeconds` (or unknown: a token without `iat`). Re-authenticate, then
     * `reply.refreshLogin()`.
     * @throws `InvalidOptionError` (when called) unless `maxAgeSeconds` is an integer from 1 to 34560000.
     */
    requireRecentLogin(maxAgeSeconds: number): (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /**
     * Signs a user out everywhere: every session of `userId` that began before this call
     * is refused, by this process at once and by every other within `staleness`; a
     * sign-in right after works at once. Needs revocation.
     * @throws `FST_DBBASIC_SESSIONS_REVOCATION_FAILED` (503) when the store could not
     * record it; nothing was revoked then.
     */
    revokeAllSessions(userId: UserId): Promise<void>
    /**
     * Ends one session (one device) by its id (`request.session.sessionId`, or the
     * `sessionId` that `createSession` gave), wherever its copies are. Check that it is
     * the asking user's before. Needs revocation.
     * @throws TypeError for something that is not a session id;
     * `FST_DBBASIC_SESSIONS_REVOCATION_FAILED` (503) when the store could not record it.
     */
    revokeSessionById(sessionId: string): Promise<void>
    /** `{ type: 'apiKey', in: 'cookie', name }` for @fastify/swagger's `securitySchemes`. */
    readonly sessionSecurityScheme: SessionSecurityScheme
  }
}

/** The plugin: `fastify.register(fastifyDbbasicSessions, options)`. */
export declare const fastifyDbbasicSessions: FastifyPluginAsync<FastifyDbbasicSessionsOptions>
export default fastifyDbbasicSessions

/**
 * Makes a session token for `userId`, byte-identical to dbbasic-sessions' `create_session`.
 * @throws TypeError for a bad user id or option, Error when there is no usable secret.
 */
export declare function createSession (userId: UserId, options?: CreateSessionOptions): string

/**
 * Returns the user id a token carries, or `null` for anything that is not a
 * correctly signed, unexpired token. Never throws for any token.
 * @throws only for a bad option or a missing secret (a configuration mistake).
 */
export declare function getSession (token: string | null | undefined, options?: GetSessionOptions): string | null

/** Logout is the client's cookie going away: nothing to do server-side. Returns `undefined`. */
export declare function destroySession (token?: string | null): undefined

/** A revocation store in this process's memory: for a single process, and for tests. */
export declare function memoryStore (): RevocationStore

/**
 * A path on this site to redirect to after sign-in, for a `next` taken from the request
 * (a query or form field): `next` itself, normalised as a browser would read it
 * (percent-encoded, dot segments resolved), when it is a same-origin path, else `fallback`.
 * Refused: anything not a string or not starting with `/`; backslashes, tabs, newlines and
 * other control characters (browsers read `\` as `/` and drop tabs, so `/\evil.test`
 * and `/\t/evil.test` would reach `evil.test`); and whatever the WHATWG URL parser,
 * resolving it against a fixed origin, takes to another origin (`//evil.test`,
 * `https://evil.test`, `javascript:…`) or to a path starting with `//` (`/.//evil.test`).
 * @param next the requested destination; any type (a repeated query field is an array).
 * @param fallback returned when `next` is refused; it is not checked.
 * @default fallback '/'
 * @example reply.redirect(safeRedirect(request.query.next), 303)
 */
export declare function safeRedirect (next: unknown, fallback?: string): string

/** The class of an error this package throws: `new` it, or test `err instanceof` it; `err.code` is the code named. */
export type DbbasicSessionsErrorClass<Code extends string, Status extends number> =
  createError.FastifyErrorConstructor<{ code: Code, statusCode: Status }, [detail?: string]>

/**
 * An option of the plugin or of the standalone API breaks its rule (thrown at
 * register/ready, or by the standalone function); a `TypeError`. Also the 500 when
 * `validate` returns something other than a boolean.
 */
export declare const InvalidOptionError: DbbasicSessionsErrorClass<'FST_DBBASIC_SESSIONS_INVALID_OPTION', 500>
/** No `secret` option was given and `SECRET_KEY` is not set. */
export declare const NoSecretError: DbbasicSessionsErrorClass<'FST_DBBASIC_SESSIONS_NO_SECRET', 500>
/** `createSession` got a user id that is not a non-empty string or a safe integer; a `TypeError`. */
export declare const InvalidUserIdError: DbbasicSessionsErrorClass<'FST_DBBASIC_SESSIONS_INVALID_USER_ID', 500>
/** The token, or the `Set-Cookie` header carrying it, would pass 4096 bytes; a `RangeError`. */
export declare const TooLargeError: DbbasicSessionsErrorClass<'FST_DBBASIC_SESSIONS_TOO_LARGE', 500>
/**
 * The 401 of `requireRecentLogin`: the session's login is older than the route allows (or
 * unknown); message `Please sign in again to continue`.
 */
export declare const ReauthenticationRequiredError: DbbasicSessionsErrorClass<'FST_DBBASIC_SESSIONS_REAUTHENTICATION_REQUIRED', 401>
/** `createSession`, `destroySession` or `refreshLogin` was called once the response had gone out. */
export declare const ReplySentError: DbbasicSessionsErrorClass<'FST_DBBASIC_SESSIONS_REPLY_SENT', 500>
/** The 401 of `requireSession` and `request.requireUserId()`; message `No valid session`. */
export declare const UnauthorizedError: DbbasicSessionsErrorClass<'FST_DBBASIC_SESSIONS_UNAUTHORIZED', 401>
/** The 403 of an unsafe cross-origin request refused by `csrf`; message `Cross-origin request refused`. */
export declare const CrossOriginError: DbbasicSessionsErrorClass<'FST_DBBASIC_SESSIONS_CROSS_ORIGIN', 403>
/**
 * A revocation could not be stored (the store failed or timed out): the caller must take
 * it as not done (the store took it within the timeout, or never: see
 * `RevocationStore.add`), and from `destroySession` the cookie is kept, from
 * `createSession` no new one is set. The 503; message `The sign-out could not be
 * completed; please try again`.
 */
export declare const RevocationFailedError: DbbasicSessionsErrorClass<'FST_DBBASIC_SESSIONS_REVOCATION_FAILED', 503>

/** The JSON Schema the plugin validates its options against (with two custom keywords: `minBytes` and `isFunction`). */
export declare const optionsSchema: Readonly<Record<string, unknown>>

/**
 * A revocation store in PostgreSQL, on the app's own `pg` Pool (`fastify.pg.pool` from
 * @fastify/postgres). Creates its table when missing; pushes with LISTEN/NOTIFY.
 * Throws when an option breaks its rule.
 */
export declare function postgresStore (pool: PostgresPool, options?: PostgresStoreOptions): RevocationStore

/**
 * A revocation store in Redis, on the app's own ioredis client (`fastify.redis` from
 * @fastify/redis). Pushes with pub/sub on a duplicate of the client. Throws when an option
 * breaks its rule.
 */
export declare function redisStore (client: RedisClient, options?: RedisStoreOptions): RevocationStore
