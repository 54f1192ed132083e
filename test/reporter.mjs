// tap's reporter for `npm test` (.taprc): one line per test file, a failing file's TAP in
// full, and tap's summary. tap pipes the raw TAP of the whole run into this stream.
// The full TAP stays on disk, one file per test file, in .tap/test-results/, and
// `npx tap --reporter=tap` prints it all.
import { Transform } from 'node:stream'

const FILE_END = /^(not )?ok \d+ - (.+?)(?: # (SKIP|TODO)\S*)?(?: # time=([\d.]+)ms)?$/
const TEST_END = /^ {4}(not )?ok \d+ - /
const COMMENT = /^ {4,}# (?!Subtest: |time=)/

export default class FileSummary extends Transform {
  #rest = ''
  #block = []
  #diag = false
  #failed = 0

  _transform (chunk, _encoding, done) {
    const lines = (this.#rest + chunk.toString('utf8')).split('\n')
    this.#rest = lines.pop()
    for (const line of lines) this.#line(line)
    done()
  }

  _flush (done) {
    if (this.#rest !== '') this.#line(this.#rest)
    if (this.#failed > 0) this.push(`\n${this.#failed} test file(s) failed; their TAP is above, and in .tap/test-results/\n`)
    done()
  }

  #line (line) {
    if (this.#diag) {
      // The YAML block after a failing file's line, indented two spaces, ends at "  ...".
      this.push(`${line}\n`)
      if (line === '  ...') this.#diag = false
      return
    }
    if (line.startsWith(' ') || line === '') {
      this.#block.push(line)
      return
    }
    const end = FILE_END.exec(line)
    if (end !== null) {
      const [, failed, file, directive, ms] = end
      const tests = this.#block.filter((l) => TEST_END.test(l)).length
      const time = ms === undefined ? '' : `, ${(Number(ms) / 1000).toFixed(1)} s`
      if (failed !== undefined) {
        this.#failed++
        this.push(`\n${this.#block.join('\n')}\n${line}\n`)
        this.#diag = true
      } else {
        const notes = this.#block.filter((l) => COMMENT.test(l)).map((l) => `     ${l.trim()}\n`).join('')
        this.push(`ok      ${file} (${tests} tests${time})${directive === undefined ? '' : ` # ${directive}`}\n${notes}`)
      }
      this.#block = []
      return
    }
    if (line.startsWith('# Subtest: ') || line.startsWith('TAP version') || /^1\.\.\d+$/.test(line)) return
    // tap's own lines: the totals, the time, "Bail out!", coverage remarks.
    this.push(`${line}\n`)
  }
}
