// Every option, once: its JSON Schema, the rule a wrong value is told, its default (the
// value the code uses, and the words types/index.d.ts's @default and the README say),
// and the README's line for it. options.ts builds the schemas and messages from this;
// test/option-list.test.ts checks the JSDoc and the README's table against it.
import { MAX_TTL } from './lifecycle.js'
import { MIN_SECRET_BYTES } from './secrets.js'

export interface Declared {
  schema: Record<string, unknown>
  /** What a wrong value must be: "ttl must be <rule>; got …". */
  rule: string
  /** The value used when the option is not given; absent when it is worked out (secret, cookieName). */
  value?: unknown
  /** The default in words, exactly as the JSDoc's `@default` says it. */
  default: string
  /** The README options table's description (markdown). */
  doc: string
  /** An object option's own options. */
  options?: Record<string, Declared>
}

const TTL_RULE = `an integer number of seconds from 1 to ${MAX_TTL} (400 days)`
const ttlSchema = { type: 'integer', minimum: 1, maximum: MAX_TTL }
const oneSecret = { type: 'string', minBytes: MIN_SECRET_BYTES }
const secretList = { type: 'array', items: oneSecret }
const boolean = { type: 'boolean' }
const BOOLEAN = 'true or false'
const cookieName = { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }

const secret: Declared = {
  // A string, a list (the first signs, the rest are previous), or the secrets by role.
  schema: {
    type: ['string', 'array', 'object'],
    minBytes: MIN_SECRET_BYTES,
    minItems: 1,
    items: oneSecret,
    additionalProperties: false,
    required: ['current'],
    properties: { current: oneSecret, next: secretList, previous: secretList }
  },
  rule: `a string of at least ${MIN_SECRET_BYTES} bytes, or a non-empty array of such strings, or { current, next, previous } (one such string, two arrays of them)`,
  default: 'process.env.SECRET_KEYS, else process.env.SECRET_KEY',
  doc: 'a string of at least 32 bytes, a list (the first signs), or `{ current, next, previous }` ([rotation](docs/rotation.md)); weak or repeated ones are refused'
}

const now: Declared = {
  schema: { isFunction: true },
  rule: 'a function returning milliseconds since the epoch',
  value: Date.now,
  default: 'Date.now',
  doc: 'the clock, in milliseconds; tests pass their own'
}

const ttl: Declared = {
  schema: ttlSchema,
  rule: TTL_RULE,
  value: 2592000,
  default: '2592000 (30 days)',
  doc: 'seconds, 1 to 34560000 (400 days): the session\'s lifetime and `Max-Age`'
}

export const pluginOptions: Record<string, Declared> = {
  secret,
  ttl,
  cookieName: {
    schema: cookieName,
    rule: "a cookie name: letters, digits and !#$%&'*+-.^_`|~ only",
    default: "'__Host-Http-session'",
    doc: 'by default the strongest prefix the attributes allow: `__Http-session` with a domain or another path, `__Host-session` without `httpOnly`, `session` with `secure: false`; a prefix\'s rules are checked'
  },
  cookie: {
    schema: { type: 'object', additionalProperties: false },
    rule: 'an object',
    default: "{ path: '/', secure: true, httpOnly: true, sameSite: 'lax' }",
    doc: 'the cookie\'s attributes, and `domain` (unset: host-only); `sameSite: \'none\'` requires `secure`; `httpOnly: false` is said at start-up',
    options: {
      path: { schema: { type: 'string', pattern: '^/[\\x20-\\x3a\\x3c-\\x7e]*$' }, rule: 'a path that starts with "/" and has no ";" or control characters', value: '/', default: "'/'", doc: 'the cookie\'s Path' },
      domain: {
        schema: { type: 'string', pattern: '^\\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$' },
        rule: 'a domain name: letters, digits, "-" and "."',
        default: 'undefined',
        doc: 'the cookie\'s Domain; unset, the cookie is host-only'
      },
      secure: { schema: boolean, rule: BOOLEAN, value: true, default: 'true', doc: 'HTTPS only' },
      httpOnly: { schema: boolean, rule: BOOLEAN, value: true, default: 'true', doc: 'hidden from page scripts' },
      sameSite: { schema: { type: 'string', enum: ['lax', 'strict', 'none'] }, rule: '"lax", "strict" or "none"', value: 'lax', default: "'lax'", doc: 'the cookie\'s SameSite' }
    }
  },
  rolling: { schema: boolean, rule: BOOLEAN, value: false, default: 'false', doc: 'makes `ttl` an idle timeout (renewed in its second half)' },
  absoluteTtl: { schema: ttlSchema, rule: TTL_RULE, default: 'undefined (no cap beyond ttl)', doc: 'seconds, at least `ttl`: the most a session lives after its login' },
  clockTolerance: {
    schema: { type: 'integer', minimum: 0, maximum: 300 },
    rule: 'an integer number of seconds from 0 to 300',
    value: 0,
    default: '0',
    doc: 'seconds, 0 to 300: the most two servers\' clocks (or Python\'s) disagree by ([clocks](docs/revocation.md#clocks))'
  },
  validate: {
    schema: { isFunction: true },
    rule: 'a function (session, request) returning a boolean or a promise of one',
    default: 'undefined',
    doc: '`(session, request) => boolean \\| Promise<boolean>` for every valid, unexpired session; `false`: no session'
  },
  cacheSize: {
    schema: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    rule: 'an integer number of tokens from 0 (no cache) to 1000000',
    value: 10000,
    default: '10000',
    doc: 'verified tokens remembered to skip the HMAC (about 4.4 MB of heap); `0`: off'
  },
  now,
  csrf: {
    schema: { type: ['boolean', 'object'], additionalProperties: false },
    rule: 'true, false or { trustedOrigins: [origins] }',
    value: true,
    default: 'true',
    doc: 'cross-origin protection for unsafe methods; `false`, or `{ trustedOrigins }` (exact origins of any scheme); a route opts out with `config: { csrf: false }`',
    options: {
      trustedOrigins: { schema: { type: 'array', items: { type: 'string' } }, rule: 'an array of origins like "https://app.example.com"', value: [], default: '[]', doc: 'origins whose unsafe requests pass' }
    }
  },
  sessionName: {
    schema: { type: 'string', pattern: '^[A-Za-z_$][A-Za-z0-9_$]*$' },
    rule: 'a JavaScript identifier (the request property to fill)',
    value: 'session',
    default: "'session'",
    doc: 'the request property filled; another is declared in `FastifyDbbasicSessionsTypes` ([TypeScript](docs/typescript.md))'
  },
  externalTtl: {
    schema: ttlSchema,
    rule: `an integer number of seconds from 1 to ${MAX_TTL}: the longest ttl that tokens without iat (Python, the standalone API) are made with`,
    value: 2592000,
    default: '2592000 (30 days, the reference\'s default)',
    doc: 'the longest ttl of tokens without a login time (Python, the standalone `createSession`); a longer one is refused ([lifetime](docs/lifetime.md#the-rules-at-the-edges))'
  },
  revocation: {
    schema: { type: ['object', 'boolean'], additionalProperties: false },
    rule: 'true (the default), false (off) or { store, staleness, onStale, timeout, acceptBeforeLoad, maxRevokedSessions }',
    value: true,
    default: 'true (this instance\'s own memoryStore())',
    doc: 'server-side sign-out, on by default in this process\'s memory; `{ store }` shares it ([sign-out](#sign-out-everywhere-and-devices)); `false`: off',
    options: {
      store: {
        schema: { isStore: true },
        rule: 'a revocation store: an object with add(revocation) and since(cursor, nowSeconds) methods, e.g. memoryStore(), postgresStore(pool) or redisStore(client)',
        default: 'this instance\'s own memoryStore() (one process; forgotten at a restart)',
        doc: '`memoryStore()`, `postgresStore(pool)`, `redisStore(client)` or your own'
      },
      staleness: { schema: { type: 'integer', minimum: 1, maximum: 60 }, rule: 'an integer number of seconds from 1 to 60', value: 2, default: '2', doc: 'seconds before every other process enforces a revocation' },
      onStale: { schema: { type: 'string', enum: ['accept', 'refuse'] }, rule: '"accept" or "refuse"', value: 'accept', default: "'accept'", doc: 'what a process does when it cannot read the store' },
      timeout: { schema: { type: 'integer', minimum: 100, maximum: 60000 }, rule: 'an integer number of milliseconds from 100 to 60000', value: 5000, default: '5000', doc: 'milliseconds a store call may take' },
      acceptBeforeLoad: { schema: boolean, rule: BOOLEAN, value: false, default: 'false', doc: 'accept sessions before the store was read in full' },
      maxRevokedSessions: { schema: { type: 'integer', minimum: 1, maximum: 100_000_000 }, rule: 'an integer from 1 to 100000000', value: 1_000_000, default: '1000000', doc: 'past it, a sign-out ends all of the user\'s sessions' }
    }
  }
}

/** reply.createSession's options. */
export const signInOptions: Record<string, Declared> = {
  ttl: { ...ttl, default: 'the plugin\'s ttl', value: undefined },
  persistent: { schema: boolean, rule: BOOLEAN, value: true, default: 'true', doc: '`false`: a browser-session cookie' }
}

/** The standalone createSession's options; getSession takes secret and now. */
export const standaloneOptions: Record<string, Declared> = {
  secret: { ...secret, default: 'process.env.SECRET_KEYS, else process.env.SECRET_KEY (as the plugin reads them)' },
  ttl,
  now
}

/** The default value an option declares (a typed read of `value`). */
export const defaultOf = <T>(declared: Declared): T => declared.value as T
