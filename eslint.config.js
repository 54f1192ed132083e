import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', '.build/**', 'coverage/**', '.tap/**', 'scratch/**', 'test/docs-snippets/**'] })
]
