// The attacker's pages for the browser tests: forms that submit themselves as the
// page loads, and a script making credentialed cross-origin POSTs. Served by a
// plain Node server of the test's own, under whatever name the browser used.
// Not a test itself.
import { once } from 'node:events'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { waitFor, waitForPage, type Tab } from './engines/engine.js'

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A page that submits one form as soon as it loads: the classic CSRF page. */
export function formPage (action: string, fields: Record<string, string> = {}): string {
  const inputs = Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('')
  return `<!doctype html><meta charset="utf-8"><title>form</title>
<form id="f" method="post" action="${escapeHtml(action)}">${inputs}</form>
<script>document.getElementById('f').submit()</script>`
}

/** POSTs a page script can send to another origin, with its cookies, without a preflight; the title says when they are done. */
export function fetchPage (target: string, posts: Array<[string, Record<string, string>]>): string {
  return `<!doctype html><meta charset="utf-8"><title>fetching</title>
<script>
const posts = ${JSON.stringify(posts)}.map(([path, body]) =>
  fetch(${JSON.stringify(target)} + path, { method: 'POST', mode: 'no-cors', credentials: 'include', body: new URLSearchParams(body) }))
Promise.allSettled(posts).then(() => { document.title = 'done' })
</script>`
}

/** Pages by path: `/<kind>?target=<origin>` runs that attack against the origin. `/plant` answers with `plant()`'s Set-Cookie headers. */
export type Attacks = Record<string, (target: string) => string>

export interface AttackerServer { port: number }

export async function startAttacker (t: Test, attacks: Attacks, options: { tls?: { key: Buffer, cert: Buffer }, plant?: () => string[] } = {}): Promise<AttackerServer> {
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://attacker')
    const kind = url.pathname.slice(1)
    res.setHeader('content-type', 'text/html; charset=utf-8')
    if (kind === 'plant' && options.plant !== undefined) {
      res.setHeader('set-cookie', options.plant())
      res.end('<!doctype html><title>planted</title><p>cookies planted</p>')
      return
    }
    const attack = attacks[kind]
    if (attack === undefined) {
      res.statusCode = 404
      res.end()
      return
    }
    res.end(attack(url.searchParams.get('target') ?? ''))
  }
  const server = options.tls === undefined ? createHttpServer(serve) : createHttpsServer(options.tls, serve)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { port: (server.address() as AddressInfo).port }
}

/** Opens an attack page and waits until it has done its work: the fetch page's title says so; a form page lands on `target`. */
export async function openAttack (tab: Tab, url: string, kind: string, target: string): Promise<void> {
  await tab.goto(url)
  if (kind === 'fetch') await waitFor('the fetch page to finish', async () => await tab.run<string>('return document.title') === 'done' ? true : undefined)
  else await waitForPage(tab, `the form to land on ${target}`, (u) => u.startsWith(target))
}
