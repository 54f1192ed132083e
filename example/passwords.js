// @ts-check
// Password hashes: scrypt from node:crypto, a random salt per user, the cost stored
// with each hash so it can be raised later without locking anyone out.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/** N = 2^14, r = 8, p = 1: 16 MiB and some tens of milliseconds per hash. */
export const COST = Object.freeze({ N: 16384, r: 8, p: 1 })
const KEY_BYTES = 32
const SALT_BYTES = 16
const FORMAT = /^scrypt\$(\d{1,7})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/

/**
 * @param {string} password @param {Buffer} salt @param {{ N: number, r: number, p: number }} cost
 * @returns {Promise<Buffer>}
 */
function derive (password, salt, cost) {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { ...cost, maxmem: 256 * cost.N * cost.r }, (err, key) => {
      if (err) reject(err)
      else resolve(key)
    })
  })
}

/** @param {string} password @returns {Promise<string>} `scrypt$N$r$p$salt$key`, base64url */
export async function hashPassword (password, cost = COST) {
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, cost)
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** @param {string} password @param {string} stored @returns {Promise<boolean>} */
export async function verifyPassword (password, stored) {
  const parts = FORMAT.exec(stored)
  if (parts === null) throw new Error('not a password hash of this demo')
  const [, N, r, p, salt, key] = parts
  const expected = Buffer.from(key, 'base64url')
  const actual = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(N), r: Number(r), p: Number(p) })
  return timingSafeEqual(actual, expected)
}

/**
 * A hash of a random password nobody knows. A login with an unknown name is
 * checked against it, so it costs the same scrypt as a wrong password.
 */
export const dummyHash = () => hashPassword(randomBytes(16).toString('hex'))
