// The in-memory revocation table every process holds: lookups by session key and by
// user, folding a user's cut-offs, merging, dropping what expired, what another table
// lacks, and its size in bytes.
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

/** The limit a folded cut-off puts on a session known by `key`, as revocations.ts reads it. */
function limit (table: RevocationTable, user: string, key: string, now = NOW): number {
  const cutoff = table.user(user, now)
  if (cutoff === undefined) return 0
  return cutoff.except !== null && cutoff.except === key ? cutoff.floor : cutoff.after
}

t.test('a user\'s cut-offs fold into one entry whose limit only rises, until it expires', async (t) => {
  const table = new RevocationTable()
  const after = NOW * 1000 + 500
  table.add({ kind: 'user', id: 'u', after, until: NOW + 60 })
  t.equal(limit(table, 'u', 'any'), after)
  t.equal(limit(table, 'v', 'any'), 0, 'another user has none')
  t.equal(limit(table, 'u', 'any', NOW + 61), 0, 'dropped after its expiry')
  table.add({ kind: 'user', id: 'u', after: after - 100, until: NOW + 30 })
  t.equal(limit(table, 'u', 'any', NOW + 60), after, 'an earlier cut-off changes neither the limit nor the expiry')
  table.add({ kind: 'user', id: 'u', after: after + 100, until: NOW + 90 })
  t.equal(limit(table, 'u', 'any', NOW + 90), after + 100, 'a later one moves both')
  t.equal(table.size, 1, 'one entry for the user')
  table.merge(NOW + 91)
  t.equal(table.size, 0)
})

t.test('"sign out the others": the kept session is refused only by the cut-offs that did not keep it, in any order of arrival', async (t) => {
  const cuts = [
    { kind: 'user' as const, id: 'u', after: 1000, until: NOW + 60 },
    { kind: 'user' as const, id: 'u', after: 2000, until: NOW + 60, except: 'phone' },
    { kind: 'user' as const, id: 'u', after: 1500, until: NOW + 60, except: 'laptop' },
    { kind: 'user' as const, id: 'u', after: 3000, until: NOW + 60, except: 'phone' }
  ]
  // What the cut-offs mean, one by one: a session is refused below the highest cut-off that did not keep it.
  const expected = (key: string): number => Math.max(...cuts.filter((c) => c.except !== key).map((c) => c.after))
  const orders = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1], [3, 1, 2, 0]]
  for (const order of orders) {
    const table = new RevocationTable()
    for (const i of order) table.add(cuts[i])
    for (const key of ['phone', 'laptop', 'tablet']) t.equal(limit(table, 'u', key), expected(key), `${key}, order ${order.join('')}`)
  }
  t.equal(expected('phone'), 1500, 'the phone, kept by the latest, is still refused below the laptop\'s cut-off')
  const tie = new RevocationTable()
  tie.add({ kind: 'user', id: 'u', after: 5000, until: NOW + 60, except: 'phone' })
  tie.add({ kind: 'user', id: 'u', after: 5000, until: NOW + 60, except: 'laptop' })
  t.equal(limit(tie, 'u', 'phone'), 5000, 'two cut-offs at once that keep different sessions keep neither')
  t.equal(limit(tie, 'u', 'laptop'), 5000)
})

t.test('a revocation\'s expiry past 2^32 is held as the latest one, never wrapped to an early one', async (t) => {
  const table = new RevocationTable()
  const id = key()
  table.add({ kind: 'session', id, until: NOW + 100 * 365 * 86400 })
  table.merge(NOW)
  t.ok(table.sessionRevoked(id, NOW), 'held after the merge that once wrapped it to the past')
  t.ok(table.sessionRevoked(id, 4294967295), 'until the last second 32 bits hold')
})

t.test('entries() gives every live revocation, sessions as fingerprints another table reads as the same session', async (t) => {
  const table = new RevocationTable()
  const ids = [key(), key(), key()]
  for (const id of ids) table.add({ kind: 'session', id, until: NOW + 60 })
  table.add({ kind: 'session', id: key(), until: NOW - 1 })
  table.add({ kind: 'user', id: 'u', after: 1000, until: NOW + 60 })
  table.add({ kind: 'user', id: 'u', after: 2000, until: NOW + 60, except: 'phone' })
  const copy = new RevocationTable()
  const entries = [...table.entries(NOW)]
  t.equal(entries.filter((e) => e.kind === 'session').length, 3, 'the expired one is left out')
  t.ok(entries.every((e) => e.kind === 'user' || /^#[0-9a-f]{16}$/.test(e.id)))
  for (const entry of entries) copy.add(entry)
  for (const id of ids) t.ok(copy.sessionRevoked(id, NOW), 'found by its id in the copy')
  t.same([limit(copy, 'u', 'phone'), limit(copy, 'u', 'laptop')], [1000, 2000], 'the folded cut-offs read back the same')
  t.same(table.missingFrom(copy, NOW), { sessions: 0, users: 0 })
})

t.test('missingFrom counts what a table enforces that another does not', async (t) => {
  const known = new RevocationTable()
  const ids = Array.from({ length: 50 }, key)
  for (const id of ids) known.add({ kind: 'session', id, until: NOW + 60 })
  known.add({ kind: 'user', id: 'u', after: 2000, until: NOW + 60 })
  known.add({ kind: 'user', id: 'w', after: 2000, until: NOW + 60, except: 'phone' })
  const store = new RevocationTable()
  for (const id of ids.slice(0, 40)) store.add({ kind: 'session', id, until: NOW + 60 })
  store.add({ kind: 'session', id: ids[40], until: NOW + 30 })
  store.add({ kind: 'user', id: 'u', after: 1000, until: NOW + 60 })
  store.add({ kind: 'user', id: 'w', after: 2000, until: NOW + 60 })
  t.same(known.missingFrom(store, NOW), { sessions: 10, users: 1 }, 'ten sessions (one held for less time), and the lower cut-off of u; w\'s stricter one covers it')
  t.same(store.missingFrom(known, NOW), { sessions: 0, users: 1 }, 'w refuses the phone in the store only')
  t.same(known.missingFrom(known, NOW + 61), { sessions: 0, users: 0 }, 'nothing that expired counts')
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

t.test('two sessions whose fingerprints share the high half are told apart by the low one, before and after a merge', async (t) => {
  const table = new RevocationTable()
  table.add({ kind: 'session', id: '#0000000100000002', until: NOW + 60 })
  table.add({ kind: 'session', id: '#0000000100000003', until: NOW + 30 })
  table.add({ kind: 'session', id: '#0000000100000003', until: NOW + 90 })
  t.equal(table.sessions, 2)
  for (const merged of [false, true]) {
    if (merged) table.merge(0)
    t.ok(table.sessionRevoked('#0000000100000002', NOW + 60), `the first${merged ? ', merged' : ''}`)
    t.ok(table.sessionRevoked('#0000000100000003', NOW + 90), 'the second, with its later expiry')
    t.notOk(table.sessionRevoked('#0000000100000004', NOW), 'a third that shares the high half only')
  }
})
