// The diagnostics channel: why a request had no session, renewals, re-signings. A
// message is built only when someone subscribes, so without a subscriber the cost is
// one property read.
import { channel } from 'node:diagnostics_channel'
import type { FastifyRequest } from 'fastify'
import type { SessionEvent, SessionEventSource } from '../types/index.js'

export const diagnosticsChannelName = 'fastify-dbbasic-sessions:session'
export const sessionChannel = channel(diagnosticsChannelName)

/** What an event says of its request: never the request itself, whose Cookie header holds the token. */
export const sourceOf = (request: FastifyRequest): SessionEventSource => ({ route: request.routeOptions.url, requestId: request.id, method: request.method })

export function publish (event: SessionEvent): void {
  sessionChannel.publish(event)
}
