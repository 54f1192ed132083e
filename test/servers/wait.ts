// Bounded waits for the real-server tests.
import { pause } from './process.js'

/** Polls `condition` every 20 ms until true; throws after `ms`, naming what it waited for. */
export async function waitFor (condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`)
    await pause(20)
  }
}

/** `promise`, or a rejection saying it took longer than `ms`. */
export async function within<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
