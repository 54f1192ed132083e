// A guard against a cliff in Node itself, not in this plugin. process.nextTick makes
// each tick an object literal with two computed symbol keys, and V8 keeps the shapes
// that literal goes through only while some tick object is alive. A full GC while the
// tick queue is empty drops them; the next tick makes new ones; after four such GCs the
// literal's inline caches are megamorphic for the life of the process, and every
// nextTick defines its four properties through the runtime: 0.3 to 1 µs more a call,
// with about eight calls in each HTTP request Fastify serves (docs/performance.md).
// Holding one tick object keeps its shapes alive, so the caches stay monomorphic.
import { createHook } from 'node:async_hooks'

const held: object[] = []

/**
 * Keeps one tick object for the life of the process. The hook sees only the one
 * nextTick made between enable and disable, which restore every async_hooks switch
 * they touch (executionAsyncResource() would instead leave one on for good).
 */
export function holdTickShapes (): void {
  const hook = createHook({ init (_id, type, _trigger, resource) { if (type === 'TickObject') held.push(resource) } })
  hook.enable()
  process.nextTick(() => {})
  hook.disable()
  // A tick carries the async context it was made in, under symbol keys: the context
  // frame (Node 22 on) and a store per AsyncLocalStorage (Node 20, 22, and 24 without
  // frames). Node has no public way to make it outside the importer's context, so its
  // context is cleared in place: the object keeps its shape, and so the literal's, but
  // no longer the importer's stores. Its own two async ids are numbers and stay.
  for (const tick of held as Array<Record<symbol, unknown>>) {
    for (const key of Object.getOwnPropertySymbols(tick)) if (typeof tick[key] !== 'number') tick[key] = undefined
  }
}
