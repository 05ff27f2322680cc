// Campaigns: a DM enables the brawler pack and a player's sheet in the campaign changes (a human
// at exhaustion 2: SRD speed 30 halved to 15; brawler's gentler exhaustion: 30 − 10 = 20). An
// observer sees the sheet with no edit controls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, newPage, shot, register, call, barbarianBody } from './lib.mjs';

let b;
before(async () => (b = await browser()));
after(async () => b?.close());

test('DM enables a homebrew pack; the player sees the sheet change; an observer cannot edit', async () => {
	const dm = await register('dm');
	const player = await register('player');
	const observer = await register('observer');

	// The DM creates the campaign in the app.
	const dmPage = await newPage(b, { session: dm });
	await dmPage.goto('/campaigns');
	await dmPage.getByLabel('Name').fill('The Sunless Citadel');
	await dmPage.getByLabel('Description').fill('Level 1 dungeon crawl');
	await dmPage.getByRole('button', { name: /Create/ }).click();
	await dmPage.getByTestId('my-role').filter({ hasText: 'DM' }).waitFor();
	const campaignId = Number(dmPage.url().split('/').pop());
	const code = (await dmPage.getByTestId('invite-code').textContent()).trim();

	// The player joins with the code and brings a human barbarian at exhaustion 2.
	await call('POST', '/campaigns/join', { code }, player.token);
	const grog = await call('POST', '/characters', barbarianBody('Brienne'), player.token);
	await call('POST', `/characters/${grog.id}/conditions`, { condition: 'exhaustion', level: 2 }, player.token);
	await call('PUT', `/characters/${grog.id}/campaign`, { campaign_id: campaignId }, player.token);

	// The DM accepts the character in the app, and invites the observer by name.
	await dmPage.reload();
	await dmPage.getByRole('button', { name: 'Accept Brienne' }).click();
	await dmPage.getByRole('status').filter({ hasText: 'Brienne accepted' }).waitFor();
	await dmPage.getByLabel('Invite by username').fill(observer.user.username);
	await dmPage.getByLabel('As', { exact: true }).selectOption('observer');
	await dmPage.getByRole('button', { name: 'Invite', exact: true }).click();
	await dmPage.getByRole('status').filter({ hasText: 'Invited' }).waitFor();
	const [inv] = await call('GET', '/invitations', undefined, observer.token);
	await call('POST', `/invitations/${inv.id}/accept`, undefined, observer.token);

	// Before: the SRD's exhaustion halves speed.
	const playerPage = await newPage(b, { session: player });
	await playerPage.goto(`/characters/${grog.id}`);
	await playerPage.getByTestId('sheet').waitFor();
	assert.equal((await playerPage.getByTestId('speed-walk').textContent()).trim(), '15');

	// The DM switches brawler on.
	await dmPage.getByRole('checkbox', { name: /Brawler/ }).check();
	await dmPage.getByRole('status').filter({ hasText: 'brawler enabled' }).waitFor();
	await shot(dmPage, 'campaign-dm');

	await playerPage.reload();
	await playerPage.getByTestId('sheet').waitFor();
	assert.equal((await playerPage.getByTestId('speed-walk').textContent()).trim(), '20', 'brawler: 30 − 5 × 2');
	await playerPage.getByTestId('speed-walk').focus();
	await playerPage.getByRole('tooltip').filter({ hasText: 'Speed (walk) 20' }).waitFor();
	await shot(playerPage, 'campaign-player-sheet-brawler');

	// The observer reads the sheet, with no controls.
	const obsPage = await newPage(b, { session: observer });
	await obsPage.goto(`/characters/${grog.id}`);
	await obsPage.getByTestId('sheet').waitFor();
	assert.equal(await obsPage.getByTestId('sheet').getAttribute('data-can-edit'), 'false');
	assert.equal((await obsPage.getByTestId('speed-walk').textContent()).trim(), '20');
	for (const name of [/^Use /, /^Roll /, 'Damage', 'Heal', 'Long rest', 'Short rest', 'Apply', 'Save notes', /^Remove/]) {
		assert.equal(await obsPage.getByRole('button', { name, exact: typeof name === 'string' }).count(), 0, `no ${name} button for an observer`);
	}
	assert.equal(await obsPage.getByRole('textbox').count(), 0, 'no inputs');
	await obsPage.getByText('Read only').waitFor();
	await shot(obsPage, 'campaign-observer-sheet');

	// The observer's campaign page has no DM or player controls either.
	await obsPage.goto(`/campaigns/${campaignId}`);
	await obsPage.getByTestId('my-role').filter({ hasText: 'OBSERVER' }).waitFor();
	assert.equal(await obsPage.getByRole('checkbox').count(), 0);
	assert.equal(await obsPage.getByRole('button', { name: /Accept|Remove|Invite|New code|Ask to join/ }).count(), 0);
	await obsPage.getByTestId('enabled-packs').filter({ hasText: 'brawler' }).waitFor();
	await shot(obsPage, 'campaign-observer');
});
