// A writable store kept in localStorage, so it survives a page reload. Outside a browser (Vitest,
// the build) it is a plain writable.

import { writable, type Writable } from 'svelte/store';

export function persisted<T>(key: string, initial: T, storage?: Storage): Writable<T> {
	const store = storage ?? (typeof localStorage === 'undefined' ? undefined : localStorage);
	let start = initial;
	if (store) {
		try {
			const raw = store.getItem(key);
			if (raw !== null) start = JSON.parse(raw) as T;
		} catch {
			start = initial;
		}
	}
	const inner = writable<T>(start);
	if (store) {
		inner.subscribe((v) => {
			try {
				if (v === null || v === undefined) store.removeItem(key);
				else store.setItem(key, JSON.stringify(v));
			} catch {
				// Private mode or a full quota: the value lives on in memory.
			}
		});
	}
	return inner;
}
