// The sheet's tools: a feature's description opens from the compendium; an item is added by
// name from the compendium search and attuned, with the three-item limit shown and explained; an
// effect is picked from the SRD's by name; and a live connection whose token is revoked stops and
// sends the player to sign in, saying why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, newPage, shot, register, call, barbarianBody, axe } from './lib.mjs';

let b;
before(async () => (b = await browser()));
after(async () => b?.close());

test('feature descriptions, the inventory picker with attunement, the effects picker', async () => {
	const player = await register('tools');
	const hero = await call('POST', '/characters', barbarianBody('Tova'), player.token);
	const page = await newPage(b, { session: player });
	await page.goto(`/characters/${hero.id}`);
	await page.getByTestId('sheet').waitFor();

	// Rage: its description, fetched on demand, behind a button that says whether it is open.
	const toggle = page.getByTestId('feature-toggle-rage');
	assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
	await toggle.click();
	assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
	await page.getByTestId('feature-desc-rage').getByText('In battle, you fight with primal ferocity', { exact: false }).waitFor();
	await toggle.press('Enter');
	assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
	assert.equal(await page.getByTestId('feature-desc-rage').isHidden(), true);

	// An item by name: the search answers as the player types; Enter adds the highlighted hit.
	const box = page.getByRole('combobox', { name: 'Add an item' });
	await box.fill('ring of prot');
	await page.getByRole('option', { name: /Ring of Protection/ }).waitFor();
	await box.press('ArrowDown');
	await box.press('ArrowUp');
	const highlighted = await page.getByRole('listbox', { name: 'Items found' }).getByRole('option', { selected: true }).textContent();
	if (/Ring of Protection/.test(highlighted)) await box.press('Enter');
	else await page.getByRole('option', { name: /Ring of Protection/ }).click();
	const ring = page.getByTestId('item-ring-of-protection');
	await ring.getByRole('link', { name: 'Ring of Protection' }).waitFor();
	assert.equal(await ring.getByRole('link').getAttribute('href'), '/compendium/magic-items/ring-of-protection');
	await page.getByTestId('attunement-count').filter({ hasText: '0 / 3' }).waitFor();

	// Equipped and attuned, the ring counts and works (+1 AC).
	const acBefore = Number((await page.getByTestId('ac').textContent()).trim());
	await ring.getByRole('checkbox', { name: /equipped/ }).check();
	await page.getByTestId('sheet').and(page.locator(`[data-version="${hero.version + 2}"]`)).waitFor();
	await ring.getByRole('checkbox', { name: /attuned/ }).check();
	await page.getByTestId('attunement-count').filter({ hasText: '1 / 3' }).waitFor();
	await page.getByTestId('ac').filter({ hasText: String(acBefore + 1) }).waitFor();

	// A fourth attuned item does nothing, and the sheet says so.
	const now = await call('GET', `/characters/${hero.id}`, undefined, player.token);
	const more = ['cloak-of-protection', 'amulet-of-health', 'bracers-of-defense'].map((item) => ({ item, quantity: 1, equipped: true, attuned: true }));
	await fetch(`${process.env.E2E_BASE}/api/v1/characters/${hero.id}`, {
		method: 'PATCH',
		headers: { 'content-type': 'application/json', authorization: `Bearer ${player.token}`, 'if-match': `"${now.version}"` },
		body: JSON.stringify({ equipment: [...now.character.equipment, ...more] })
	}).then((r) => assert.equal(r.status, 200));
	await page.reload();
	await page.getByTestId('attunement-count').filter({ hasText: '3 / 3' }).waitFor();
	await page.getByTestId('attune-over-bracers-of-defense').filter({ hasText: 'at most 3' }).waitFor();

	// An effect picked by name, with what it does shown before applying it.
	const effect = page.getByRole('combobox', { name: 'Apply an effect' });
	await effect.fill('Shield');
	await page.getByTestId('effect-what').filter({ hasText: '+5 AC' }).waitFor();
	const acNow = Number((await page.getByTestId('ac').textContent()).trim());
	await page.getByRole('button', { name: 'Apply', exact: true }).click();
	await page.getByTestId('effect-shield').waitFor();
	await page.getByTestId('ac').filter({ hasText: String(acNow + 5) }).waitFor();
	assert.equal(await effect.inputValue(), '');

	const serious = await axe(page);
	assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));
	await shot(page, 'sheet-tools');
	assert.deepEqual(page.jsErrors, []);
});

test('a revoked token stops the live connection and sends the player to sign in', async () => {
	const dm = await register('revokedm');
	const campaign = await call('POST', '/campaigns', { name: 'The Sunless Citadel' }, dm.token);
	const page = await newPage(b, { session: dm });
	// Instrumentation only: keep the page's sockets reachable, to drop the connection as a network
	// failure would.
	await page.context().addInitScript(() => {
		const Native = window.WebSocket;
		window.__sockets = [];
		window.WebSocket = class extends Native {
			constructor(...args) {
				super(...args);
				window.__sockets.push(this);
			}
		};
	});
	await page.goto(`/campaigns/${campaign.id}`);
	await page.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor();

	// Signed out elsewhere: the token is revoked; then the connection drops.
	await call('POST', '/auth/logout', {}, dm.token);
	await page.evaluate(() => window.__sockets.forEach((s) => s.close()));

	await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === `/campaigns/${campaign.id}`);
	await page.getByTestId('session-ended').filter({ hasText: 'Your session has ended' }).waitFor();
	const sockets = await page.evaluate(() => window.__sockets.length);
	assert.ok(sockets <= 2, `no retrying after the refusal (${sockets} sockets)`);
	const serious = await axe(page);
	assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));

	// Signing in again goes back to the campaign, live.
	await page.getByLabel('Username or email').fill(dm.user.username);
	await page.getByLabel('Password').fill('correct horse battery');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.waitForURL((u) => u.pathname === `/campaigns/${campaign.id}`);
	await page.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor();
	assert.equal(await page.getByTestId('session-ended').count(), 0);
	// The browser itself logs the refused upgrade; nothing else may fail.
	assert.deepEqual(
		page.jsErrors.filter((e) => !/^WebSocket connection to .* failed: HTTP Authentication failed/.test(e)),
		[]
	);
});
