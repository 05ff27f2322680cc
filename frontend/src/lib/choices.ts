// Standing choices (the rules' `character_choices`): which are still to make, and the values to
// send for a draft — only what was chosen, so a choice left out can be made later.

import type { ChoiceDecl, ChoiceValue } from './api/types';

function filled(d: ChoiceDecl, v: ChoiceValue | undefined): boolean {
	if (v === undefined || v === null) return false;
	if (d.count !== undefined && d.count !== null) {
		const n = Array.isArray(v) ? v.length : 1;
		return d.required === false ? n > 0 : n === d.count;
	}
	return typeof v === 'string' ? v !== '' : v.length > 0;
}

/** Required choices with no (complete) value yet. */
export function missingChoices(declared: ChoiceDecl[], values: Record<string, ChoiceValue | undefined>): ChoiceDecl[] {
	return declared.filter((d) => d.required !== false && !filled(d, values[d.id]));
}

/** The `choices` to send: declared ones with a value, nothing else. */
export function choicesBody(declared: ChoiceDecl[], values: Record<string, ChoiceValue | undefined>): Record<string, ChoiceValue> {
	const out: Record<string, ChoiceValue> = {};
	for (const d of declared) {
		const v = values[d.id];
		if (v !== undefined && (Array.isArray(v) ? v.length > 0 : v !== '')) out[d.id] = v;
	}
	return out;
}

/** The field errors of `choices.<id>`, by id. */
export function choiceErrors(fields: Record<string, string[]>): Record<string, string[]> {
	const out: Record<string, string[]> = {};
	for (const [k, m] of Object.entries(fields)) {
		const id = k.match(/^choices\.([^.[\]]+)/)?.[1];
		if (id) out[id] = [...(out[id] ?? []), ...m];
	}
	return out;
}
