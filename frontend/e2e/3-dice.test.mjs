// Dice: 4d6kh3 shows a dropped die; the odds of 1d20+7 reaching 15 at advantage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, newPage, shot } from './lib.mjs';

let b;
before(async () => (b = await browser()));
after(async () => b?.close());

test('4d6kh3 shows a dropped die, and the odds panel answers', async () => {
	const page = await newPage(b);
	await page.goto('/dice');
	await page.getByLabel('Expression').fill('4d6kh3');
	await page.getByRole('button', { name: 'Roll', exact: true }).click();
	const result = page.getByTestId('dice-history').getByTestId('roll-result').first();
	await result.waitFor();
	assert.equal(await result.getByTestId('die').count(), 4);
	assert.equal(await result.locator('[data-die-state~="dropped"]').count(), 1, 'one die dropped');
	await page.getByRole('button', { name: 'Notation help' }).click();
	await page.getByText('keep highest 3').waitFor();

	await page.getByLabel('Expression').fill('1d20+7');
	await page.getByLabel('Advantage', { exact: true }).check();
	await page.getByLabel('Target (total at least)').fill('15');
	await page.getByRole('button', { name: 'Compute odds' }).click();
	assert.equal((await page.getByTestId('odds-chance').textContent()).trim(), '87.75%');
	await page.getByRole('button', { name: 'Roll', exact: true }).click();
	await page.getByTestId('dice-history').getByTestId('roll-result').nth(1).waitFor();
	await shot(page, 'dice');

	// A bad expression: the API's message and where it went wrong.
	await page.getByLabel('Expression').fill('1d20 + x');
	await page.getByRole('button', { name: 'Roll', exact: true }).click();
	await page.getByRole('alert').filter({ hasText: "unexpected 'x'" }).waitFor();
});
