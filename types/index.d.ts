import type { FastifyPluginAsync, FastifyRequest } from 'fastify'

/** A secret, or a list of them: the first signs, every one verifies. */
export type Secret = string | readonly string[]

/** Attributes of the session cookie. */
export interface CookieOptions {
  /**
   * The cookie's Path.
   * @default '/'
   */
  path?: string
  /**
   * The cookie's Domain. Leave it unset for a host-only cookie (safest: a sibling
   * subdomain cannot read it).
   * @default undefined
   */
  domain?: string
  /**
   * Send the cookie over HTTPS only. Turn it off only for local plain-http development.
   * @default true
   */
  secure?: boolean
  /**
   * Hide the cookie from page scripts (`document.cookie`).
   * @default true
   */
  httpOnly?: boolean
  /**
   * The cookie's SameSite. `'none'` requires `secure: true`.
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict' | 'none'
}

/** Options of the plugin. Validated at register; a bad one makes `register`/`ready` reject. */
export interface FastifyDbbasicSessionsOptions {
  /**
   * The signing secret: a string of at least 32 bytes, or a non-empty list of them
   * (the first signs, every one verifies, for rotation). Used as its UTF-8 bytes,
   * as dbbasic-sessions does, so a Python service with the same SECRET_KEY reads the same tokens.
   * Make one with `node -e "console.log(crypto.randomBytes(32).toString('hex'))"`.
   * @default process.env.SECRET_KEY
   */
  secret?: Secret
  /**
   * Session lifetime in seconds, an integer from 1 to 34560000 (400 days, the most
   * a browser keeps a cookie). Also the cookie's Max-Age.
   * @default 2592000 (30 days)
   */
  ttl?: number
  /**
   * Name of the session cookie. A `__Host-` name requires `secure`, path `/` and no domain.
   * @default 'session'
   */
  cookieName?: string
  /** Attributes of the session cookie. */
  cookie?: CookieOptions
  /**
   * Makes `ttl` an idle timeout: a request whose valid token has less than half its
   * ttl left gets a new cookie expiring `ttl` from now (capped by `absoluteTtl`), with
   * the same login time. At most one Set-Cookie per response; none while the token is fresh.
   * @default false
   */
  rolling?: boolean
  /**
   * The longest a session can live from its login, whatever the activity: integer
   * seconds, at least `ttl`, at most 34560000 (400 days). Caps every expiry and Max-Age.
   * @default undefined (no cap beyond ttl)
   */
  absoluteTtl?: number
  /**
   * Seconds a token is still accepted after it expires, for clocks that disagree
   * between servers: an integer from 0 to 300. A login time further than this in the
   * future is refused.
   * @default 0
   */
  clockTolerance?: number
  /**
   * Called for every correctly signed, unexpired token; `false` means no session
   * (debug reason `revoked`). Sync or async. Keep a "sessions valid after" time on the
   * user and compare it with `session.issuedAt` to sign a user out everywhere without a
   * store. If it throws or rejects, the request fails through Fastify's error handling.
   * It runs only for requests that carry a valid session cookie.
   * @default undefined
   */
  validate?: (session: ValidatedSession, request: FastifyRequest) => boolean | Promise<boolean>
  /**
   * How many already-verified tokens this plugin instance remembers, so that the same
   * cookie on the next request skips the HMAC (expiry and `validate` are still checked
   * on every request). Only tokens that verified are stored; the oldest is dropped
   * first. Each entry costs about 0.3 KB (10000 entries: about 3 MB of heap). 0 turns the cache off.
   * @default 10000
   */
  cacheSize?: number
  /**
   * The clock, in milliseconds since the epoch. Tests pass their own instead of sleeping.
   * @default Date.now
   */
  now?: () => number
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
}

/** What the plugin read from the request's cookie. A fresh object on every request. */
export interface Session {
  /** The signed-in user's id, or `null` when the request carries no valid session. */
  userId: string | null
  /** The login time the token carries (Unix seconds), or `null` without a session or without one in the token. */
  issuedAt: number | null
  /** When the session ends (Unix seconds), or `null` without a session. */
  expiresAt: number | null
}

/** Options of `reply.createSession`. */
export interface ReplyCreateSessionOptions {
  /**
   * Lifetime of this session in seconds, same rule as the plugin's `ttl`.
   * @default the plugin's ttl
   */
  ttl?: number
}

/** Options of the standalone `createSession`. */
export interface CreateSessionOptions {
  /**
   * The signing secret (the first of a list signs).
   * @default process.env.SECRET_KEY
   */
  secret?: Secret
  /**
   * Lifetime in seconds, an integer from 1 to 34560000.
   * @default 2592000 (30 days)
   */
  ttl?: number
  /**
   * The clock, in milliseconds since the epoch.
   * @default Date.now
   */
  now?: () => number
}

/** Options of the standalone `getSession`. */
export interface GetSessionOptions {
  /**
   * The secret, or a list of secrets that may each verify.
   * @default process.env.SECRET_KEY
   */
  secret?: Secret
  /**
   * The clock, in milliseconds since the epoch.
   * @default Date.now
   */
  now?: () => number
}

/** A user id as `createSession` takes it: a non-empty string, or a safe integer or bigint (written in decimal). */
export type UserId = string | number | bigint

declare module 'fastify' {
  interface FastifyRequest {
    /** The session read from the cookie before any route code runs. */
    session: Session
  }
  interface FastifyReply {
    /**
     * Signs the user in: makes a token, sets the session cookie (Max-Age = ttl) and
     * `request.session.userId`, and returns the token.
     * @throws TypeError when `userId` is not a non-empty string or a safe integer.
     */
    createSession(userId: UserId, options?: ReplyCreateSessionOptions): string
    /** Signs the user out: clears the session cookie and `request.session.userId`. Returns the reply. */
    destroySession(): FastifyReply
  }
  interface FastifyInstance {
    /** A preHandler that answers 401 (Fastify's JSON error body) when the request has no session. */
    requireSession(request: FastifyRequest, reply: FastifyReply): Promise<void>
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

/** The JSON Schema the plugin validates its options against (with two custom keywords: `minBytes` and `isFunction`). */
export declare const optionsSchema: Readonly<Record<string, unknown>>
