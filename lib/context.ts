// What the request side and the reply side of one plugin instance share.
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from './options.js'
import type { Revocations } from './revocation/revocations.js'
import type { Verify } from './verifier.js'

export interface Context {
  config: Config
  verify: Verify
  /** null when revocation is off (`revocation: false`). */
  revocations: Revocations | null
  log: FastifyBaseLogger
  /** Whether a token verified by the key at this position is re-signed with the first. */
  resigns: (keyIndex: number) => boolean
}
