import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// One static app; the grimoire host serves it and falls back to index.html for
		// client-side routes, so every page is rendered in the browser.
		adapter: adapter({ fallback: 'index.html', precompress: true, strict: true })
	}
};

export default config;
