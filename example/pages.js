// @ts-check
// The demo's HTML. Every value from a person or the database goes through escapeHtml.

/** @param {string} text */
export const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** @param {number} seconds Unix seconds */
const iso = (seconds) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')

/** @param {number} n @param {string} unit */
const count = (n, unit) => `${n} ${unit}${n === 1 ? '' : 's'}`

/** @param {number} seconds */
const duration = (seconds) => seconds % 3600 === 0
  ? count(seconds / 3600, 'hour')
  : seconds % 60 === 0 ? count(seconds / 60, 'minute') : count(seconds, 'second')

/** @param {string} id @param {number} seconds */
const time = (id, seconds) =>
  `<time id="${id}" datetime="${iso(seconds)}" data-seconds="${seconds}">${iso(seconds).replace('T', ' ').replace('Z', ' UTC')}</time>`

/** @param {string} title @param {string} body */
function page (title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · fastify-dbbasic-sessions demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; }
  h2 { font-size: 1.1rem; margin-top: 2rem; }
  form { display: grid; grid-template-columns: 6rem 1fr; gap: .5rem; align-items: center; margin-top: .5rem; max-width: 24rem; }
  form.button { display: block; margin: 1rem 0 .2rem; }
  form button { grid-column: 2; justify-self: start; }
  input { font: inherit; padding: .3rem .5rem; }
  button { font: inherit; padding: .3rem .9rem; cursor: pointer; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
  dt { color: #555; }
  dd { margin: 0; }
  .note { color: #666; font-size: .9rem; margin-top: .2rem; }
  .error { color: #a00; }
  .notice { color: #064; }
  form.inline { display: inline; }
  li.device { margin: .3rem 0; }
</style>
</head>
<body>
<h1>fastify-dbbasic-sessions demo</h1>
${body}
<p class="note">One signed cookie, no session store: the server recomputes its HMAC on every request, and keeps only the sign-outs.</p>
</body>
</html>
`
}

/** @param {string} error */
const errorLine = (error) => error === '' ? '' : `<p class="error" id="error" role="alert">${escapeHtml(error)}</p>\n`
/** @param {string} notice */
const noticeLine = (notice) => notice === '' ? '' : `<p class="notice" id="notice">${escapeHtml(notice)}</p>\n`

/**
 * The sign-in and register forms.
 * @param {{ error?: string, notice?: string, name?: string }} [state] name refills the forms after a mistake
 */
export function signedOutPage ({ error = '', notice = '', name = '' } = {}) {
  const value = name === '' ? '' : ` value="${escapeHtml(name)}"`
  return page('Sign in', `${errorLine(error)}${noticeLine(notice)}<p id="status">Signed out.</p>
<h2>Sign in</h2>
<form id="login" method="post" action="/login">
  <label for="login-name">Name</label>
  <input id="login-name" name="name" autocomplete="username" required maxlength="64"${value}>
  <label for="login-password">Password</label>
  <input id="login-password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
<h2>New here? Register</h2>
<form id="register" method="post" action="/register">
  <label for="register-name">Name</label>
  <input id="register-name" name="name" autocomplete="username" required maxlength="64">
  <label for="register-password">Password</label>
  <input id="register-password" name="password" type="password" autocomplete="new-password" required minlength="8">
  <button type="submit">Register</button>
</form>
<p class="note">A password has at least 8 characters. It is stored as a salted scrypt hash in the demo's database.</p>`)
}

/**
 * The sign-ins of this account, newest first: this browser's marked, each other one
 * with its own sign-out button. `null` when the database could not say.
 * @param {import('./db.js').Device[] | null} devices @param {string | null} current
 */
function devicesList (devices, current) {
  if (devices === null) return '<p class="note" id="devices-unavailable">The list of your sign-ins cannot be read just now.</p>'
  const items = devices.map((d) => {
    const what = `${escapeHtml(d.browser)}, signed in ${iso(d.signedInAt).replace('T', ' ').replace('Z', ' UTC')}`
    return d.sessionId === current
      ? `<li class="device this">${what} <strong>(this browser)</strong></li>`
      : `<li class="device">${what}
  <form class="inline" method="post" action="/devices/sign-out"><input type="hidden" name="session" value="${escapeHtml(d.sessionId)}"><button type="submit">Sign out this one</button></form></li>`
  })
  return `<ul id="devices">
${items.join('\n')}
</ul>`
}

/**
 * @param {object} view
 * @param {string} view.name
 * @param {string} view.userId
 * @param {number} view.issuedAt
 * @param {number} view.expiresAt
 * @param {number} view.absoluteEnd
 * @param {number} view.ttl
 * @param {number} view.staleness seconds a sign-out takes to reach every process
 * @param {import('./db.js').Device[] | null} view.devices
 * @param {string | null} view.sessionId this browser's
 * @param {string} [view.notice]
 * @param {string} [view.error]
 */
export function signedInPage ({ name, userId, issuedAt, expiresAt, absoluteEnd, ttl, staleness, devices, sessionId, notice = '', error = '' }) {
  return page(name, `${errorLine(error)}${noticeLine(notice)}<p id="status">Signed in as <strong id="name">${escapeHtml(name)}</strong> (account ${escapeHtml(userId)}).</p>
<dl>
  <dt>Session started</dt><dd>${time('issued-at', issuedAt)}</dd>
  <dt>Session ends</dt><dd>${time('expires-at', expiresAt)}</dd>
  <dt>At the latest</dt><dd>${time('absolute-end', absoluteEnd)}</dd>
</dl>
<p class="note">Idle for ${duration(ttl)} and the session ends. Come back in the second half of that
and the end moves on (rolling renewal: a fresh cookie), but never past the latest time, ${duration(absoluteEnd - issuedAt)} after signing in.</p>
<h2>Where you are signed in</h2>
${devicesList(devices, sessionId)}
<form class="button" method="post" action="/logout"><button type="submit" id="sign-out">Sign out</button></form>
<p class="note">Ends this browser's session on the server too: a copy of its cookie is refused from then on.</p>
<form class="button" method="post" action="/logout-others"><button type="submit" id="sign-out-others">Sign out the other browsers</button></form>
<p class="note">After a password change, or a browser you no longer have: every other sign-in ends, this one stays.</p>
<form class="button" method="post" action="/logout-everywhere"><button type="submit" id="sign-out-everywhere">Sign out everywhere</button></form>
<p class="note">Signs out every browser signed in as you, including this one, within ${count(staleness, 'second')} on every server process.</p>`)
}

/** @param {string} title @param {string} message */
export function errorPage (title, message) {
  return page(title, `<p class="error" id="error" role="alert">${escapeHtml(message)}</p>
<p><a href="/">Back to the demo</a></p>`)
}

/** The same for everyone, so a shared cache may keep it. */
export function aboutPage () {
  return page('About', `<p>This demo keeps accounts in its database and sessions in one signed cookie.
This page is the same for everyone and may be kept by a shared cache for a minute: the plugin
sends no session renewal on it, so no cache can keep anyone's cookie.</p>
<p><a href="/">Back to the demo</a></p>`)
}
