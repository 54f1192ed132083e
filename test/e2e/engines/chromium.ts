// Chromium: Debian's, headless, driven by playwright-core over the DevTools protocol.
// The test names reach 127.0.0.1 through --host-resolver-rules. Not a test itself.
import { existsSync } from 'node:fs'
import { chromium, type Page } from 'playwright-core'
import { TEST_HOSTS, type Launch, type Tab } from './engine.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const HOST_RULES = `--host-resolver-rules=${TEST_HOSTS.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}`

const tab = (page: Page): Tab => ({
  goto: async (url) => { await page.goto(url).catch(ignoreAbort) },
  url: async () => page.url(),
  text: async (selector) => await page.locator(selector).count() === 0 ? null : await page.locator(selector).textContent(),
  attribute: async (selector, name) => await page.locator(selector).getAttribute(name),
  value: async (selector) => await page.locator(selector).inputValue(),
  fill: async (selector, value) => { await page.fill(selector, value) },
  setChecked: async (selector, checked) => { await page.setChecked(selector, checked) },
  click: async (selector) => { await page.click(selector) },
  run: async <T>(body: string) => await page.evaluate(`(async () => { ${body} })()`) as T,
  cookies: async () => await page.context().cookies(page.url()),
  // A domain without a leading dot makes a host-only cookie.
  addCookie: async ({ name, value, domain, path, httpOnly, secure, expires }) => {
    await page.context().addCookies([{ name, value, domain, path, httpOnly, secure, sameSite: 'Lax', expires }])
  },
  screenshot: async (path) => { await page.screenshot({ path, fullPage: true }) }
})

/** A navigation the page itself replaced (an attack page submitting its form) is no failure. */
export function ignoreAbort (err: Error): void {
  if (!/ERR_ABORTED|interrupted by another navigation|aborted/i.test(err.message)) throw err
}

export const launchChromium: Launch = async (t, options = {}) => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`)
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container there is no sandbox to use; the rest keeps Chromium off the network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', HOST_RULES, ...(options.insecureCerts === true ? ['--ignore-certificate-errors'] : [])]
  })
  t.teardown(() => browser.close())
  return {
    name: 'chromium',
    cookiePrefixes: true,
    httpPrefixFromScript: { refused: true, required: true },
    version: browser.version(),
    newTab: async (t) => {
      const context = await browser.newContext({ viewport: { width: 760, height: 640 } })
      context.setDefaultTimeout(10_000)
      t.teardown(() => context.close())
      return tab(await context.newPage())
    }
  }
}
