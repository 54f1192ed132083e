// EXPERIMENT (issue 28), not part of any bench command: instructions per call of ways to
// compute and check HMAC-SHA256 with node:crypto only, and of decoding a token's
// payload, counted by callgrind as bench/instructions.mjs counts a request. The package
// uses none of these but the one marked current; lib/ is not changed by this file.
// `npm run build && node bench/experiments/hmac-instructions.mjs [filter]`
// One process runs every variant under callgrind: 100,000 calls of each uninstrumented,
// then for each, windows of 20,000 and 60,000 calls zeroed and dumped; a call is their
// difference over 40,000, less the empty loop's.
import { execFileSync, spawn } from 'node:child_process'
import { createHash, createHmac, createSecretKey, hash, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { readDump } from '../callgrind.mjs'

const WARMUP = 100_000
const WINDOWS = [20_000, 60_000]

// ---- the variants, built in the worker

async function variants () {
  const { HmacKey, findKey } = await import('../../dist/hmac.js')
  const { verifyToken } = await import('../../dist/token.js')
  const secret = randomBytes(32).toString('hex')
  const secretBytes = Buffer.from(secret, 'utf8')
  const key = new HmacKey(secretBytes)
  const keyObject = createSecretKey(secretBytes)
  const now = Math.floor(Date.now() / 1000)

  // The reference's JSON and padded base64url, as the plugin writes a login without extras.
  const python = (json) => Buffer.from(json).toString('base64').replaceAll('+', '-').replaceAll('/', '_')
  const own = python(`{"user_id": "user-12345", "expires": ${now + 3600}}`)
  // The same claims without the spaces: the hand-written reader declines, JSON.parse reads it.
  const other = python(`{"user_id":"user-12345","expires":${now + 3600}}`)
  const token = (payload) => payload + '.' + key.hexDigest(payload)
  // As a request hands them over: a fresh slice of a Cookie header each call.
  const prefix = '_ga=GA1.2.1234567890.1700000000; theme=dark; __Host-session='
  const slicer = (text) => {
    const headers = Array.from({ length: 64 }, () => prefix + text)
    let next = 0
    return () => headers[next++ & 63].slice(prefix.length)
  }
  const ownToken = slicer(token(own))
  const otherToken = slicer(token(other))
  const message = slicer(own)
  const signatureOf = token(own).slice(-64)
  const signature = slicer(signatureOf)

  // RFC 2104's key blocks, as HmacKey makes them.
  const block = Buffer.alloc(64)
  secretBytes.copy(block)
  const ipad = Buffer.alloc(64)
  const opad = Buffer.alloc(64)
  for (let i = 0; i < 64; i++) {
    ipad[i] = block[i] ^ 0x36
    opad[i] = block[i] ^ 0x5c
  }
  // Two one-shot hashes, buffer output: the inner block and message in one buffer, the
  // outer block and the inner digest in another, both made once.
  const inner = Buffer.alloc(64 + 4096)
  ipad.copy(inner)
  const outer = Buffer.alloc(64 + 32)
  opad.copy(outer)
  const twoHashesBuffer = (m) => {
    const length = inner.write(m, 64, 'latin1')
    outer.set(hash('sha256', inner.subarray(0, 64 + length), 'buffer'), 64)
    return hash('sha256', outer, 'buffer')
  }
  // The midstates: SHA-256 already fed each key block, copied per call.
  const innerState = createHash('sha256').update(ipad)
  const outerState = createHash('sha256').update(opad)
  const midstate = (m, encoding) => outerState.copy().update(innerState.copy().update(m, 'latin1').digest()).digest(encoding)
  const compareBuffer = (mac, sig) => {
    const received = Buffer.from(sig, 'hex')
    return received.length === 32 && timingSafeEqual(mac, received)
  }

  return {
    'empty loop': () => 0,
    // ---- HMAC only
    'HMAC: HmacKey.hexDigest (current: two crypto.hash over key blocks, hex)': () => key.hexDigest(message()).length,
    'HMAC: two crypto.hash over key blocks, buffer': () => twoHashesBuffer(message())[0],
    'HMAC: createHmac(secret string), hex': () => createHmac('sha256', secret).update(message()).digest('hex').length,
    'HMAC: createHmac(secret string), buffer': () => createHmac('sha256', secret).update(message()).digest()[0],
    'HMAC: createHmac(KeyObject), hex': () => createHmac('sha256', keyObject).update(message()).digest('hex').length,
    'HMAC: createHmac(KeyObject), buffer': () => createHmac('sha256', keyObject).update(message()).digest()[0],
    'HMAC: Hash.copy() midstates, hex': () => midstate(message(), 'hex').length,
    'HMAC: Hash.copy() midstates, buffer': () => midstate(message())[0],
    // ---- HMAC and the check of the received signature
    'check: findKey (current: hex MAC, both texts into one buffer, timingSafeEqual)': () => findKey([key], message(), signature()),
    'check: two crypto.hash, buffer; signature hex-decoded; timingSafeEqual': () => compareBuffer(twoHashesBuffer(message()), signature()) ? 1 : 0,
    'check: midstates, buffer; signature hex-decoded; timingSafeEqual': () => compareBuffer(midstate(message()), signature()) ? 1 : 0,
    'check: createHmac(KeyObject), buffer; signature hex-decoded; timingSafeEqual': () => compareBuffer(createHmac('sha256', keyObject).update(message()).digest(), signature()) ? 1 : 0,
    'check: hex MAC === signature (not constant-time: the floor)': () => key.hexDigest(message()) === signature() ? 1 : 0,
    'check: hex MAC, both texts compared by an OR of XORs in JavaScript (no early exit)': () => {
      const mac = key.hexDigest(message())
      const sig = signature()
      let diff = mac.length ^ sig.length
      for (let i = 0; i < 64; i++) diff |= mac.charCodeAt(i) ^ sig.charCodeAt(i)
      return diff === 0 ? 1 : 0
    },
    // ---- the whole verify, and decoding alone
    'verifyToken, the package\'s own JSON (hand-written reader)': () => verifyToken(ownToken(), [key], now).expires,
    'verifyToken, the same claims without spaces (JSON.parse)': () => verifyToken(otherToken(), [key], now).expires,
    'decode: base64url to text only': () => Buffer.from(message(), 'base64url').toString('utf8').length,
    'decode: base64url to text, JSON.parse, fields read': () => {
      const data = JSON.parse(Buffer.from(message(), 'base64url').toString('utf8'))
      return typeof data.user_id === 'string' && typeof data.expires === 'number' ? data.expires : 0
    }
  }
}

// ---- the worker, under callgrind: "run <name> <count>" then "done"

async function worker () {
  const cases = await variants()
  let sink = 0
  const run = (name, count) => {
    const fn = cases[name]
    for (let i = 0; i < count; i++) sink = (sink + fn()) | 0
  }
  const filter = process.argv[3] ?? ''
  const names = Object.keys(cases).filter((n) => n === 'empty loop' || n.includes(filter))
  for (const name of names) run(name, WARMUP)
  process.stdout.write(JSON.stringify(names) + '\n')
  for await (const line of createInterface({ input: process.stdin })) {
    const [, name, count] = /^run (.*) (\d+)$/.exec(line)
    run(name, Number(count))
    process.stdout.write(`done ${sink}\n`)
  }
}

// ---- the orchestrator, outside it

async function main () {
  const dir = mkdtempSync(join(tmpdir(), 'hmac-instructions-'))
  const child = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${join(dir, 'cg.%p')}`,
    process.execPath, '--min-semi-space-size=16', '--max-semi-space-size=16', '--single-threaded-gc', new URL(import.meta.url).pathname, 'worker', process.argv[2] ?? ''],
  { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const queue = []
  const waiting = []
  lines.on('line', (l) => { const w = waiting.shift(); if (w) w(l); else queue.push(l) })
  const line = () => queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiting.push(resolve))
  const control = (...args) => execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' })
  const names = JSON.parse(await line())
  control('-i', 'on')
  const perCall = {}
  for (const name of names) {
    child.stdin.write(`run ${name} ${WINDOWS[0]}\n`)
    await line()
    const costs = []
    for (const count of WINDOWS) {
      control('-z')
      child.stdin.write(`run ${name} ${count}\n`)
      await line()
      const before = new Set(readdirSync(dir))
      control('-d')
      const file = readdirSync(dir).find((f) => !before.has(f) && f !== `cg.${child.pid}`)
      const d = await readDump(join(dir, file))
      costs.push(d.total - d.compiler)
    }
    perCall[name] = (costs[1] - costs[0]) / (WINDOWS[1] - WINDOWS[0])
    process.stderr.write(`${name}: ${Math.round(perCall[name])}\n`)
  }
  child.stdin.end()
  await new Promise((resolve) => child.once('exit', resolve))
  rmSync(dir, { recursive: true, force: true })
  const loop = perCall['empty loop']
  console.log(`Node ${process.version}; instructions per call, the empty loop's ${Math.round(loop)} taken out\n`)
  console.log('| variant | instructions / call |\n| --- | ---: |')
  for (const name of names.filter((n) => n !== 'empty loop')) console.log(`| ${name} | ${Math.round(perCall[name] - loop).toLocaleString('en')} |`)
}

if (process.argv[2] === 'worker') await worker()
else await main()
