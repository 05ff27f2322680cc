// Pages that need a signed-in user send everyone else to sign in, and back afterwards.
import { get } from 'svelte/store';
import { goto } from '$app/navigation';
import { session } from './stores/session';

export function requireSession(): boolean {
	if (get(session)) return true;
	const next = location.pathname + location.search;
	goto(`/login?next=${encodeURIComponent(next)}`, { replaceState: true });
	return false;
}
