import { describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import { backoff, connectLive, parseLive, REFUSED_MESSAGE, type LiveEvent, type SocketLike } from './live';

describe('parseLive', () => {
	it('reads the greeting, with whether it follows a reconnect', () => {
		const raw = JSON.stringify({ type: 'hello', campaign: 3, user: 'the_dm', role: 'dm' });
		expect(parseLive(raw)).toEqual({ type: 'hello', campaign: 3, user: 'the_dm', role: 'dm', reconnected: false });
		expect(parseLive(raw, true)).toMatchObject({ reconnected: true });
	});

	it('reads a campaign event: a message', () => {
		const message = { id: 7, kind: 'chat', user_id: 1, username: 'ann', text: 'I rage.', data: null, created_at: 1 };
		expect(parseLive(JSON.stringify({ campaign: 3, event: { type: 'message', message } }))).toEqual({ type: 'message', campaign: 3, message });
	});

	it('reads a character change and a rules reload sent to every campaign', () => {
		const ch = { campaign: 3, event: { type: 'character', id: 9, name: 'Grog', version: 4, by: 'the_dm', events: [{ event: 'damaged' }] } };
		expect(parseLive(JSON.stringify(ch))).toEqual({ type: 'character', campaign: 3, id: 9, name: 'Grog', version: 4, by: 'the_dm', events: [{ event: 'damaged' }] });
		const rules = { campaign: null, event: { type: 'rules', at: '2026-01-01T00:00:00Z', packs: ['srd', 'brawler'], ok: true } };
		expect(parseLive(JSON.stringify(rules))).toEqual({ type: 'rules', campaign: null, at: '2026-01-01T00:00:00Z', packs: ['srd', 'brawler'], ok: true });
	});

	it('reads lagged, error and closed', () => {
		expect(parseLive('{"type":"lagged","missed":12}')).toEqual({ type: 'lagged', missed: 12 });
		expect(parseLive('{"type":"error","code":"FORBIDDEN","message":"observers read"}')).toEqual({ type: 'error', code: 'FORBIDDEN', message: 'observers read' });
		expect(parseLive('{"type":"closed","reason":"no longer a member"}')).toEqual({ type: 'closed', reason: 'no longer a member' });
	});

	it('ignores what it does not understand', () => {
		for (const raw of ['not json', '[]', '42', '{"type":"dance"}', '{"campaign":1,"event":{"type":"dance"}}', '{"campaign":1,"event":{"type":"character","id":"x"}}', '{"campaign":1,"event":{"type":"message"}}']) {
			expect(parseLive(raw), raw).toBeNull();
		}
	});
});

describe('backoff', () => {
	it('doubles from half a second up to fifteen, with at most a quarter of jitter', () => {
		const none = () => 1;
		expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoff(a, none))).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
		expect(backoff(0, () => 0)).toBe(375);
		expect(backoff(3, () => 0.5)).toBe(3500);
	});
});

class FakeSocket implements SocketLike {
	readyState = 0;
	onopen: SocketLike['onopen'] = null;
	onmessage: SocketLike['onmessage'] = null;
	onclose: SocketLike['onclose'] = null;
	onerror: SocketLike['onerror'] = null;
	sent: string[] = [];
	closed = false;
	constructor(readonly url: string) {}
	send(data: string) {
		this.sent.push(data);
	}
	close() {
		this.closed = true;
		this.readyState = 3;
	}
	/** The server side. */
	accept(role = 'player') {
		this.readyState = 1;
		this.onopen?.({});
		this.frame({ type: 'hello', campaign: 3, user: 'ann', role });
	}
	frame(v: unknown) {
		this.onmessage?.({ data: JSON.stringify(v) });
	}
	drop() {
		this.readyState = 3;
		this.onclose?.({});
	}
}

function harness(token: string | null = 'tok') {
	const sockets: FakeSocket[] = [];
	const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
	const conn = connectLive(3, {
		token: () => token,
		url: (c, t) => `ws://test/api/v1/campaigns/${c}/live?token=${t}`,
		createSocket: (u) => {
			const s = new FakeSocket(u);
			sockets.push(s);
			return s;
		},
		random: () => 1,
		setTimeout: (fn, ms) => {
			const t = { fn, ms, cancelled: false };
			timers.push(t);
			return t;
		},
		clearTimeout: (t) => ((t as { cancelled: boolean }).cancelled = true),
		checkToken: async () => true,
		onRefused: () => {}
	});
	const seen: LiveEvent[] = [];
	conn.on((e) => seen.push(e));
	const fire = () => {
		const t = timers.shift()!;
		if (!t.cancelled) t.fn();
		return t.ms;
	};
	return { conn, sockets, timers, seen, fire };
}

describe('connectLive', () => {
	it('connects with the token, greets, hands out events and sends chat', () => {
		const { conn, sockets, seen } = harness();
		expect(sockets).toHaveLength(1);
		expect(sockets[0].url).toBe('ws://test/api/v1/campaigns/3/live?token=tok');
		expect(get(conn.status)).toBe('connecting');
		expect(conn.send({ type: 'chat', text: 'too early' })).toBe(false);
		sockets[0].accept('dm');
		expect(get(conn.status)).toBe('open');
		expect(get(conn.role)).toBe('dm');
		sockets[0].frame({ campaign: 3, event: { type: 'message', message: { id: 1, kind: 'chat', user_id: 1, username: 'ann', text: 'hi', created_at: 0 } } });
		sockets[0].frame({ type: 'lagged', missed: 2 });
		sockets[0].onmessage?.({ data: 'garbage' });
		expect(seen.map((e) => e.type)).toEqual(['hello', 'message', 'lagged']);
		expect(get(conn.events)).toEqual({ type: 'lagged', missed: 2 });
		expect(conn.send({ type: 'chat', text: 'I rage.' })).toBe(true);
		expect(JSON.parse(sockets[0].sent[0])).toEqual({ type: 'chat', text: 'I rage.' });
	});

	it('reconnects with growing waits while the server is away, and starts over after a greeting', () => {
		const { conn, sockets, timers, seen, fire } = harness();
		sockets[0].accept();
		sockets[0].drop();
		expect(get(conn.status)).toBe('reconnecting');
		expect(fire()).toBe(500);
		expect(sockets).toHaveLength(2);
		sockets[1].drop(); // refused
		expect(fire()).toBe(1000);
		sockets[2].drop();
		expect(fire()).toBe(2000);
		expect(conn.attempts).toBe(3);
		sockets[3].accept();
		expect(conn.attempts).toBe(0);
		expect(get(conn.status)).toBe('open');
		const hellos = seen.filter((e) => e.type === 'hello');
		expect(hellos.map((h) => (h as { reconnected: boolean }).reconnected)).toEqual([false, true]);
		sockets[3].drop();
		expect(timers[0].ms).toBe(500);
	});

	it('stops for good when closed or when the user leaves the campaign', () => {
		const a = harness();
		a.sockets[0].accept();
		a.conn.close();
		expect(a.sockets[0].closed).toBe(true);
		expect(get(a.conn.status)).toBe('closed');
		expect(a.timers).toHaveLength(0);

		const b = harness();
		b.sockets[0].accept();
		b.sockets[0].frame({ type: 'closed', reason: 'no longer a member' });
		expect(b.seen.at(-1)).toEqual({ type: 'closed', reason: 'no longer a member' });
		expect(get(b.conn.status)).toBe('closed');
		b.sockets[0].drop();
		expect(b.timers).toHaveLength(0);
	});

	it('cancels a pending reconnect when closed, and does not connect without a token', () => {
		const a = harness();
		a.sockets[0].drop();
		a.conn.close();
		expect(a.timers[0].cancelled).toBe(true);
		a.fire();
		expect(a.sockets).toHaveLength(1);

		const b = harness(null);
		expect(b.sockets).toHaveLength(0);
		expect(get(b.conn.status)).toBe('closed');
	});

	it('ignores a stale socket after it was replaced', () => {
		const { sockets, seen, fire } = harness();
		const old = sockets[0];
		old.drop();
		fire();
		old.frame({ type: 'lagged', missed: 1 });
		expect(seen).toHaveLength(0);
	});
});

describe('a refused token', () => {
	function refusing(answer: boolean | null) {
		const sockets: FakeSocket[] = [];
		const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
		const refused: string[] = [];
		let checks = 0;
		const conn = connectLive(3, {
			token: () => 'tok',
			url: () => 'ws://test',
			createSocket: (u) => {
				const s = new FakeSocket(u);
				sockets.push(s);
				return s;
			},
			random: () => 1,
			setTimeout: (fn, ms) => {
				const t = { fn, ms, cancelled: false };
				timers.push(t);
				return t;
			},
			clearTimeout: (t) => ((t as { cancelled: boolean }).cancelled = true),
			checkToken: async () => {
				checks++;
				return answer;
			},
			onRefused: (m) => refused.push(m)
		});
		const seen: LiveEvent[] = [];
		conn.on((e) => seen.push(e));
		return { conn, sockets, timers, refused, seen, checks: () => checks };
	}

	it('stops retrying and ends the session when the API refuses the token after a failed upgrade', async () => {
		const h = refusing(false);
		h.sockets[0].drop();
		expect(h.checks()).toBe(1);
		await Promise.resolve();
		await Promise.resolve();
		expect(get(h.conn.status)).toBe('refused');
		expect(h.timers[0].cancelled).toBe(true);
		expect(h.refused).toEqual([REFUSED_MESSAGE]);
		expect(h.seen).toEqual([{ type: 'refused', message: REFUSED_MESSAGE }]);
		expect(h.sockets).toHaveLength(1);
	});

	it('keeps retrying when the token is fine or the server cannot be asked', async () => {
		for (const answer of [true, null]) {
			const h = refusing(answer);
			h.sockets[0].drop();
			await Promise.resolve();
			await Promise.resolve();
			expect(get(h.conn.status)).toBe('reconnecting');
			expect(h.timers[0].cancelled).toBe(false);
			expect(h.refused).toEqual([]);
		}
	});

	it('does not ask after a greeted socket drops, and stops at once on a policy close', () => {
		const h = refusing(false);
		h.sockets[0].accept();
		h.sockets[0].drop();
		expect(h.checks()).toBe(0);
		expect(get(h.conn.status)).toBe('reconnecting');

		const p = refusing(true);
		p.sockets[0].readyState = 3;
		p.sockets[0].onclose?.({ code: 4401 });
		expect(get(p.conn.status)).toBe('refused');
		expect(p.timers).toHaveLength(0);
		expect(p.refused).toHaveLength(1);
	});
});
