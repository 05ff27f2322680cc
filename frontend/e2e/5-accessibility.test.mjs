// axe-core on the main pages: no serious or critical violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, newPage, register, call, barbarianBody, axe } from './lib.mjs';

let b;
let session;
let characterId;
before(async () => {
	b = await browser();
	session = await register('axe');
	characterId = (await call('POST', '/characters', barbarianBody('Axel'), session.token)).id;
	await call('PATCH', `/characters/${characterId}/features/rage/use`, {}, session.token);
});
after(async () => b?.close());

const pages = [
	['/', 'h1'],
	['/login', 'h1'],
	['/compendium?q=fire', '[data-testid=results]'],
	['/compendium/spells/fireball', '[data-testid=spell-card]'],
	['/compendium/monsters/adult-red-dragon', '[data-testid=monster-block]'],
	['/compendium/classes/wizard', '[data-testid=level-table]'],
	['/dice', 'h1'],
	['/campaigns', 'h1'],
	['/rules', '[data-testid=packs]'],
	['/characters/new', '#step-h'],
	['SHEET', '[data-testid=sheet]']
];

for (const [path, ready] of pages) {
	test(`axe: ${path}`, async () => {
		const page = await newPage(b, { session: path === '/login' ? null : session });
		await page.goto(path === 'SHEET' ? `/characters/${characterId}` : path);
		await page.locator(ready).first().waitFor();
		const serious = await axe(page);
		assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));
	});
}
