// Debian's nginx on a loopback port in front of the demo processes, for the fleet
// test. Its own prefix in a temporary folder; stopped and removed at teardown.
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { freePort } from '../servers/ports.js'

const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx'

export interface Nginx { base: string, child: ChildProcess, errors: () => string }

/**
 * Round-robin over the backends. With `cache`, a shared cache in front of every
 * route, set up as a careless CDN would be: it stores responses that carry a
 * Set-Cookie too, so an app that renews a session on a cacheable response would
 * hand that cookie to the next visitor.
 */
export async function startNginx (t: Test, backends: number[], { cache = false } = {}): Promise<Nginx> {
  if (!existsSync(NGINX)) throw new Error(`no nginx at ${NGINX}: install Debian's nginx (apt-get install nginx) or set NGINX_PATH`)
  const dir = mkdtempSync(join(tmpdir(), 'fdbs-nginx-'))
  // Run as root, nginx's workers run as nobody: they must reach the cache and temp folders inside.
  chmodSync(dir, 0o755)
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
  ${cache ? `proxy_cache_path ${dir}/cache keys_zone=shared:1m max_size=10m;` : ''}
  upstream demo {
${backends.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://demo;
      # The client's address for the demo's rate limit (TRUST_PROXY names this nginx):
      # what the client sent in X-Forwarded-For comes first, nginx's own view of the
      # client last, and the demo takes the last address it does not trust.
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Host $host;
      # A process being restarted refuses connections: try the next one, logins included.
      proxy_next_upstream error timeout non_idempotent;
      add_header X-Upstream $upstream_addr always;
${cache
? `      proxy_cache shared;
      proxy_ignore_headers Set-Cookie;
      add_header X-Cache $upstream_cache_status always;`
: ''}
    }
  }
}
`)
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'inherit', 'inherit'] })
  const errors = (): string => existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''
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
      await (await fetch(base + '/')).arrayBuffer()
      break
    } catch {
      if (i > 100) throw new Error('nginx did not start: ' + errors())
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return { base, child, errors }
}
