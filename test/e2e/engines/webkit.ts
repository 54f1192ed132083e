// WebKit: WebKitGTK's MiniBrowser from Debian (libwebkit2gtk-4.1-0), driven through
// WebKitWebDriver (webkit2gtk-driver) by selenium-webdriver's classic WebDriver client,
// on an Xvfb display of its own. WebKitWebDriver keeps one session, one browser and one
// cookie jar at a time, so each tab gets a driver of its own. The test names reach
// 127.0.0.1 through MiniBrowser's --proxy and name-proxy.ts (the WebDriver proxy
// capability would have WebKit speak TLS to the proxy for https). Not a test itself.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, writeFileSync } from 'node:fs'
import { freePort } from '../../servers/ports.js'
import type { Test } from 'tap'
import { Builder, By, type WebDriver } from 'selenium-webdriver'
import { waitFor, type Launch, type Tab } from './engine.js'
import { startNameProxy } from './name-proxy.js'

const DRIVER = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver'
const MINIBROWSER = process.env.WEBKIT_BROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser'

function stopAtTeardown (t: Test, child: ChildProcess): void {
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await once(child, 'exit')
  })
}

/** An Xvfb display for the browsers (MiniBrowser draws a real window); its number. */
async function startXvfb (t: Test): Promise<string> {
  const xvfb = spawn('Xvfb', ['-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], { stdio: ['ignore', 'pipe', 'pipe'] })
  xvfb.once('error', () => {}) // reported below, as no display number
  stopAtTeardown(t, xvfb)
  let out = ''
  xvfb.stdout.on('data', (chunk) => { out += chunk })
  return ':' + await waitFor('Xvfb to print its display number (apt-get install xvfb)', async () => /^\d+\n/.test(out) ? out.trim() : undefined, 10_000)
}

async function startDriver (t: Test, display: string): Promise<string> {
  const port = await freePort()
  const driver = spawn(DRIVER, [`--port=${port}`], { stdio: 'ignore', env: { ...process.env, DISPLAY: display } })
  stopAtTeardown(t, driver)
  const url = `http://127.0.0.1:${port}`
  await waitFor('WebKitWebDriver to answer /status', async () => (await fetch(url + '/status')).ok ? true : undefined)
  return url
}

const tab = (driver: WebDriver): Tab => ({
  goto: async (url) => { await driver.get(url) },
  url: async () => await driver.getCurrentUrl(),
  text: async (selector) => {
    const found = await driver.findElements(By.css(selector))
    return found.length === 0 ? null : await found[0].getText()
  },
  attribute: async (selector, name) => await driver.findElement(By.css(selector)).getAttribute(name),
  value: async (selector) => await driver.findElement(By.css(selector)).getAttribute('value') ?? '',
  fill: async (selector, value) => {
    const input = await driver.findElement(By.css(selector))
    await input.clear()
    await input.sendKeys(value)
  },
  setChecked: async (selector, checked) => {
    const box = await driver.findElement(By.css(selector))
    if (await box.isSelected() !== checked) await box.click()
  },
  click: async (selector) => { await driver.findElement(By.css(selector)).click() },
  run: async <T>(body: string) => await driver.executeScript(`return (async () => { ${body} })()`) as T,
  cookies: async () => (await driver.manage().getCookies()).map((c) => ({
    name: c.name,
    value: c.value,
    domain: c.domain ?? '',
    path: c.path ?? '/',
    httpOnly: c.httpOnly ?? false,
    secure: c.secure ?? false,
    sameSite: c.sameSite ?? 'None',
    expires: c.expiry === undefined ? -1 : Number(c.expiry)
  })),
  // No domain: classic WebDriver then makes it host-only for the current page.
  addCookie: async ({ name, value, path, httpOnly, secure, expires }) => {
    await driver.manage().addCookie({ name, value, path, httpOnly, secure, sameSite: 'Lax', ...(expires === -1 ? {} : { expiry: Math.floor(expires) }) })
  },
  screenshot: async (path) => { writeFileSync(path, Buffer.from(await driver.takeScreenshot(), 'base64')) }
})

export const launchWebkit: Launch = async (t, options = {}) => {
  for (const [file, pkg] of [[DRIVER, 'webkit2gtk-driver'], [MINIBROWSER, 'libwebkit2gtk-4.1-0']]) {
    if (!existsSync(file)) throw new Error(`no ${file}: install Debian's ${pkg} (apt-get install ${pkg})`)
  }
  const display = await startXvfb(t)
  const proxy = await startNameProxy(t)
  const capabilities = {
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', `--proxy=http://127.0.0.1:${proxy}`] },
    acceptInsecureCerts: options.insecureCerts === true,
    timeouts: { pageLoad: 10_000, script: 10_000, implicit: 0 }
  }
  const open = async (t: Test): Promise<WebDriver> => {
    const driver = await new Builder().usingServer(await startDriver(t, display)).withCapabilities(capabilities).build()
    t.teardown(() => driver.quit())
    await driver.manage().window().setRect({ width: 760, height: 640 })
    return driver
  }
  // The version, from a first session closed at once.
  const probe = await new Builder().usingServer(await startDriver(t, display)).withCapabilities(capabilities).build()
  const version = String((await probe.getCapabilities()).get('browserVersion'))
  await probe.quit()
  // libsoup's cookie jar, which WebKitGTK uses, knows no prefixes: it stores a __Host-
  // cookie with a Domain, and a __Host-Http- or __Http- cookie from a page script.
  return {
    name: 'webkit',
    version: `WebKitGTK ${version}`,
    cookiePrefixes: false,
    httpPrefixFromScript: { refused: false, required: false },
    newTab: async (t) => tab(await open(t))
  }
}
