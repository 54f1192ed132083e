// What the Postgres and the Redis store tests both check, on either server.
import type { Test } from 'tap'
import type { Revocation, RevocationBatch, RevocationStore } from '../../types/index.js'
import type { Server } from './process.js'
import { waitFor, within } from './wait.js'

export const subscribe = async (store: RevocationStore, onChange: () => void): Promise<() => Promise<void>> =>
  await (store.subscribe as NonNullable<RevocationStore['subscribe']>)(onChange)

/**
 * `writers` each add `count` revocations (all at once, or one after the other) while
 * `reader` polls with its cursor; the ids it read.
 */
export async function readWhileWriting (reader: RevocationStore, writers: RevocationStore[], now: number, count: number, { concurrent = false } = {}): Promise<Set<string>> {
  let cursor = (await reader.since(null, now)).cursor
  const seen = new Set<string>()
  const writing = { on: true }
  const polling = (async () => {
    for (let i = 0; i < 10_000 && writing.on; i++) {
      const batch = await reader.since(cursor, now)
      for (const r of batch.revocations) seen.add(r.id)
      cursor = batch.cursor
    }
  })()
  const add = async (store: RevocationStore, w: number, i: number): Promise<void> => { await store.add({ kind: 'session', id: `w${w}-${i}`, until: now + 60 }) }
  await Promise.all(writers.map(async (store, w) => {
    if (concurrent) await Promise.all(Array.from({ length: count }, async (_, i) => { await add(store, w, i) }))
    else for (let i = 0; i < count; i++) await add(store, w, i)
  }))
  writing.on = false
  await polling
  for (const r of (await reader.since(cursor, now)).revocations) seen.add(r.id)
  return seen
}

/** Every page from `cursor` on, until the store says there is no more. */
export async function readAll (store: RevocationStore, cursor: string | null, now: number): Promise<RevocationBatch[]> {
  const pages: RevocationBatch[] = []
  for (let more = true; more;) {
    const page = await store.since(cursor, now)
    pages.push(page)
    cursor = page.cursor
    more = page.more === true
  }
  return pages
}

export interface FaultRounds {
  server: Server
  /** The store under test, subscribed during the rounds. */
  store: RevocationStore
  /** Another process's store on the same data. */
  writer: RevocationStore
  now: number
  first: Revocation
  second: Revocation
  /** What the calls reject with while the server is down (by default, any error with a message: pg's own errors are not matched by the Error class). */
  rejects?: RegExp
  /** Once the server is down: until the client has seen it. */
  down?: () => Promise<void>
  /** Once the server is back: until the client has. */
  up?: () => Promise<void>
}

/**
 * kill -9, then a graceful stop: while down, add, since and prune reject (within 10 s);
 * back up, the same store reads everything stored before, writes again, and its
 * subscription says it is back and then hears another writer.
 */
export async function faultRounds (t: Test, o: FaultRounds): Promise<void> {
  await o.store.add(o.first)
  const stored = [o.first.id]
  let changes = 0
  const stop = await subscribe(o.store, () => { changes++ })
  for (const fault of ['kill', 'stop'] as const) {
    await o.server[fault]()
    await o.down?.()
    await t.rejects(within(o.store.add(o.second), 10_000), o.rejects ?? /./, 'add, ' + fault)
    await t.rejects(within(o.store.since(null, o.now), 10_000), o.rejects ?? /./, 'since, ' + fault)
    await t.rejects(within((o.store.prune as NonNullable<RevocationStore['prune']>)(o.now), 10_000), o.rejects ?? /./, 'prune, ' + fault)
    const before = changes
    await o.server.start()
    await o.up?.()
    const ids = new Set((await o.store.since(null, o.now)).revocations.map((r) => r.id))
    t.ok(stored.every((id) => ids.has(id)), 'nothing stored before the fault is lost, ' + fault)
    await o.store.add(o.second)
    // Subscribed again, it says so (for what was added meanwhile), then hears the next change.
    await waitFor(() => changes > before, 10_000, 'the subscription to come back')
    const back = changes
    await o.writer.add({ kind: 'session', id: 'after-' + fault, until: o.now + 60 })
    await waitFor(() => changes > back, 5000, 'a change pushed after the restart')
    stored.push(o.second.id, 'after-' + fault)
  }
  await stop()
}
