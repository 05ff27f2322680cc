// The signed-in session (token and user), kept across reloads. `request` clears it when the API
// says the token is no longer good; `endSession` does too, with a reason the sign-in page shows.

import { derived, writable } from 'svelte/store';
import type { Session } from '$lib/api/types';
import { persisted } from './persisted';

export const session = persisted<Session | null>('grimoire.session', null);

export const user = derived(session, (s) => s?.user ?? null);

/** Why the session ended, when it ended by itself (a refused token): the layout sends the user to
 * sign in and the sign-in page says this; signing in clears it. */
export const sessionEnded = writable<string | null>(null);

export function endSession(reason: string) {
	session.set(null);
	sessionEnded.set(reason);
}
