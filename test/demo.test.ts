// `npm run demo` as a user runs it: a real process on 127.0.0.1, driven over HTTP.
import t from 'tap'
import { createSession, getSession } from '../lib/index.js'
import { startDemo } from './demo-process.js'
import { SECRET } from './helpers.js'

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString()
})

t.test('sign in, be recognised, call /me, sign out', async (t) => {
  const demo = await startDemo(t, { SECRET_KEY: SECRET })
  t.notMatch(demo.output(), /one-time secret/, 'no warning when SECRET_KEY is set')
  t.match(demo.output(), /Secure flag is off/, 'says that Secure is off on plain http')

  const home = await fetch(demo.base + '/')
  t.equal(home.status, 200)
  t.match(home.headers.get('content-type'), /^text\/html/)
  const html = await home.text()
  t.match(html, /<form method="post" action="\/login">/)
  t.match(html, /<input id="username" name="username"/)

  const login = await fetch(demo.base + '/login', form({ username: '<b>Ann</b>' }))
  t.equal(login.status, 303)
  t.equal(login.headers.get('location'), '/')
  const setCookie = login.headers.get('set-cookie') ?? ''
  t.match(setCookie, /^session=[A-Za-z0-9_=-]+\.[0-9a-f]{64}; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/)
  const cookie = setCookie.split(';')[0]
  t.equal(getSession(cookie.slice('session='.length), { secret: SECRET }), '<b>Ann</b>', 'a dbbasic-sessions token under the shared secret')

  const signedIn = await (await fetch(demo.base + '/', { headers: { cookie } })).text()
  t.match(signedIn, 'Signed in as <strong>&#60;b&#62;Ann&#60;/b&#62;</strong>', 'the name is shown, escaped')
  t.match(signedIn, '<form method="post" action="/logout">')

  const me = await fetch(demo.base + '/me', { headers: { cookie } })
  t.same(await me.json(), { userId: '<b>Ann</b>' })
  const anonymous = await fetch(demo.base + '/me')
  t.equal(anonymous.status, 401)
  t.same(await anonymous.json(), { statusCode: 401, code: 'FST_DBBASIC_SESSIONS_UNAUTHORIZED', error: 'Unauthorized', message: 'No valid session' })

  const logout = await fetch(demo.base + '/logout', { method: 'POST', redirect: 'manual', headers: { cookie } })
  t.equal(logout.status, 303)
  t.match(logout.headers.get('set-cookie'), /^session=; Max-Age=0; Path=\/;/)
})

t.test('an empty name is refused with the form again', async (t) => {
  const demo = await startDemo(t, { SECRET_KEY: SECRET })
  const res = await fetch(demo.base + '/login', form({ username: '   ' }))
  t.equal(res.status, 400)
  t.equal(res.headers.get('set-cookie'), null)
  t.match(await res.text(), 'Please enter a name.')
})

t.test('SECRET_KEYS gives the demo a list of secrets: the first signs, all verify', async (t) => {
  const other = 'demo-other-secret-0123456789abcdef01234567'
  const demo = await startDemo(t, { SECRET_KEYS: `${SECRET},${other}` })
  const login = await fetch(demo.base + '/login', form({ username: 'listed' }))
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
  t.equal(getSession(cookie.slice('session='.length), { secret: SECRET }), 'listed')
  const old = await fetch(demo.base + '/me', { headers: { cookie: `session=${createSession('older', { secret: other })}` } })
  t.same(await old.json(), { userId: 'older' })
})

t.test('without SECRET_KEY the demo makes a one-time secret and says so; SESSION_TTL sets the ttl', async (t) => {
  const demo = await startDemo(t, { SESSION_TTL: '120' })
  t.match(demo.output(), /SECRET_KEY is not set: using a one-time secret, so sessions will not survive a restart/)
  const login = await fetch(demo.base + '/login', form({ username: 'temp' }))
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
  t.match(login.headers.get('set-cookie'), /Max-Age=120;/)
  t.equal(getSession(cookie.slice('session='.length), { secret: SECRET }), null, 'not signed with any known secret')
  t.same(await (await fetch(demo.base + '/me', { headers: { cookie } })).json(), { userId: 'temp' })
})
