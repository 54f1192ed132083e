// The demo app: a login form, a page that says who you are, and a JSON endpoint
// guarded by requireSession. server.js starts it; tests import it the same way.
import Fastify from 'fastify'
import formbody from '@fastify/formbody'
import sessions from 'fastify-dbbasic-sessions'

const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function page (body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fastify-dbbasic-sessions demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; }
  form { display: flex; gap: .5rem; align-items: center; margin-top: 1rem; }
  input { font: inherit; padding: .3rem .5rem; }
  button { font: inherit; padding: .3rem .9rem; cursor: pointer; }
  .note { color: #666; font-size: .9rem; }
  .error { color: #a00; }
</style>
</head>
<body>
<h1>fastify-dbbasic-sessions demo</h1>
${body}
<p class="note">One signed cookie, no session store: the server recomputes its HMAC on every request.</p>
</body>
</html>
`
}

function loginForm (error = '') {
  return page(`${error && `<p class="error">${escapeHtml(error)}</p>`}
<form method="post" action="/login">
  <label for="username">Name</label>
  <input id="username" name="username" autocomplete="username" required>
  <button type="submit">Sign in</button>
</form>`)
}

/**
 * @param {{ secret: string | string[], ttl?: number, secure?: boolean, logger?: boolean | object }} options
 */
export async function buildDemo ({ secret, ttl, secure = true, logger = false }) {
  const app = Fastify({ logger })
  await app.register(formbody)
  await app.register(sessions, { secret, ttl, cookie: { secure } })

  app.get('/', async (request, reply) => {
    reply.type('text/html; charset=utf-8')
    const { userId } = request.session
    if (userId === null) return loginForm()
    return page(`<p id="status">Signed in as <strong>${escapeHtml(userId)}</strong></p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`)
  })

  app.post('/login', async (request, reply) => {
    const name = typeof request.body?.username === 'string' ? request.body.username.trim() : ''
    if (name === '') {
      return reply.code(400).type('text/html; charset=utf-8').send(loginForm('Please enter a name.'))
    }
    reply.createSession(name)
    return reply.redirect('/', 303)
  })

  app.post('/logout', async (_request, reply) => {
    return reply.destroySession().redirect('/', 303)
  })

  app.get('/me', { preHandler: app.requireSession }, async (request) => ({ userId: request.session.userId }))

  return app
}
