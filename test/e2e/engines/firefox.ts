// Firefox: Debian's firefox-esr, headless, driven by puppeteer-core over WebDriver BiDi
// (no Firefox download: puppeteer-core never fetches one, and the path is given).
// The test names reach 127.0.0.1 through the network.dns.localDomains preference.
// Not a test itself.
import { existsSync } from 'node:fs'
import puppeteer, { type Page } from 'puppeteer-core'
import { ignoreAbort } from './chromium.js'
import { TEST_HOSTS, type Launch, type Tab } from './engine.js'

const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr'

// Besides puppeteer's own defaults (no updates, no telemetry, no first-run pages):
// no DNS over HTTPS, no captive-portal or connectivity probes, no prefetching.
const PREFS = {
  'network.dns.localDomains': TEST_HOSTS.join(','),
  'network.trr.mode': 5,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.prefetch-next': false,
  'network.dns.disablePrefetch': true,
  'network.http.speculative-parallel-limit': 0
}

const tab = (page: Page): Tab => ({
  goto: async (url) => { await page.goto(url).catch(ignoreAbort) },
  url: async () => page.url(),
  text: async (selector) => await page.$eval(selector, (e) => e.textContent).catch(() => null),
  attribute: async (selector, name) => await page.$eval(selector, (e, name) => e.getAttribute(name), name),
  value: async (selector) => await page.$eval(selector, (e) => (e as HTMLInputElement).value),
  fill: async (selector, value) => {
    await page.$eval(selector, (e) => { (e as HTMLInputElement).value = '' })
    await page.type(selector, value)
  },
  setChecked: async (selector, checked) => {
    if (await page.$eval(selector, (e) => (e as HTMLInputElement).checked) !== checked) await page.click(selector)
  },
  click: async (selector) => { await page.click(selector) },
  run: async <T>(body: string) => await page.evaluate(`(async () => { ${body} })()`) as T,
  cookies: async () => (await page.cookies()).map((c) => ({ ...c, httpOnly: c.httpOnly ?? false, sameSite: c.sameSite ?? 'None', expires: c.session ? -1 : c.expires })),
  addCookie: async ({ name, value, domain, path, httpOnly, secure, expires }) => {
    await page.setCookie({ name, value, domain, path, httpOnly, secure, sameSite: 'Lax', ...(expires === -1 ? {} : { expires }) })
  },
  screenshot: async (path) => { await page.screenshot({ path, fullPage: true }) }
})

export const launchFirefox: Launch = async (t, options = {}) => {
  if (!existsSync(FIREFOX)) throw new Error(`no browser at ${FIREFOX}: install Debian's firefox-esr (apt-get install firefox-esr) or set FIREFOX_PATH`)
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    acceptInsecureCerts: options.insecureCerts === true,
    extraPrefsFirefox: PREFS,
    defaultViewport: { width: 760, height: 640 }
  })
  t.teardown(() => browser.close())
  return {
    name: 'firefox',
    cookiePrefixes: true,
    httpPrefixFromScript: { refused: true, required: true },
    version: await browser.version(),
    newTab: async (t) => {
      const context = await browser.createBrowserContext()
      t.teardown(() => context.close())
      const page = await context.newPage()
      page.setDefaultTimeout(10_000)
      return tab(page)
    }
  }
}
