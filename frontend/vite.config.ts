import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vitest/config';

// `npm run dev` proxies the API to a grimoire server (GRIMOIRE_API, default 127.0.0.1:8080).
const api = process.env.GRIMOIRE_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
	plugins: [tailwindcss(), sveltekit()],
	server: { proxy: { '/api': { target: api, ws: true }, '/health': api } },
	test: { include: ['src/**/*.test.ts'], environment: 'node' }
});
