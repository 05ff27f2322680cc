import { afterEach, describe, expect, it, vi } from 'vitest';
import { get } from 'svelte/store';
import { ApiError, buildQuery, request, unwrap } from './client';
import { session } from '$lib/stores/session';

const meta = { timestamp: '2026-11-25T10:30:00Z', version: '0.1.0', request_id: 'x' };

describe('unwrap', () => {
	it('returns the data of a success', () => {
		expect(unwrap(200, { success: true, data: { a: 1 }, meta })).toEqual({ a: 1 });
	});

	it('throws the error of a failure with its code, status and fields', () => {
		const body = {
			success: false,
			error: { code: 'VALIDATION_FAILED', message: 'the character is not valid', details: { fields: { 'abilities.scores.str': ['too high'] } } },
			meta
		};
		try {
			unwrap(422, body);
			expect.unreachable();
		} catch (e) {
			expect(e).toBeInstanceOf(ApiError);
			const err = e as ApiError;
			expect(err.status).toBe(422);
			expect(err.code).toBe('VALIDATION_FAILED');
			expect(err.message).toBe('the character is not valid');
			expect(err.fields).toEqual({ 'abilities.scores.str': ['too high'] });
		}
	});

	it('has no fields when details carry none', () => {
		const err = (() => {
			try {
				unwrap(409, { success: false, error: { code: 'VERSION_CONFLICT', message: 'stale', details: { current_version: 4 } }, meta });
			} catch (e) {
				return e as ApiError;
			}
		})()!;
		expect(err.fields).toEqual({});
		expect(err.details?.current_version).toBe(4);
	});

	it('turns a body that is not an envelope into an error', () => {
		expect(() => unwrap(502, '<html>Bad gateway</html>')).toThrow(/without an API envelope/);
		expect(() => unwrap(500, null)).toThrowError(ApiError);
	});
});

describe('buildQuery', () => {
	it('leaves out empty, null and false values', () => {
		expect(buildQuery({ q: 'fire', page: 2, campaign: '', level: undefined, ritual: false, concentration: true })).toBe('?q=fire&page=2&concentration=true');
		expect(buildQuery({})).toBe('');
		expect(buildQuery(undefined)).toBe('');
	});
});

describe('request', () => {
	afterEach(() => {
		vi.unstubAllGlobals();
		session.set(null);
	});

	it('sends the token, the JSON body and If-Match', async () => {
		session.set({ token: 't0k', expires_at: '', user: { id: 1, username: 'a', email: 'a@b', is_admin: false, created_at: 0 } });
		const fetch = vi.fn(async () => new Response(JSON.stringify({ success: true, data: { ok: 1 }, meta }), { status: 200 }));
		vi.stubGlobal('fetch', fetch);
		await expect(request('PATCH', '/characters/1', { body: { a: 1 }, ifMatch: 3 })).resolves.toEqual({ ok: 1 });
		const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
		expect(url).toBe('/api/v1/characters/1');
		const h = init.headers as Record<string, string>;
		expect(h.authorization).toBe('Bearer t0k');
		expect(h['if-match']).toBe('"3"');
		expect(init.body).toBe('{"a":1}');
	});

	it('drops the session when the token is refused', async () => {
		session.set({ token: 'old', expires_at: '', user: { id: 1, username: 'a', email: 'a@b', is_admin: false, created_at: 0 } });
		vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ success: false, error: { code: 'TOKEN_EXPIRED', message: 'expired', details: {} }, meta }), { status: 401 }));
		await expect(request('GET', '/auth/me')).rejects.toMatchObject({ code: 'TOKEN_EXPIRED', status: 401 });
		expect(get(session)).toBeNull();
	});

	it('reports an unreachable server as NETWORK', async () => {
		vi.stubGlobal('fetch', async () => {
			throw new TypeError('Failed to fetch');
		});
		await expect(request('GET', '/health')).rejects.toMatchObject({ code: 'NETWORK', status: 0 });
	});
});
