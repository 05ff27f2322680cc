// Live play: the DM and a player have the same campaign open in two browsers. The player chats
// and the DM's chat panel shows it at once; a roll from the player's sheet reaches the DM's panel
// with its total, a private one does not; the DM damages the player's character through the API
// and the player's open sheet shows the new HP without a reload, saying who changed it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, newPage, shot, register, call, barbarianBody, axe } from './lib.mjs';

let b;
before(async () => (b = await browser()));
after(async () => b?.close());

test('chat, shared rolls and a DM change reach the other browser live', async () => {
	const dm = await register('livedm');
	const player = await register('liveplayer');
	const campaign = await call('POST', '/campaigns', { name: 'Live at the Yawning Portal' }, dm.token);
	await call('POST', '/campaigns/join', { code: campaign.invite_code }, player.token);
	const hero = await call('POST', '/characters', barbarianBody('Korra'), player.token);
	await call('PUT', `/characters/${hero.id}/campaign`, { campaign_id: campaign.id }, player.token);
	await call('POST', `/campaigns/${campaign.id}/characters/${hero.id}/accept`, undefined, dm.token);
	await call('POST', `/campaigns/${campaign.id}/messages`, { text: 'Welcome, adventurers.' }, dm.token);

	const dmPage = await newPage(b, { session: dm });
	const playerPage = await newPage(b, { session: player });
	await Promise.all([dmPage.goto(`/campaigns/${campaign.id}`), playerPage.goto(`/campaigns/${campaign.id}`)]);
	for (const p of [dmPage, playerPage]) {
		await p.getByTestId('chat-log').getByText('Welcome, adventurers.').waitFor();
		await p.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor();
	}

	// The player chats from the keyboard; the DM's panel shows it without a reload.
	const box = playerPage.getByLabel('Message', { exact: true });
	await box.fill('I kick the door open.');
	await box.press('Enter');
	await dmPage.getByTestId('chat-log').getByText('I kick the door open.').waitFor();
	await playerPage.getByTestId('chat-log').getByText('I kick the door open.').waitFor();
	assert.equal(await box.inputValue(), '', 'the box is emptied');
	assert.equal(await box.evaluate((el) => el === document.activeElement), true, 'focus stays in the box');
	const serious = await axe(dmPage);
	assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));
	await shot(dmPage, 'campaign-chat');

	// The player's sheet: a shared roll reaches the DM's panel with its total; a private one does not.
	await playerPage.goto(`/characters/${hero.id}`);
	await playerPage.getByTestId('sheet').waitFor();
	const hpBefore = Number((await playerPage.getByTestId('hp-current').textContent()).trim());
	await playerPage.getByTestId('skill-athletics').getByRole('button', { name: /check: roll/ }).click();
	await playerPage.getByTestId('roll-log').getByTestId('roll-total').first().waitFor();
	const total = (await playerPage.getByTestId('roll-log').getByTestId('roll-total').first().textContent()).trim();
	const shared = dmPage.getByTestId('chat-roll').filter({ hasText: /Athletics/i });
	await shared.first().waitFor();
	assert.equal((await shared.first().getByTestId('chat-roll-total').textContent()).trim(), total);

	await playerPage.getByRole('checkbox', { name: 'Private roll' }).check();
	await playerPage.getByTestId('skill-perception').getByRole('button', { name: /check: roll/ }).click();
	await playerPage.getByTestId('roll-log').locator('li').nth(1).waitFor();
	await new Promise((r) => setTimeout(r, 500));
	assert.equal(await dmPage.getByTestId('chat-roll').filter({ hasText: /Perception/i }).count(), 0, 'a private roll stays private');
	const log = await call('GET', `/campaigns/${campaign.id}/messages`, undefined, dm.token);
	assert.equal(log.filter((m) => m.kind === 'roll').length, 1);

	// The DM damages the character; the player's open sheet follows.
	const damaged = await call('POST', `/characters/${hero.id}/damage`, { amount: 4, type: 'slashing' }, dm.token);
	await playerPage.getByTestId('sheet').and(playerPage.locator(`[data-version="${damaged.version}"]`)).waitFor({ timeout: 5000 });
	assert.equal(Number((await playerPage.getByTestId('hp-current').textContent()).trim()), hpBefore - 4);
	await playerPage.getByTestId('live-notice').filter({ hasText: `Updated by ${dm.user.username}` }).waitFor();
	const seriousSheet = await axe(playerPage);
	assert.deepEqual(seriousSheet, [], JSON.stringify(seriousSheet, null, 1));
	await shot(playerPage, 'sheet-live-update');

	assert.deepEqual(dmPage.jsErrors, []);
	assert.deepEqual(playerPage.jsErrors, []);
});
