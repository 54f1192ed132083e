// The demo's databases for its tests: a temporary SQLite folder, or a fresh database
// on the test file's one PostgreSQL server (started on first use, stopped when the
// file ends). Not a test itself.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import tap, { type Test } from 'tap'
import { startPostgres, type PostgresServer } from '../servers/postgres.js'

/** The databases every route test runs against. */
export const DATABASES = ['sqlite', 'postgres'] as const
export type Kind = typeof DATABASES[number]

let server: Promise<PostgresServer> | undefined
let made = 0

/** The file's PostgreSQL server, started on first use and stopped when the file ends. */
export async function postgresServer (): Promise<PostgresServer> {
  server ??= startPostgres(tap)
  return await server
}

/** A fresh, empty database on the file's PostgreSQL server: its URL. */
export async function freshPostgres (): Promise<string> {
  const { config } = await postgresServer()
  const name = `demo_${process.pid}_${++made}`
  const admin = new pg.Client(config)
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  return `postgres://${config.user}@${config.host}:${config.port}/${name}`
}

/** A data folder removed when the test ends. */
export function tempDataDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'demo-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
