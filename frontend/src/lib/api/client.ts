// The one typed client for Grimoire's API. Every response is an envelope: `{success, data, meta}`
// or `{success: false, error: {code, message, details}}`; `unwrap` turns it into the data or an
// `ApiError`, so pages handle one kind of failure whatever went wrong (the network included).

import { get } from 'svelte/store';
import { session } from '$lib/stores/session';
import type { Envelope, FailureBody } from './types';

export class ApiError extends Error {
	readonly status: number;
	readonly code: string;
	readonly details: FailureBody['details'];

	constructor(status: number, body: FailureBody) {
		super(body.message);
		this.status = status;
		this.code = body.code;
		this.details = body.details ?? null;
	}

	/** Messages per field path (`abilities.scores.str`, `equipment[1]`), from a 422. */
	get fields(): Record<string, string[]> {
		return this.details?.fields ?? {};
	}
}

/** The data of an envelope, or the error it carries. `status` is the HTTP status. */
export function unwrap<T>(status: number, body: unknown): T {
	const env = body as Envelope<T> | null;
	if (env && typeof env === 'object' && 'success' in env) {
		if (env.success) return env.data;
		if (env.error && typeof env.error.code === 'string') throw new ApiError(status, env.error);
	}
	throw new ApiError(status, {
		code: status >= 500 ? 'INTERNAL_ERROR' : 'BAD_RESPONSE',
		message: `The server answered ${status} without an API envelope.`
	});
}

export interface RequestOptions {
	body?: unknown;
	/** The version the change was made against (sent as `If-Match`). */
	ifMatch?: number | string;
	query?: Record<string, string | number | boolean | undefined | null>;
	signal?: AbortSignal;
	/** Send no token even when signed in. */
	anonymous?: boolean;
}

export function buildQuery(query: RequestOptions['query']): string {
	if (!query) return '';
	const params = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) {
		if (v === undefined || v === null || v === '' || v === false) continue;
		params.set(k, String(v));
	}
	const s = params.toString();
	return s ? `?${s}` : '';
}

/** Codes after which the stored token is useless. */
const SESSION_OVER = new Set(['INVALID_TOKEN', 'TOKEN_EXPIRED', 'TOKEN_REVOKED']);

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
	const headers: Record<string, string> = { accept: 'application/json' };
	const s = opts.anonymous ? null : get(session);
	if (s) headers.authorization = `Bearer ${s.token}`;
	if (opts.body !== undefined) headers['content-type'] = 'application/json';
	if (opts.ifMatch !== undefined) headers['if-match'] = `"${opts.ifMatch}"`;
	let res: Response;
	try {
		res = await fetch(`/api/v1${path}${buildQuery(opts.query)}`, {
			method,
			headers,
			body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
			signal: opts.signal
		});
	} catch (e) {
		if ((e as Error).name === 'AbortError') throw e;
		throw new ApiError(0, { code: 'NETWORK', message: 'The server could not be reached.' });
	}
	let body: unknown = null;
	try {
		body = await res.json();
	} catch {
		body = null;
	}
	try {
		return unwrap<T>(res.status, body);
	} catch (e) {
		if (e instanceof ApiError && res.status === 401 && SESSION_OVER.has(e.code)) session.set(null);
		throw e;
	}
}

export const api = {
	get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
	post: <T>(path: string, body?: unknown, opts?: RequestOptions) =>
		request<T>('POST', path, { ...opts, body: body ?? {} }),
	put: <T>(path: string, body?: unknown, opts?: RequestOptions) =>
		request<T>('PUT', path, { ...opts, body: body ?? {} }),
	patch: <T>(path: string, body?: unknown, opts?: RequestOptions) =>
		request<T>('PATCH', path, { ...opts, body: body ?? {} }),
	del: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts)
};

/** A message for any thrown value, for showing to the user. */
export function messageOf(e: unknown): string {
	if (e instanceof ApiError) return e.message;
	if (e instanceof Error) return e.message;
	return String(e);
}
