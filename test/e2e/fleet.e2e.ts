// `npm run test:fleet`: Debian's nginx on a loopback port, round-robin over three
// demo processes with the same secrets. Sessions survive whichever process answers,
// a rolling secret rotation, and a process killed outright: nothing was stored.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startDemo, type Demo } from '../demo-process.js'

const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx'
const OLD = 'fleet-old-secret-0123456789abcdef0123456789'
const NEW = 'fleet-new-secret-0123456789abcdef0123456789'
const TTL = 6

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

async function startNginx (t: Test, backends: number[]): Promise<{ base: string, child: ChildProcess }> {
  if (!existsSync(NGINX)) throw new Error(`no nginx at ${NGINX}: install Debian's nginx (apt-get install nginx) or set NGINX_PATH`)
  const dir = mkdtempSync(join(tmpdir(), 'fdbs-nginx-'))
  const port = await freePort()
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream demo {
${backends.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://demo;
      # A process being restarted refuses connections: try the next one, logins included.
      proxy_next_upstream error timeout non_idempotent;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`)
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'inherit', 'inherit'] })
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGQUIT')
      await once(child, 'exit')
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      await fetch(base + '/')
      break
    } catch {
      if (i > 100) throw new Error('nginx did not start: ' + execFileSync('cat', [join(dir, 'error.log')], { encoding: 'utf8' }))
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return { base, child }
}

/** A browser-like client: keeps the cookie the last response set, drops it at its Max-Age, signs in again then. */
class Client {
  cookie: string | undefined
  until = 0
  constructor (readonly name: string, readonly base: string) {}

  async login (): Promise<void> {
    const res = await fetch(this.base + '/login', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: this.name }).toString()
    })
    if (res.status !== 303) throw new Error(`login answered ${res.status}`)
    this.keep(res)
  }

  keep (res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attributes] = c.split('; ')
      if (!pair.startsWith('session=')) continue
      const maxAge = Number(attributes.find((a) => a.startsWith('Max-Age='))?.slice(8))
      this.cookie = pair.slice('session='.length)
      this.until = Date.now() + maxAge * 1000
    }
  }

  /** One GET /me; returns who answered and whether a held session was lost. */
  async visit (stats: Stats): Promise<void> {
    if (this.cookie === undefined || Date.now() >= this.until) {
      await this.login()
      stats.logins++
      return
    }
    const res = await fetch(this.base + '/me', { headers: { cookie: `session=${this.cookie}` } })
    stats.requests++
    // After a failover nginx lists every process it tried; the last one answered.
    const tried = (res.headers.get('x-upstream') ?? '?').split(', ')
    stats.upstreams.add(tried[tried.length - 1])
    if (tried.length > 1) stats.failovers++
    const held = Date.now() < this.until - 1000 // the token's own expiry may come up to a second sooner
    if (res.status === 200) {
      if ((await res.json()).userId !== this.name) stats.wrongUser++
      this.keep(res)
    } else if (res.status === 401) {
      await res.arrayBuffer()
      if (held) stats.lost++
    } else {
      stats.failed++
    }
  }
}

interface Stats { requests: number, logins: number, lost: number, wrongUser: number, failed: number, failovers: number, upstreams: Set<string> }
const newStats = (): Stats => ({ requests: 0, logins: 0, lost: 0, wrongUser: 0, failed: 0, failovers: 0, upstreams: new Set() })

/** Sends requests from every client, round and round, until `done` resolves. */
async function traffic (clients: Client[], stats: Stats, done: Promise<unknown>): Promise<void> {
  const state = { finished: false }
  done.then(() => { state.finished = true }, () => { state.finished = true })
  while (!state.finished) for (const c of clients) await c.visit(stats)
}

async function startFleet (t: Test, secrets: string): Promise<Array<{ port: number, demo: Demo }>> {
  const ports = [await freePort(), await freePort(), await freePort()]
  return Promise.all(ports.map(async (port) => ({ port, demo: await startDemo(t, { SECRET_KEYS: secrets, SESSION_TTL: String(TTL), PORT: String(port) }) })))
}

t.test('one login, thousands of requests through nginx: signed in on every one, all three processes answering', async (t) => {
  const fleet = await startFleet(t, OLD)
  const nginx = await startNginx(t, fleet.map((b) => b.port))
  const client = new Client('fleet-user', nginx.base)
  await client.login()
  const stats = newStats()
  const started = Date.now()
  // The session must outlive the run: sign in again only when its ttl is up.
  while (stats.requests < 3000) await client.visit(stats)
  t.comment(`fleet: ${stats.requests} requests through nginx in ${((Date.now() - started) / 1000).toFixed(1)} s, ${stats.logins} logins (the ${TTL} s ttl), processes answering: ${[...stats.upstreams].sort().join(', ')}, sessions lost: ${stats.lost}`)
  t.equal(stats.upstreams.size, 3, 'all three processes answered')
  t.equal(stats.lost, 0, 'no request lost its session')
  t.equal(stats.wrongUser, 0)
  t.equal(stats.failed, 0)
})

t.test('the rotation drill for real, then a process killed outright: no session lost', async (t) => {
  const fleet = await startFleet(t, OLD)
  const nginx = await startNginx(t, fleet.map((b) => b.port))
  const clients = Array.from({ length: 4 }, (_, i) => new Client(`user-${i}`, nginx.base))
  const stats = newStats()
  const steps: Array<[string, string]> = [['add the new secret last', `${OLD},${NEW}`], ['move it first', `${NEW},${OLD}`], ['drop the old one', NEW]]

  const drill = (async () => {
    for (const [what, secrets] of steps) {
      if (secrets === NEW) {
        // One ttl after the last process started signing with the new secret.
        await new Promise((resolve) => setTimeout(resolve, TTL * 1000 + 500))
      }
      for (const backend of fleet) {
        await backend.demo.stop()
        backend.demo = await startDemo(t, { SECRET_KEYS: secrets, SESSION_TTL: String(TTL), PORT: String(backend.port) })
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
      t.comment(`step done: ${what} (${secrets === NEW ? '[new]' : secrets.startsWith(OLD) ? '[old, new]' : '[new, old]'})`)
    }
  })()
  await traffic(clients, stats, drill)
  await drill
  t.comment(`rotation drill: ${stats.requests} requests through nginx, ${stats.logins} logins, ${stats.failovers} moved to another process by nginx, processes answering: ${[...stats.upstreams].sort().join(', ')}, sessions lost: ${stats.lost}`)
  t.ok(stats.requests > 500, `${stats.requests} requests during the drill`)
  t.equal(stats.lost, 0, 'no session lost at any step')
  t.equal(stats.wrongUser, 0)
  t.equal(stats.failed, 0, 'no failed request: nginx moved to another process during each restart')

  const afterKill = newStats()
  fleet[1].demo.child.kill('SIGKILL')
  for (let i = 0; i < 500; i++) for (const c of clients) await c.visit(afterKill)
  t.comment(`after SIGKILL of one process: ${afterKill.requests} requests, ${afterKill.failovers} moved by nginx, processes answering: ${afterKill.upstreams.size}, sessions lost: ${afterKill.lost}, failed: ${afterKill.failed}`)
  t.equal(afterKill.lost, 0, 'killing a process loses no session: nothing was stored in it')
  t.equal(afterKill.failed, 0)
  t.equal(afterKill.upstreams.size, 2, 'the two processes left answered')
})
