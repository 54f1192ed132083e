// How the browser scenarios use the demo: start it behind the recorder, open its
// pages, send its forms, ask who is signed in. Shared by demo-scenarios.ts and
// replay-scenarios.ts. Not a test itself.
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { startDemo } from '../demo/process.js'
import { clickAndWait, type Cookie, type Tab } from './engines/engine.js'
import { startRecorder, type Exchange } from './recorder.js'

const SECRET = randomBytes(32).toString('hex')
export const PASSWORD = 'correct horse battery'

export interface Opened { demo: Awaited<ReturnType<typeof startDemo>>, base: string, seen: Exchange[] }

/** The demo with a fresh database (startDemo's own), behind the recorder, under the name the browser uses. */
export async function openDemo (t: Test, env: Record<string, string> = {}): Promise<Opened> {
  const demo = await startDemo(t, { SECRET_KEY: SECRET, ...env })
  const recorder = await startRecorder(t, demo.port)
  return { demo, base: `http://app.example.test:${recorder.port}`, seen: recorder.seen }
}

/** Opens a page of the demo; the status it was answered with. */
export async function visit (tab: Tab, { base, seen }: Opened, path: string): Promise<number> {
  const mark = seen.length
  await tab.goto(base + path)
  return seen.slice(mark).filter((s) => s.method === 'GET' && s.path === path).at(-1)?.status ?? 0
}

/** Fills and sends one of the demo's forms; the status of the page the browser ends on. */
export async function submit (tab: Tab, demo: Opened, form: 'register' | 'login', name: string, password = PASSWORD): Promise<number> {
  if (await tab.text(`#${form}-name`) === null) await visit(tab, demo, '/')
  await tab.fill(`#${form}-name`, name)
  await tab.fill(`#${form}-password`, password)
  const mark = demo.seen.length
  await clickAndWait(tab, `#${form} button`)
  return demo.seen.slice(mark).at(-1)?.status ?? 0
}

/** The name the demo shows on a fresh visit to its home page, or 'signed out'. */
export async function who (tab: Tab, demo: Opened): Promise<string> {
  await visit(tab, demo, '/')
  return await tab.text('#name') ?? 'signed out'
}

/** The session cookie the browser holds for the page it is on. */
export const sessionCookie = async (tab: Tab): Promise<Cookie | undefined> => (await tab.cookies()).find((c) => c.name === 'session')
