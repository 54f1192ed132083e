// The diagnostics channel: why a request had no session, renewals, re-signings. A
// message is built only when someone subscribes, so without a subscriber the cost is
// one property read.
import { channel } from 'node:diagnostics_channel'
import type { FastifyRequest } from 'fastify'
import type { SessionEvent } from '../types/index.js'

export const diagnosticsChannelName = 'fastify-dbbasic-sessions:session'
export const sessionChannel = channel(diagnosticsChannelName)

/** The matched route's URL pattern, if any. */
export const routeOf = (request: FastifyRequest | null): string | undefined => request?.routeOptions.url

export function publish (event: SessionEvent): void {
  sessionChannel.publish(event)
}
