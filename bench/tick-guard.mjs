// `node --import ./bench/tick-guard.mjs`: the nextTick guard this package applies on
// import (lib/ticks.ts), for a server that does not import the package (bare Fastify,
// the peers), so that every server bench/instructions.mjs measures stays on V8's fast path.
import { holdTickShapes } from '../dist/ticks.js'

holdTickShapes()
