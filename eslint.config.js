import neostandard from 'neostandard'

// The style the code is written in (standard: no semicolons, single quotes, a space before a function's
// parentheses), checked by `npm test` so every new route follows it. TypeScript through typescript-eslint.
export default [
  ...neostandard({ ts: true, ignores: ['node_modules/**', 'dist/**', '.data/**', 'coverage/**'] }),
  {
    rules: {
      // Short objects stay on one line even when a long one beside them wraps: the code reads better that way.
      '@stylistic/object-property-newline': 'off',
      // `void promise` marks a promise deliberately not awaited (an event handler that starts a drain).
      'no-void': ['error', { allowAsStatement: true }],
      // PostgreSQL text cannot hold U+0000: the regular expressions that refuse it name it on purpose.
      'no-control-regex': 'off',
      // A loop that waits for a flag an async callback sets (`while (!done) await …`) is how the tests poll.
      'no-unmodified-loop-condition': 'off'
    }
  },
  {
    // k6 runs these scenarios in its own runtime, with its own globals.
    files: ['k6/**/*.js'],
    languageOptions: { globals: { __ENV: 'readonly', __VU: 'readonly', __ITER: 'readonly', open: 'readonly' } }
  }
]
