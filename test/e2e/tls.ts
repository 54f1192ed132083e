// A throwaway self-signed certificate for the HTTPS tests, made with openssl in a
// temporary folder that is removed at teardown. Not a test itself.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

export function selfSignedCertificate (t: Test, names: string[]): { key: Buffer, cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'fdbs-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${names[0]}`,
      '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`
    ], { stdio: 'pipe' })
  } catch (err) {
    throw new Error(`openssl could not make a test certificate (apt-get install openssl): ${(err as { stderr?: Buffer }).stderr?.toString() ?? String(err)}`)
  }
  return { key: readFileSync(key), cert: readFileSync(cert) }
}
