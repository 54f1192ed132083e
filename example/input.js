// @ts-check
// What a sign-in or register form may hold. Anything else is a mistake to show the
// person (400), never an exception.
import { nameProblem, normalizeName } from './names.js'

export const NAME_MAX = 64
export const PASSWORD_MIN = 8
/** Longer passwords cost scrypt time for nothing; no password manager makes them. */
export const PASSWORD_MAX = 1024
// Control characters, lone surrogates, and the bidi controls (in passwords).
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
  // NFKC may lengthen a name: the raw length is bounded first, so the work is too.
  const name = typeof rawName === 'string' && rawName.length <= NAME_MAX * 4 ? normalizeName(rawName) : ''
  const problem = name === '' ? undefined : nameProblem(name)
  const tooLong = typeof rawName === 'string' && (rawName.length > NAME_MAX * 4 || [...name].length > NAME_MAX)
  const shown = tooLong || problem !== undefined ? '' : name
  if (typeof rawName !== 'string' || typeof password !== 'string') {
    return { error: 'Please fill in a name and a password.', name: shown }
  }
  if (tooLong) return { error: `A name has at most ${NAME_MAX} characters.`, name: '' }
  if (name === '') return { error: 'Please enter a name.', name: '' }
  if (problem !== undefined) return { error: problem, name: '' }
  const length = [...password].length
  if (length === 0) return { error: 'Please enter a password.', name }
  if (UNWANTED.test(password)) return { error: 'A password cannot hold control characters.', name }
  if (length > PASSWORD_MAX) return { error: `A password has at most ${PASSWORD_MAX} characters.`, name }
  if (registering && length < PASSWORD_MIN) return { error: `A password has at least ${PASSWORD_MIN} characters.`, name }
  return { name, password }
}
