// The configured clock (the `now` option), read as seconds. Time comes only from here,
// so tests pass a clock of their own instead of sleeping.
import { InvalidOptionError, shown } from './errors.js'

/** Seconds since the epoch from the configured clock; a broken clock is a bug, not "no session". */
export function clockSeconds (now: () => number): number {
  const ms = now()
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidOptionError(`now must return a finite number of milliseconds; got ${shown(ms)}`)
  }
  return ms / 1000
}
