// @ts-check
// What a sign-in or register form may hold. Anything else is a mistake to show the
// person (400), never an exception.

export const NAME_MAX = 64
export const PASSWORD_MIN = 8
/** Longer passwords cost scrypt time for nothing; no password manager makes them. */
export const PASSWORD_MAX = 1024
// Control characters, lone surrogates, and the bidi controls that would make a name
// display as something else.
const UNWANTED = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]/u

/**
 * @param {unknown} body the parsed form
 * @param {boolean} registering new accounts need a password of PASSWORD_MIN characters
 * @returns {{ name: string, password: string } | { error: string, name: string }}
 */
export function readCredentials (body, registering) {
  const fields = typeof body === 'object' && body !== null ? /** @type {Record<string, unknown>} */ (body) : {}
  const rawName = fields.name
  const password = fields.password
  const name = typeof rawName === 'string' ? rawName.normalize('NFC').trim() : ''
  const shown = typeof rawName === 'string' && [...name].length <= NAME_MAX && !UNWANTED.test(name) ? name : ''
  if (typeof rawName !== 'string' || typeof password !== 'string') {
    return { error: 'Please fill in a name and a password.', name: shown }
  }
  if (name === '') return { error: 'Please enter a name.', name: '' }
  if ([...name].length > NAME_MAX) return { error: `A name has at most ${NAME_MAX} characters.`, name: '' }
  if (UNWANTED.test(name)) return { error: 'A name cannot hold control characters.', name: '' }
  const length = [...password].length
  if (length === 0) return { error: 'Please enter a password.', name }
  if (UNWANTED.test(password)) return { error: 'A password cannot hold control characters.', name }
  if (length > PASSWORD_MAX) return { error: `A password has at most ${PASSWORD_MAX} characters.`, name }
  if (registering && length < PASSWORD_MIN) return { error: `A password has at least ${PASSWORD_MIN} characters.`, name }
  return { name, password }
}
