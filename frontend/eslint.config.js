import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

export default ts.config(
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	{ languageOptions: { globals: { ...globals.browser, ...globals.node } } },
	{
		files: ['**/*.svelte', '**/*.svelte.ts'],
		languageOptions: { parserOptions: { projectService: true, extraFileExtensions: ['.svelte'], parser: ts.parser, svelteConfig } }
	},
	{
		rules: {
			'no-undef': 'off',
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
			// Links are built with resolve-free absolute paths; the app is served at the root.
			'svelte/no-navigation-without-resolve': 'off',
			// Sets and URLSearchParams here are local temporaries, never state.
			'svelte/prefer-svelte-reactivity': 'off'
		}
	},
	{ ignores: ['build/', '.svelte-kit/', 'node_modules/', 'e2e/screenshots/', 'test-results/'] }
);
