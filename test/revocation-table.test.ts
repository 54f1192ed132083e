// The in-memory revocation table every process holds: lookups by session key and by
// user, merging, dropping what expired, and its size in bytes.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { RevocationTable } from '../lib/revocation/table.js'
import { fingerprintHigh, fingerprintLow } from '../lib/revocation/fingerprint.js'

const NOW = 1764115200
const key = (): string => randomBytes(18).toString('base64url')

t.test('a revoked session is found until its expiry, in the map and after a merge', async (t) => {
  const table = new RevocationTable()
  const revoked = key()
  const other = key()
  t.equal(table.size, 0)
  t.notOk(table.sessionRevoked(revoked, NOW), 'nothing held')
  table.add({ kind: 'session', id: revoked, until: NOW + 10 })
  t.equal(table.size, 1)
  t.ok(table.sessionRevoked(revoked, NOW))
  t.ok(table.sessionRevoked(revoked, NOW + 10), 'still at its expiry')
  t.notOk(table.sessionRevoked(revoked, NOW + 11), 'not after it')
  t.notOk(table.sessionRevoked(other, NOW))
  table.merge(0)
  t.equal(table.size, 1, 'merged, not lost')
  t.ok(table.sessionRevoked(revoked, NOW + 10))
  t.notOk(table.sessionRevoked(revoked, NOW + 11))
  t.notOk(table.sessionRevoked(other, NOW))
  table.add({ kind: 'session', id: revoked, until: NOW + 100 })
  table.add({ kind: 'session', id: revoked, until: NOW + 50 })
  table.merge(0)
  t.equal(table.size, 1, 'the same session revoked again is one entry')
  t.ok(table.sessionRevoked(revoked, NOW + 100), 'with the later expiry')
  table.merge(NOW + 101)
  t.equal(table.size, 0, 'a merge drops what expired')
})

t.test('a user cut-off refuses logins before it, and moves only later', async (t) => {
  const table = new RevocationTable()
  const after = NOW * 1000 + 500
  table.add({ kind: 'user', id: 'u', after, until: NOW + 60 })
  t.ok(table.userRevoked('u', after - 1, NOW))
  t.notOk(table.userRevoked('u', after, NOW), 'a login at the cut-off is after it')
  t.notOk(table.userRevoked('v', 0, NOW), 'another user')
  t.notOk(table.userRevoked('u', after - 1, NOW + 61), 'dropped after its expiry')
  table.add({ kind: 'user', id: 'u', after: after - 100, until: NOW + 30 })
  t.ok(table.userRevoked('u', after - 1, NOW + 60), 'an earlier cut-off changes neither time')
  table.add({ kind: 'user', id: 'u', after: after + 100, until: NOW + 90 })
  t.ok(table.userRevoked('u', after + 99, NOW + 90), 'a later one moves both')
  table.merge(NOW + 91)
  t.equal(table.size, 0)
})

t.test('many revocations: every one found, none invented, merged in order whatever arrives when', async (t) => {
  const table = new RevocationTable()
  const revoked = Array.from({ length: 20000 }, key)
  for (const id of revoked) table.add({ kind: 'session', id, until: NOW + 3600 })
  table.merge(0)
  const missing = revoked.filter((id) => !table.sessionRevoked(id, NOW))
  t.same(missing, [], 'all 20,000 found')
  let falsePositives = 0
  for (let i = 0; i < 20000; i++) if (table.sessionRevoked(key(), NOW)) falsePositives++
  t.equal(falsePositives, 0, 'no other session refused')
  t.equal(table.size, 20000)
})

t.test('at most 16 bytes a revoked session', async (t) => {
  const table = new RevocationTable()
  for (let i = 0; i < 100000; i++) table.add({ kind: 'session', id: key(), until: NOW + 3600 })
  table.merge(0)
  const perEntry = table.sessionBytes / 100000
  t.ok(perEntry <= 16, `${perEntry.toFixed(2)} bytes each`)
})

t.test('the fingerprint halves differ and spread', async (t) => {
  const id = key()
  t.not(fingerprintHigh(id), fingerprintLow(id))
  const highs = new Set<number>()
  for (let i = 0; i < 1000; i++) highs.add(fingerprintHigh(key()) >>> 24)
  t.ok(highs.size > 200, `${highs.size} of 256 top bytes seen in 1,000 keys`)
})
