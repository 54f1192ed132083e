// Interleaved rounds: every case runs once per round, in a shuffled order, and is
// compared with its baseline from the same round, so a noisy moment on a shared
// machine moves both sides of a ratio together.
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function shuffle (xs, random = Math.random) {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}

/** rounds[r][name] = value → { name: { median, ratio: median over rounds of value / rounds[r][baseline] } } */
export function summarise (rounds, baselineOf) {
  const names = Object.keys(rounds[0])
  const out = {}
  for (const name of names) {
    const values = rounds.map((r) => r[name])
    const base = baselineOf(name)
    out[name] = {
      median: median(values),
      ratios: base === undefined ? undefined : rounds.map((r) => r[name] / r[base]),
      ratio: base === undefined ? undefined : median(rounds.map((r) => r[name] / r[base]))
    }
  }
  return out
}

/** "min–max" of the values, with `digits` decimals. */
export const spread = (xs, digits = 2) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`

/** The median over rounds of a / b, both measured in each round. */
export const pairedRatio = (rounds, a, b) => median(rounds.map((r) => r[a] / r[b]))

/**
 * How much `a` costs per call relative to `b`, measured by alternating small timed
 * batches of each (`batches` of each, `size` calls a batch), so that both see the same
 * moments of a shared machine. The ratio is of the lower deciles of the batch times:
 * on a busy machine the slow batches measure the neighbours, the fast ones the code.
 */
export function interleavedRatio (a, b, { batches = 1500, size = 100 } = {}) {
  const time = (f) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < size; i++) f()
    return Number(process.hrtime.bigint() - start) / size
  }
  for (let i = 0; i < 50; i++) { time(a); time(b) }
  const ta = []
  const tb = []
  for (let i = 0; i < batches; i++) {
    if (i % 2 === 0) { ta.push(time(a)); tb.push(time(b)) } else { tb.push(time(b)); ta.push(time(a)) }
  }
  const decile = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 10)]
  // The same ratio in each fifth of the run, for its spread.
  const part = batches / 5
  const parts = Array.from({ length: 5 }, (_, i) => decile(ta.slice(i * part, (i + 1) * part)) / decile(tb.slice(i * part, (i + 1) * part)))
  return { ratio: decile(ta) / decile(tb), a: decile(ta), b: decile(tb), parts }
}
