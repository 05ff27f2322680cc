// Budgets, measured (not asserted): the JavaScript a first visit downloads, gzipped as served.
import { test, before, after } from 'node:test';
import { browser, newPage, budget } from './lib.mjs';

let b;
before(async () => (b = await browser()));
after(async () => b?.close());

test('initial JavaScript, gzipped as transferred', async () => {
	for (const path of ['/', '/compendium', '/dice']) {
		const page = await newPage(b);
		await page.goto(path, { waitUntil: 'networkidle' });
		const js = await page.evaluate(() =>
			performance
				.getEntriesByType('resource')
				.filter((e) => e.name.endsWith('.js'))
				.reduce((s, e) => ({ encoded: s.encoded + e.encodedBodySize, decoded: s.decoded + e.decodedBodySize, files: s.files + 1 }), { encoded: 0, decoded: 0, files: 0 })
		);
		budget(`initial JS on ${path} (${js.files} files; ${(js.decoded / 1024).toFixed(1)} kB uncompressed)`, Number((js.encoded / 1024).toFixed(1)), 'kB gzipped');
	}
});
