// The floor to measure against: the plainest node:crypto implementation of the same
// token (createHmac, timingSafeEqual, JSON), with none of the package's checks.
import { createHmac, timingSafeEqual } from 'node:crypto'

export function baselineVerify (token, secret, nowSeconds) {
  const dot = token.indexOf('.')
  const payload = token.slice(0, dot)
  const signature = Buffer.from(token.slice(dot + 1), 'hex')
  const expected = createHmac('sha256', secret).update(payload).digest()
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null
  const data = JSON.parse(Buffer.from(payload, 'base64url').toString())
  return data.expires > nowSeconds ? data.user_id : null
}

export function baselineCreate (userId, expires, secret) {
  const payload = Buffer.from(JSON.stringify({ user_id: userId, expires })).toString('base64url')
  return payload + '.' + createHmac('sha256', secret).update(payload).digest('hex')
}
