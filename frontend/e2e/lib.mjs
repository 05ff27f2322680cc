// Shared by the journeys: the browser, API calls for setup, sessions, screenshots, budgets.

import { chromium } from 'playwright-core';
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
export const BASE = process.env.E2E_BASE ?? 'http://127.0.0.1:8080';

export async function browser() {
	return chromium.launch({
		executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-dev-shm-usage']
	});
}

/** A page at a desktop size (or a phone's), signed in as `session` when given. */
export async function newPage(b, { session = null, phone = false } = {}) {
	const context = await b.newContext({
		baseURL: BASE,
		viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 900 },
		deviceScaleFactor: 1
	});
	if (session) {
		await context.addInitScript((s) => {
			if (!localStorage.getItem('grimoire.session')) localStorage.setItem('grimoire.session', s);
		}, JSON.stringify(session));
	}
	const page = await context.newPage();
	page.setDefaultTimeout(15_000);
	const errors = [];
	page.on('pageerror', (e) => errors.push(e.message));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
	});
	page.jsErrors = errors;
	return page;
}

export async function call(method, path, body, token) {
	const headers = { accept: 'application/json' };
	if (body !== undefined) headers['content-type'] = 'application/json';
	if (token) headers.authorization = `Bearer ${token}`;
	const r = await fetch(`${BASE}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	const json = await r.json();
	if (!json.success) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json.error)}`);
	return json.data;
}

let seq = 0;
export function unique(prefix) {
	return `${prefix}${Date.now().toString(36)}${++seq}`;
}

export async function register(prefix) {
	const username = unique(prefix);
	return call('POST', '/auth/register', { username, email: `${username}@example.org`, password: 'correct horse battery' });
}

export async function shot(page, name) {
	await page.screenshot({ path: join(here, 'screenshots', `${name}.png`), fullPage: true });
}

export function budget(name, value, unit) {
	appendFileSync(join(here, 'results', 'budgets.jsonl'), JSON.stringify({ name, value, unit, at: new Date().toISOString() }) + '\n');
	console.log(`budget: ${name} = ${value} ${unit}`);
}

/** axe-core's serious and critical violations on the current page. */
export async function axe(page) {
	const require = createRequire(import.meta.url);
	const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
	await page.addScriptTag({ content: source });
	const result = await page.evaluate(async () => {
		const r = await axe.run(document, { resultTypes: ['violations'] });
		return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
	});
	return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** A level-1 human barbarian (acolyte), as the API's tests make one. */
export function barbarianBody(name) {
	return {
		name,
		race: 'human',
		class: 'barbarian',
		background: 'acolyte',
		abilities: { method: 'standard_array', scores: { str: 15, dex: 14, con: 13, int: 8, wis: 12, cha: 10 } },
		proficiencies: ['skill-athletics', 'skill-perception'],
		languages: ['dwarvish', 'elvish', 'giant'],
		equipment: [0, 0, 0],
		extra_equipment: ['amulet'],
		alignment: 'chaotic-good'
	};
}
