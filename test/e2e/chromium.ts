// Debian's Chromium for the end-to-end tests, launched headless with the flags that
// keep it off the network. Shared by the e2e tests; not a test itself.
import { existsSync } from 'node:fs'
import type { Test } from 'tap'
import { chromium, type Browser } from 'playwright-core'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Names the tests use, all answered by 127.0.0.1: one site (example.test) with several hosts, and another site. */
export const HOST_RULES = '--host-resolver-rules=MAP *.example.test 127.0.0.1, MAP evil.test 127.0.0.1'

export async function launchChromium (t: Test, extra: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`)
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container there is no sandbox to use; the rest keeps Chromium off the network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extra]
  })
  t.teardown(() => browser.close())
  return browser
}
