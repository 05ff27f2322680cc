// Runs the end-to-end journeys: starts a real `grimoire` server on a fresh SQLite data dir (the
// SRD imported on first start, the repository's rule packs), serving the built app, then runs
// every e2e/*.test.mjs with Node's test runner against it, driving Debian's Chromium through
// playwright-core.
//
//   GRIMOIRE_BIN   the server binary (default ../target/debug/grimoire)
//   CHROMIUM       the browser (default /usr/bin/chromium)

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, '..');
const repo = resolve(frontend, '..');
const bin = resolve(process.env.GRIMOIRE_BIN ?? join(repo, 'target/debug/grimoire'));

if (!existsSync(bin)) {
	console.error(`e2e: no grimoire binary at ${bin} (build it with cargo build -p grimoire-host, or set GRIMOIRE_BIN)`);
	process.exit(2);
}
if (!existsSync(join(frontend, 'build/index.html'))) {
	console.error('e2e: the app is not built (npm run build)');
	process.exit(2);
}

function freePort() {
	return new Promise((res, rej) => {
		const s = createServer();
		s.on('error', rej);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => res(port));
		});
	});
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const data = mkdtempSync(join(tmpdir(), 'grimoire-e2e-'));
mkdirSync(join(here, 'screenshots'), { recursive: true });
mkdirSync(join(here, 'results'), { recursive: true });

const server = spawn(bin, ['serve'], {
	cwd: repo,
	env: {
		...process.env,
		GRIMOIRE_DATA_DIR: data,
		GRIMOIRE_BIND: `127.0.0.1:${port}`,
		GRIMOIRE_FRONTEND_DIR: join(frontend, 'build'),
		GRIMOIRE_RULES_DIR: join(repo, 'rules'),
		GRIMOIRE_SRD_DIR: join(repo, '.srd'),
		GRIMOIRE_LOG: 'warn',
		// Journeys register many users from one address.
		GRIMOIRE_LOGIN_MAX_FAILURES: '1000'
	},
	stdio: ['ignore', 'inherit', 'inherit']
});
let exited = false;
server.on('exit', () => (exited = true));

function stop() {
	if (!exited) server.kill('SIGTERM');
	rmSync(data, { recursive: true, force: true });
}
process.on('SIGINT', () => {
	stop();
	process.exit(130);
});

// Ready when the SRD has been imported (the first start imports it).
const deadline = Date.now() + 120_000;
for (;;) {
	if (exited) {
		console.error('e2e: the server exited during startup');
		process.exit(1);
	}
	try {
		const r = await fetch(`${base}/api/v1/compendium/spells/fireball`);
		if (r.ok) break;
	} catch {
		// not listening yet
	}
	if (Date.now() > deadline) {
		console.error('e2e: the server did not become ready in 120 s');
		stop();
		process.exit(1);
	}
	await new Promise((r) => setTimeout(r, 250));
}
console.log(`e2e: grimoire ready at ${base}`);

const only = process.argv.slice(2);
const files = readdirSync(here)
	.filter((f) => f.endsWith('.test.mjs'))
	.filter((f) => !only.length || only.some((o) => f.includes(o)))
	.map((f) => join(here, f));
const tests = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
	env: { ...process.env, E2E_BASE: base },
	stdio: 'inherit'
});
const code = await new Promise((res) => tests.on('exit', (c) => res(c ?? 1)));
writeFileSync(join(here, 'results', 'last-run.txt'), `${new Date().toISOString()} exit ${code}\n`);
stop();
process.exit(code);
