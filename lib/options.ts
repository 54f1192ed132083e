// The plugin's options, checked (option-check.ts) and resolved into what one instance
// works with: keys, the cookie, the lifetime policy, revocation. Defaults come from the
// declarations (option-list.ts).
import type { CookieOptions, CsrfOptions, FastifyDbbasicSessionsOptions, RevocationOptions, Secret } from '../types/index.js'
import { checkCookieRules, defaultCookieName, type CookieConfig } from './cookie-name.js'
import { isExactOrigin } from './csrf.js'
import { InvalidOptionError, shown } from './errors.js'
import type { Policy } from './lifecycle.js'
import { checkPluginOptions, defined, ownSecret } from './option-check.js'
import { defaultOf, pluginOptions, type Declared } from './option-list.js'
import { memoryStore } from './revocation/memory.js'
import type { RevocationConfig } from './revocation/revocations.js'
import { resolveSecrets } from './secrets.js'
import type { Keys } from './token.js'

export interface Config {
  keys: Keys
  /** Per key: a token it verified is re-signed with the current secret. */
  resign: readonly boolean[]
  /** Per key, the keys a re-issue of a token it verified is signed with (see Secrets). */
  signers: readonly Keys[]
  cookieName: string
  cookie: CookieConfig
  policy: Policy
  validate: FastifyDbbasicSessionsOptions['validate']
  cacheSize: number
  now: () => number
  /** null when the cross-origin check is off. */
  trustedOrigins: ReadonlySet<string> | null
  sessionName: string
  /** null when revocation is off (`revocation: false`). */
  revocation: RevocationConfig | null
}

const { cookie: cookieOptions, revocation: revocationOptions } = pluginOptions as Record<string, Required<Pick<Declared, 'options'>>>
/** `given`, else the declared default of `name` in `options`. */
const or = <T>(given: T | undefined, options: Record<string, Declared>, name: string): T => given ?? defaultOf<T>(options[name])

/** The revocation settings; without a store, this instance's own memoryStore(). */
function revocationConfig (given: RevocationOptions | true | undefined): RevocationConfig {
  const options: RevocationOptions = typeof given === 'object' ? given : defined<RevocationOptions>(undefined)
  const declared = revocationOptions.options
  return {
    store: options.store ?? memoryStore(),
    staleness: or(options.staleness, declared, 'staleness'),
    onStale: or(options.onStale, declared, 'onStale'),
    timeout: or(options.timeout, declared, 'timeout'),
    acceptBeforeLoad: or(options.acceptBeforeLoad, declared, 'acceptBeforeLoad'),
    maxRevokedSessions: or(options.maxRevokedSessions, declared, 'maxRevokedSessions'),
    implicit: options.store === undefined
  }
}

function trustedOrigins (csrf: boolean | CsrfOptions | undefined): ReadonlySet<string> | null {
  if (csrf === false) return null
  const origins = typeof csrf === 'object' ? csrf.trustedOrigins ?? [] : []
  origins.forEach((origin, i) => {
    if (!isExactOrigin(origin)) {
      throw new InvalidOptionError(`csrf.trustedOrigins[${i}] must be an origin as a browser sends it: "scheme://host" or "scheme://host:port" (e.g. "https://app.example.com", "http://localhost:5173", "chrome-extension://<id>", "capacitor://localhost"), lower case, nothing after the host; got ${shown(origin)}`)
    }
  })
  return new Set(origins)
}

function cookieConfig (cookie: CookieOptions): CookieConfig {
  const declared = cookieOptions.options
  return {
    path: or(cookie.path, declared, 'path'),
    domain: cookie.domain,
    secure: or(cookie.secure, declared, 'secure'),
    httpOnly: or(cookie.httpOnly, declared, 'httpOnly'),
    sameSite: or(cookie.sameSite, declared, 'sameSite')
  }
}

/** The options as the checker reads them: each object option as its own properties. */
function checked (options: FastifyDbbasicSessionsOptions): Record<string, unknown> {
  const own: Record<string, unknown> = Object.assign(Object.create(null), options)
  if (options.cookie !== undefined) own.cookie = defined<CookieOptions>(options.cookie, 'cookie')
  if (typeof options.csrf === 'object') own.csrf = defined<CsrfOptions>(options.csrf, 'csrf')
  if (typeof options.revocation === 'object') own.revocation = defined<RevocationOptions>(options.revocation, 'revocation')
  if (options.secret !== undefined) own.secret = ownSecret(options.secret)
  checkPluginOptions(own)
  return own
}

export function resolvePluginOptions (given: FastifyDbbasicSessionsOptions | undefined): Config {
  const options = checked(defined(given)) as FastifyDbbasicSessionsOptions & Record<string, unknown>
  const secrets = resolveSecrets(options.secret as Secret | undefined)
  const ttl = or(options.ttl, pluginOptions, 'ttl')
  if (options.absoluteTtl !== undefined && options.absoluteTtl < ttl) {
    throw new InvalidOptionError(`absoluteTtl must be at least ttl (${ttl}); got ${options.absoluteTtl}`)
  }
  // Never a plain {}: a polluted Object.prototype would supply its attributes.
  const cookie = cookieConfig(options.cookie ?? defined<CookieOptions>(undefined))
  const cookieName = options.cookieName ?? defaultCookieName(cookie)
  checkCookieRules(cookieName, cookie)
  return {
    keys: secrets.keys,
    resign: secrets.resign,
    signers: secrets.signers,
    cookieName,
    cookie,
    policy: {
      ttl,
      absoluteTtl: options.absoluteTtl,
      rolling: or(options.rolling, pluginOptions, 'rolling'),
      clockTolerance: or(options.clockTolerance, pluginOptions, 'clockTolerance'),
      externalTtl: or(options.externalTtl, pluginOptions, 'externalTtl')
    },
    validate: options.validate,
    cacheSize: or(options.cacheSize, pluginOptions, 'cacheSize'),
    now: or(options.now, pluginOptions, 'now'),
    trustedOrigins: trustedOrigins(options.csrf),
    sessionName: or(options.sessionName, pluginOptions, 'sessionName'),
    revocation: options.revocation === false ? null : revocationConfig(options.revocation)
  }
}
