// The small interface the browser scenarios drive, one implementation per engine
// (chromium.ts, firefox.ts, webkit.ts beside this file). The scenarios see only this:
// a tab with a cookie jar of its own, CSS selectors, and the cookies the browser would
// send to the page it is on. Not a test itself.
import type { Test } from 'tap'

/** The names the tests use; every engine's driver answers them with 127.0.0.1 and no other name. */
export const TEST_HOSTS = ['app.example.test', 'sub.example.test', 'evil.example.test', 'evil.test']

export interface Cookie {
  name: string
  value: string
  domain: string
  path: string
  httpOnly: boolean
  secure: boolean
  sameSite: string
  /** Seconds since the epoch; -1 for a browser-session cookie (no Max-Age, no Expires). */
  expires: number
}

export interface Tab {
  /** Opens the URL and waits for its load; a page that navigates on by itself while loading is no error (the caller waits for where it lands). */
  goto: (url: string) => Promise<void>
  url: () => Promise<string>
  /** The element's text, or null when there is no such element. */
  text: (selector: string) => Promise<string | null>
  attribute: (selector: string, name: string) => Promise<string | null>
  value: (selector: string) => Promise<string>
  fill: (selector: string, value: string) => Promise<void>
  setChecked: (selector: string, checked: boolean) => Promise<void>
  click: (selector: string) => Promise<void>
  /** Runs `body` as an async function in the page and returns its JSON result. */
  run: <T>(body: string) => Promise<T>
  /** The cookies the browser holds for the page it is on, HttpOnly ones too. */
  cookies: () => Promise<Cookie[]>
  /** Puts a copy of a cookie (as `cookies` gave it, from any tab) into this tab's jar, host-only for the page it is on, which must be the cookie's host. */
  addCookie: (cookie: Cookie) => Promise<void>
  screenshot: (path: string) => Promise<void>
}

export interface Engine {
  name: 'chromium' | 'firefox' | 'webkit'
  /** The browser's own version string. */
  version: string
  /** Whether it refuses a `__Host-` cookie with a Domain, or from plain http (RFC 6265bis cookie prefixes). */
  cookiePrefixes: boolean
  /**
   * Whether it refuses a `__Host-Http-` or `__Http-` cookie set by a page script
   * (`document.cookie`), and whether that is required of it or only what it did when
   * last run, asserted so that a change is noticed.
   */
  httpPrefixFromScript: { refused: boolean, required: boolean }
  /** A new tab in a new, empty cookie jar, closed at the test's teardown. */
  newTab: (t: Test) => Promise<Tab>
}

export interface LaunchOptions {
  /** Accept the tests' self-signed certificate. */
  insecureCerts?: boolean
}

export type Launch = (t: Test, options?: LaunchOptions) => Promise<Engine>

const pause = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Polls `check` until it returns something other than undefined; bounded by `timeout` ms. */
export async function waitFor<T> (what: string, check: () => Promise<T | undefined>, timeout = 10_000): Promise<T> {
  const end = Date.now() + timeout
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error(`waited ${timeout} ms for ${what}`)
    await pause(50)
  }
}

/** Waits until the tab shows a fully loaded page whose URL passes `test`. */
export async function waitForPage (tab: Tab, what: string, test: (url: string) => boolean, timeout = 10_000): Promise<string> {
  return await waitFor(what, async () => {
    const url = await tab.url()
    if (!test(url)) return undefined
    return await tab.run<string>('return document.readyState') === 'complete' ? url : undefined
  }, timeout)
}

/** Clicks (a submit button, a link) and waits for the next page to have loaded. */
export async function clickAndWait (tab: Tab, selector: string): Promise<void> {
  const before = await tab.run<number>('return performance.timeOrigin')
  await tab.click(selector)
  await waitFor(`the page after clicking ${selector}`, async () => {
    const [origin, state] = await tab.run<[number, string]>('return [performance.timeOrigin, document.readyState]')
    return origin !== before && state === 'complete' ? true : undefined
  })
}
