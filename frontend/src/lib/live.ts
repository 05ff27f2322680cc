// A campaign, live: one WebSocket per open campaign (`/api/v1/campaigns/{id}/live?token=…`),
// shared by every page that shows it, reconnecting with backoff when it drops. What arrives is
// parsed into `LiveEvent`s and handed out through a Svelte store; pages listen with `on`.
//
// Server → client: `{"type": "hello", campaign, user, role}`, then `{"campaign": ID, "event":
// {...}}` for each event (message, character, rules), `{"type": "lagged", missed}` when events
// were dropped, `{"type": "error", code, message}` for a refused chat, `{"type": "closed",
// reason}` when the user left the campaign. A `hello` after a reconnect, and `lagged`, mean
// something may have been missed: listeners read again what they show.
//
// A refused token (signed out elsewhere, revoked, expired) is not retried: the server answers the
// upgrade with 401, which a browser only sees as a socket closed before any greeting, so such a
// close is followed by a check of the token over HTTP (`GET /auth/me`); when that is refused too,
// or the server closes with a policy code (1008, 4401), the connection stops for good, emits
// `refused` and ends the session, which sends the user to sign in with a message saying why.

import { get, writable, type Readable } from 'svelte/store';
import { endSession, session } from '$lib/stores/session';
import { api, ApiError } from '$lib/api/client';
import type { ChatMessage, Role } from '$lib/api/types';

export type LiveEvent =
	| { type: 'hello'; campaign: number; user: string; role: Role; reconnected: boolean }
	| { type: 'message'; campaign: number | null; message: ChatMessage }
	| { type: 'character'; campaign: number | null; id: number; name: string; version: number; by: string; events: unknown[] }
	| { type: 'rules'; campaign: number | null; at: string; packs: string[]; ok: boolean }
	| { type: 'lagged'; missed: number }
	| { type: 'error'; code: string; message: string }
	| { type: 'closed'; reason: string }
	| { type: 'refused'; message: string };

export type LiveStatus = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'refused';

/** What the user reads when the live connection's token is refused. */
export const REFUSED_MESSAGE = 'Your session has ended (signed out elsewhere, revoked or expired), so live updates stopped. Sign in again to continue.';

/** Close codes that mean "not with this token": policy violation, and 4401 (401 as a close). */
const REFUSED_CODES = new Set([1008, 4401]);

function isObj(v: unknown): v is Record<string, unknown> {
	return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** One frame from the server as an event, or null for anything not understood. */
export function parseLive(raw: string, reconnected = false): LiveEvent | null {
	let v: unknown;
	try {
		v = JSON.parse(raw);
	} catch {
		return null;
	}
	if (!isObj(v)) return null;
	if (isObj(v.event)) {
		const e = v.event;
		const campaign = typeof v.campaign === 'number' ? v.campaign : null;
		switch (e.type) {
			case 'message':
				if (!isObj(e.message) || typeof e.message.id !== 'number') return null;
				return { type: 'message', campaign, message: e.message as unknown as ChatMessage };
			case 'character':
				if (typeof e.id !== 'number' || typeof e.version !== 'number') return null;
				return {
					type: 'character',
					campaign,
					id: e.id,
					name: String(e.name ?? ''),
					version: e.version,
					by: String(e.by ?? ''),
					events: Array.isArray(e.events) ? e.events : []
				};
			case 'rules':
				return {
					type: 'rules',
					campaign,
					at: String(e.at ?? ''),
					packs: Array.isArray(e.packs) ? e.packs.map(String) : [],
					ok: e.ok !== false
				};
			default:
				return null;
		}
	}
	switch (v.type) {
		case 'hello':
			return { type: 'hello', campaign: Number(v.campaign), user: String(v.user ?? ''), role: v.role as Role, reconnected };
		case 'lagged':
			return { type: 'lagged', missed: Number(v.missed ?? 0) };
		case 'error':
			return { type: 'error', code: String(v.code ?? 'ERROR'), message: String(v.message ?? '') };
		case 'closed':
			return { type: 'closed', reason: String(v.reason ?? '') };
		default:
			return null;
	}
}

/** The wait before reconnect attempt `attempt` (0-based): doubling from `base` up to `max`, with
 * up to a quarter of it random so that a restarted server is not hit by everyone at once. */
export function backoff(attempt: number, random: () => number = Math.random, base = 500, max = 15_000): number {
	const d = Math.min(max, base * 2 ** Math.max(0, attempt));
	return Math.round(d * (0.75 + 0.25 * random()));
}

/** What the connection needs of a WebSocket (a fake one in tests). */
export interface SocketLike {
	readonly readyState: number;
	onopen: ((ev: unknown) => void) | null;
	onmessage: ((ev: { data: unknown }) => void) | null;
	onclose: ((ev: unknown) => void) | null;
	onerror: ((ev: unknown) => void) | null;
	send(data: string): void;
	close(code?: number, reason?: string): void;
}

export interface LiveOptions {
	/** The token to connect with; no token, no connection. */
	token?: () => string | null;
	url?: (campaign: number, token: string) => string;
	createSocket?: (url: string) => SocketLike;
	random?: () => number;
	setTimeout?: (fn: () => void, ms: number) => unknown;
	clearTimeout?: (t: unknown) => void;
	/** Whether the token is still good, asked when a socket closes before its greeting: true,
	 * false (refused), or null (cannot tell: the server is away). */
	checkToken?: () => Promise<boolean | null>;
	/** Called once when the token is refused (default: end the session, which sends the user to
	 * sign in). */
	onRefused?: (message: string) => void;
}

/** Asks the API whether the session's token is still accepted. */
export async function tokenAccepted(): Promise<boolean | null> {
	try {
		await api.get('/auth/me');
		return true;
	} catch (e) {
		if (e instanceof ApiError && e.status === 401) return false;
		return null;
	}
}

const OPEN = 1;

export function liveUrl(campaign: number, token: string): string {
	const proto = location.protocol === 'https:' ? 'wss' : 'ws';
	return `${proto}://${location.host}/api/v1/campaigns/${campaign}/live?token=${encodeURIComponent(token)}`;
}

export interface LiveConnection {
	readonly campaign: number;
	/** The latest event (every event passes through it; `on` sees each one). */
	readonly events: Readable<LiveEvent | null>;
	readonly status: Readable<LiveStatus>;
	/** The role the server greeted us with. */
	readonly role: Readable<Role | null>;
	/** Calls `fn` with every event from now on; returns the unsubscribe. */
	on(fn: (e: LiveEvent) => void): () => void;
	/** Sends a frame; false when the socket is not open. */
	send(frame: Record<string, unknown>): boolean;
	/** Closes for good (no reconnect). */
	close(): void;
	/** Reconnect attempts since the last successful hello (for tests). */
	readonly attempts: number;
}

export function connectLive(campaign: number, opts: LiveOptions = {}): LiveConnection {
	const token = opts.token ?? (() => get(session)?.token ?? null);
	const url = opts.url ?? liveUrl;
	const create = opts.createSocket ?? ((u: string) => new WebSocket(u) as unknown as SocketLike);
	const later = opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
	const cancel = opts.clearTimeout ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
	const random = opts.random ?? Math.random;
	const checkToken = opts.checkToken ?? tokenAccepted;
	const onRefused = opts.onRefused ?? endSession;

	const events = writable<LiveEvent | null>(null);
	const status = writable<LiveStatus>('connecting');
	const role = writable<Role | null>(null);
	const listeners = new Set<(e: LiveEvent) => void>();
	let socket: SocketLike | null = null;
	let timer: unknown = null;
	let attempts = 0;
	let greeted = false;
	let stopped = false;

	function emit(e: LiveEvent) {
		events.set(e);
		for (const fn of [...listeners]) fn(e);
	}

	function open() {
		timer = null;
		if (stopped) return;
		const t = token();
		if (!t) {
			status.set('closed');
			return;
		}
		let s: SocketLike;
		try {
			s = create(url(campaign, t));
		} catch {
			retry();
			return;
		}
		socket = s;
		let greetedHere = false;
		s.onmessage = (ev) => {
			if (socket !== s || typeof ev.data !== 'string') return;
			const e = parseLive(ev.data, greeted);
			if (!e) return;
			if (e.type === 'hello') {
				greeted = true;
				greetedHere = true;
				attempts = 0;
				role.set(e.role);
				status.set('open');
			}
			emit(e);
			if (e.type === 'closed') stop();
		};
		s.onclose = (ev) => {
			if (socket !== s) return;
			socket = null;
			const code = (ev as { code?: number } | null)?.code;
			if (code !== undefined && REFUSED_CODES.has(code)) {
				refuse();
				return;
			}
			retry();
			// Closed before any greeting: the upgrade may have been refused for the token. The
			// retry stays scheduled unless the API confirms the token is no longer good.
			if (!greetedHere) {
				checkToken().then(
					(ok) => {
						if (ok === false) refuse();
					},
					() => {}
				);
			}
		};
		s.onerror = () => {
			// A close follows every error; reconnecting happens there.
		};
	}

	function retry() {
		if (stopped) return;
		status.set('reconnecting');
		const wait = backoff(attempts++, random);
		timer = later(open, wait);
	}

	function refuse() {
		if (stopped) return;
		stop('refused');
		emit({ type: 'refused', message: REFUSED_MESSAGE });
		onRefused(REFUSED_MESSAGE);
	}

	function stop(final: LiveStatus = 'closed') {
		stopped = true;
		if (timer !== null) cancel(timer);
		timer = null;
		const s = socket;
		socket = null;
		if (s) {
			s.onclose = null;
			s.onmessage = null;
			s.onerror = null;
			try {
				s.close(1000, 'done');
			} catch {
				// already closing
			}
		}
		status.set(final);
	}

	open();

	return {
		campaign,
		events: { subscribe: events.subscribe },
		status: { subscribe: status.subscribe },
		role: { subscribe: role.subscribe },
		on(fn) {
			listeners.add(fn);
			return () => listeners.delete(fn);
		},
		send(frame) {
			if (!socket || socket.readyState !== OPEN) return false;
			socket.send(JSON.stringify(frame));
			return true;
		},
		close: () => stop(),
		get attempts() {
			return attempts;
		}
	};
}

// One connection per campaign, shared by the pages showing it; released connections linger a
// moment so that going from the campaign to a sheet of it keeps the same socket.
const shared = new Map<number, { conn: LiveConnection; users: number; idle: ReturnType<typeof setTimeout> | null }>();
const LINGER_MS = 3000;

/** The campaign's shared connection and the function that releases it. */
export function live(campaign: number): { conn: LiveConnection; release: () => void } {
	let entry = shared.get(campaign);
	const st = entry ? get(entry.conn.status) : null;
	if (entry && (st === 'refused' || (st === 'closed' && entry.users === 0))) {
		if (entry.idle) clearTimeout(entry.idle);
		entry = undefined;
	}
	if (!entry) {
		entry = { conn: connectLive(campaign), users: 0, idle: null };
		shared.set(campaign, entry);
	}
	const e = entry;
	if (e.idle) clearTimeout(e.idle);
	e.idle = null;
	e.users++;
	let released = false;
	return {
		conn: e.conn,
		release() {
			if (released) return;
			released = true;
			if (--e.users > 0) return;
			e.idle = setTimeout(() => {
				if (e.users > 0) return;
				e.conn.close();
				shared.delete(campaign);
			}, LINGER_MS);
		}
	};
}
