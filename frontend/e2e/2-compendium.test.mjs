// Compendium: search "fire" as you type → Fireball's card; the back button returns to the
// search; a monster's stat block and a class's level table read well.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, newPage, shot } from './lib.mjs';

let b;
before(async () => (b = await browser()));
after(async () => b?.close());

test('search "fire" finds Fireball and opens its card', async () => {
	const page = await newPage(b);
	await page.goto('/compendium');
	await page.getByRole('tab', { name: /Spells/ }).waitFor();
	await page.getByLabel('Search').pressSequentially('fire', { delay: 40 });
	await page.waitForURL(/q=fire/);
	const link = page.getByTestId('results').getByRole('link', { name: 'Fireball', exact: true });
	await link.waitFor();
	await shot(page, 'compendium-search');
	await link.click();
	const card = page.getByTestId('spell-card');
	await card.waitFor();
	assert.match(await card.textContent(), /Level 3 evocation/);
	assert.match(await card.textContent(), /8d6/);
	assert.match(await card.textContent(), /150 feet/);
	await shot(page, 'compendium-fireball');
	await page.goBack();
	await page.getByTestId('results').getByRole('link', { name: 'Fireball', exact: true }).waitFor();
	assert.equal(await page.getByLabel('Search').inputValue(), 'fire');
});

test('a filtered monster list, a stat block and a class level table', async () => {
	const page = await newPage(b);
	await page.goto('/compendium?tab=monsters&cr_min=10');
	await page.getByLabel('Creature type').selectOption('dragon');
	await page.waitForURL(/type=dragon/);
	await page.getByText('23 entries').waitFor();
	await page.getByRole('link', { name: 'Adult Red Dragon' }).click();
	const block = page.getByTestId('monster-block');
	await block.waitFor();
	const text = await block.textContent();
	assert.match(text, /Armor Class/);
	assert.match(text, /27 \(\+8\)/, 'Str 27 with its modifier');
	assert.match(text, /Saving Throws/);
	assert.match(text, /Fire Breath/);
	await shot(page, 'compendium-monster');

	await page.goto('/compendium/classes/wizard');
	const table = page.getByTestId('level-table');
	await table.waitFor();
	assert.equal(await table.locator('tbody tr').count(), 20);
	assert.match(await table.textContent(), /Arcane Recovery/);
	await shot(page, 'compendium-class');
});
