// A browser-like client of the demo for the fleet test: keeps the cookie the last
// response set, drops it at its Max-Age, and signs in again then. Not a test itself.

/** The demo runs on plain http, so the plugin names its cookie `session`. */
export const COOKIE = 'session'

export interface Stats {
  requests: number
  logins: number
  renewals: number
  /** A request that carried a session the client still held, answered as signed out. */
  lost: number
  /** An answer naming another user. */
  wrongUser: number
  /** Any other answer: 5xx, or a status the route never gives. */
  failed: number
  failures: Record<string, number>
  failovers: number
  upstreams: Set<string>
  /** Every answer, sign-ins included, by status. */
  statuses: Record<string, number>
}
export const newStats = (): Stats => ({ requests: 0, logins: 0, renewals: 0, lost: 0, wrongUser: 0, failed: 0, failures: {}, failovers: 0, upstreams: new Set(), statuses: {} })
/** What tryLogin gives when the cookie it got names another account. */
export const WRONG_LOGIN = -1
const count = (stats: Stats, status: number): void => { stats.statuses[status] = (stats.statuses[status] ?? 0) + 1 }

export const form = (fields: Record<string, string>, cookie?: string): RequestInit => ({
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie === undefined ? {} : { cookie: `${COOKIE}=${cookie}` }) },
  body: new URLSearchParams(fields).toString()
})

/** The user id a token carries (its payload, not verified: the server did that). */
export function tokenUser (token: string): string {
  return String(JSON.parse(Buffer.from(token.split('.')[0], 'base64').toString('utf8')).user_id)
}

export class Client {
  cookie: string | undefined
  until = 0
  userId: string | undefined
  constructor (readonly name: string, readonly password: string, readonly base: string) {}

  /** Registers the account (once per fleet), which also signs in. */
  async register (): Promise<void> {
    const res = await fetch(this.base + '/register', form({ name: this.name, password: this.password }))
    if (res.status !== 303) throw new Error(`register answered ${res.status}: ${await res.text()}`)
    this.keep(res)
    this.userId = tokenUser(this.cookie!)
  }

  async login (): Promise<void> {
    const status = await this.tryLogin()
    if (status !== 303) throw new Error(`login answered ${status}`)
  }

  /**
   * Signs in; returns the status (303 when signed in; 503 is the service saying it is
   * unavailable), or WRONG_LOGIN when the session is another account's.
   */
  async tryLogin (): Promise<number> {
    const res = await fetch(this.base + '/login', form({ name: this.name, password: this.password }))
    await res.arrayBuffer()
    if (res.status !== 303) return res.status
    this.keep(res)
    const user = tokenUser(this.cookie!)
    if (this.userId !== undefined && user !== this.userId) return WRONG_LOGIN
    this.userId = user
    return 303
  }

  /** Takes our cookie from a response; returns whether there was one. */
  keep (res: Response): boolean {
    let found = false
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attributes] = c.split('; ')
      if (!pair.startsWith(COOKIE + '=')) continue
      const value = pair.slice(COOKIE.length + 1)
      const maxAge = Number(attributes.find((a) => a.startsWith('Max-Age='))?.slice(8) ?? 0)
      this.cookie = value === '' || maxAge === 0 ? undefined : value
      this.until = Date.now() + maxAge * 1000
      found = true
    }
    return found
  }

  get headers (): Record<string, string> {
    return this.cookie === undefined ? {} : { cookie: `${COOKIE}=${this.cookie}` }
  }

  /** One GET /me (signing in first if the cookie is gone); counts what happened. */
  async visit (stats: Stats, base = this.base): Promise<void> {
    if (this.cookie === undefined || Date.now() >= this.until) {
      const status = await this.tryLogin()
      stats.requests++
      count(stats, status === WRONG_LOGIN ? 303 : status)
      if (status === 303) stats.logins++
      else if (status === WRONG_LOGIN) stats.wrongUser++
      else if (status !== 503) {
        stats.failed++
        stats.failures[`login ${status}`] = (stats.failures[`login ${status}`] ?? 0) + 1
      }
      return
    }
    const res = await fetch(base + '/me', { headers: this.headers })
    stats.requests++
    count(stats, res.status)
    // After a failover nginx lists every process it tried; the last one answered.
    const tried = (res.headers.get('x-upstream') ?? '?').split(', ')
    stats.upstreams.add(tried[tried.length - 1])
    if (tried.length > 1) stats.failovers++
    const held = Date.now() < this.until - 1000 // the token's own expiry may come up to a second sooner
    if (res.status === 200) {
      const me = await res.json() as { userId: string, name: string }
      if (me.userId !== this.userId || me.name !== this.name) stats.wrongUser++
      if (this.keep(res)) stats.renewals++
    } else if (res.status === 401) {
      await res.arrayBuffer()
      if (held) stats.lost++
      this.cookie = undefined
    } else {
      await res.arrayBuffer()
      stats.failed++
      const key = `${res.status} from ${tried.join(', ')}`
      stats.failures[key] = (stats.failures[key] ?? 0) + 1
    }
  }
}
