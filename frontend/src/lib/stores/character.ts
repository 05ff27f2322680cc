// One character as the sheet shows it: the view from the API, kept current by every action's
// answer (each action answers the whole character with its new sheet, so nothing is re-fetched).
// Edits of the stored record go through a JSON merge patch with the version the sheet was read
// at (If-Match); a conflict reloads and says so, never overwriting someone else's change.

import { get, writable } from 'svelte/store';
import { api, ApiError, messageOf } from '$lib/api/client';
import type { ActionEvent, CharacterView, SheetRoll } from '$lib/api/types';

export interface RollEntry {
	id: number;
	at: Date;
	result: SheetRoll;
}

/** What the last table action did, for the "what happened" panel. */
export interface ActionOutcome {
	id: number;
	/** The action's name (`turn-start`, `damage`…). */
	action: string;
	events: ActionEvent[];
}

export function characterStore(id: number) {
	const view = writable<CharacterView | null>(null);
	const error = writable<string | null>(null);
	/** The action in flight, by name (buttons show it and wait). */
	const busy = writable<string | null>(null);
	const rolls = writable<RollEntry[]>([]);
	/** Keep the sheet's rolls out of the campaign's log (they are shared by default). */
	const privateRolls = writable(false);
	let rollSeq = 0;
	const outcome = writable<ActionOutcome | null>(null);
	let outcomeSeq = 0;

	async function load() {
		try {
			view.set(await api.get<CharacterView>(`/characters/${id}`));
			error.set(null);
		} catch (e) {
			error.set(messageOf(e));
		}
	}

	/** Run a table action; the answer replaces the view. */
	async function act(name: string, method: 'POST' | 'PATCH' | 'DELETE' | 'PUT', path: string, body?: unknown): Promise<boolean> {
		busy.set(name);
		error.set(null);
		try {
			const opts = body === undefined && method === 'DELETE' ? {} : { body: body ?? {} };
			const next = await (method === 'DELETE'
				? api.del<CharacterView>(`/characters/${id}${path}`, opts)
				: method === 'PUT'
					? api.put<CharacterView>(`/characters/${id}${path}`, body)
					: method === 'PATCH'
						? api.patch<CharacterView>(`/characters/${id}${path}`, body)
						: api.post<CharacterView>(`/characters/${id}${path}`, body));
			if (next && typeof next === 'object' && 'sheet' in next) {
				view.set(next);
				outcome.set({ id: ++outcomeSeq, action: name, events: Array.isArray(next.events) ? next.events : [] });
			} else await load();
			return true;
		} catch (e) {
			error.set(messageOf(e));
			return false;
		} finally {
			busy.set(null);
		}
	}

	/** Change the stored record (inventory, notes, spent slots) against the version read. */
	async function patch(name: string, mergePatch: Record<string, unknown>): Promise<boolean> {
		const v = get(view);
		if (!v) return false;
		busy.set(name);
		error.set(null);
		try {
			view.set(await api.patch<CharacterView>(`/characters/${id}`, mergePatch, { ifMatch: v.version }));
			return true;
		} catch (e) {
			if (e instanceof ApiError && e.code === 'VERSION_CONFLICT') {
				await load();
				error.set('The character changed elsewhere; the sheet now shows the latest version. Make your change again.');
			} else error.set(messageOf(e));
			return false;
		} finally {
			busy.set(null);
		}
	}

	async function roll(name: string, body: Record<string, unknown>): Promise<SheetRoll | null> {
		busy.set(name);
		error.set(null);
		try {
			const result = await api.post<SheetRoll>(`/characters/${id}/roll`, get(privateRolls) ? { ...body, share: false } : body);
			rolls.update((r) => [{ id: ++rollSeq, at: new Date(), result }, ...r].slice(0, 20));
			return result;
		} catch (e) {
			error.set(messageOf(e));
			return null;
		} finally {
			busy.set(null);
		}
	}

	return { view, error, busy, rolls, privateRolls, outcome, load, act, patch, roll };
}

export type CharacterStore = ReturnType<typeof characterStore>;
