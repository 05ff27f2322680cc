// The creation wizard's draft, in localStorage so it survives a reload.
import { emptyDraft, type Draft } from '$lib/wizard';
import { persisted } from './persisted';

export const draft = persisted<Draft>('grimoire.draft', emptyDraft());

export function resetDraft() {
	draft.set(emptyDraft());
}
