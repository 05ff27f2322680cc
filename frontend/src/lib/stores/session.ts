// The signed-in session (token and user), kept across reloads. `request` clears it when the API
// says the token is no longer good.

import { derived } from 'svelte/store';
import type { Session } from '$lib/api/types';
import { persisted } from './persisted';

export const session = persisted<Session | null>('grimoire.session', null);

export const user = derived(session, (s) => s?.user ?? null);
