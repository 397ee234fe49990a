// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'build/**',
      '**/.tsbuild/**',
      'eslint.config.js',
      'packages/proto/src/generated/**',
      'docs/api/html/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      'import-x/no-cycle': 'error',
      'no-console': 'error',
    },
    settings: {
      // import-x follows imports only into files of these extensions (its default: .js, .mjs, .cjs).
      'import-x/extensions': ['.ts'],
      // Relative imports name the emitted .js file (NodeNext); the source is the .ts beside it.
      // import-x's own resolver (unrs-resolver, already its dependency) maps one to the other
      // and follows the workspace packages' exports to their src/*.ts.
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
  },
  {
    files: [
      'packages/examples/**/*.ts',
      'bench/**/*.ts',
      'packages/*/test/**/*.ts',
      'test/**/*.ts',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    // The web dashboard's ES modules run in the browser.
    files: ['packages/jobmanager/web/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
);
