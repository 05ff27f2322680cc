// Short texts the sheet shows for the engine's newer numbers: attack lines (range, hands,
// critical range), resource recovery, spells prepared and known, where a condition comes from,
// and the labels of a standing choice's options.

import type { ActiveEffect, Attack, ChoiceDecl, Explained, Resource, Spellcasting } from './api/types';
import { ABILITY_NAMES, titleCase, type Ability } from './abilities';

/** "thrown 20/60 ft.", "80/320 ft.", "5 ft." — or '' when the line has no range in feet. */
export function rangeText(a: Pick<Attack, 'range_feet' | 'properties'>, id = ''): string {
	const r = a.range_feet;
	if (!r) return '';
	const feet = r.long ? `${r.normal}/${r.long} ft.` : `${r.normal} ft.`;
	return id.endsWith('-thrown') ? `thrown ${feet}` : feet;
}

/** "crit 19–20" when a natural roll below 20 crits, '' otherwise. */
export function critText(a: Pick<Attack, 'crit_range'>): string {
	const v = a.crit_range?.value;
	if (!v || v >= 20 || v < 1) return '';
	return `crit ${v}–20`;
}

/** The kind of an extra line: "thrown", "two-handed" (a versatile weapon in both hands),
 * "unarmed" or '' for a weapon's own line (whose properties already say two-handed). */
export function lineKind(id: string, a: Pick<Attack, 'weapon'>): string {
	if (id.endsWith('-thrown')) return 'thrown';
	if (id === 'unarmed-strike' || a.weapon === 'unarmed-strike') return 'unarmed';
	if (id.endsWith('-two-handed')) return 'two-handed';
	return '';
}

const REST_NAMES: Record<string, string> = { short_rest: 'a short rest', long_rest: 'a long rest', dawn: 'dawn', turn_start: 'the start of your turn' };

function rest(r: string): string {
	return REST_NAMES[r] ?? r.replace(/_/g, ' ');
}

/** "all back on a long rest; 4 back on a short rest". */
export function recoveryText(r: Pick<Resource, 'recover' | 'recover_amount'>): string {
	const parts: string[] = [];
	if (r.recover.length) parts.push(`all back on ${r.recover.map(rest).join(' or ')}`);
	for (const [when, amount] of Object.entries(r.recover_amount ?? {})) {
		parts.push(`${amount.value} back on ${rest(when)}`);
	}
	return parts.join('; ');
}

function count(v: number | Explained | undefined): Explained | null {
	if (v === undefined || v === null) return null;
	return typeof v === 'number' ? { value: v, explain: [] } : v;
}

export interface SpellCount {
	label: string;
	have: number;
	max: Explained;
}

/** "prepared 3 / 5", "known 4 / 5": what a class may have, and has. */
export function spellCounts(sc: Spellcasting): SpellCount[] {
	const out: SpellCount[] = [];
	if (sc.prepared_max) out.push({ label: 'prepared', have: sc.prepared?.length ?? 0, max: sc.prepared_max });
	if (sc.spells_known) out.push({ label: 'known', have: sc.known?.length ?? 0, max: sc.spells_known });
	return out;
}

/** Cantrips known (a number, or an explained stat), when the class has any. */
export function cantrips(sc: Spellcasting): Explained | null {
	const c = count(sc.cantrips_known);
	return c && c.value > 0 ? c : null;
}

/** SRD conditions that include others (conditions/*.rhai `implies`). */
export const IMPLIES: Record<string, string[]> = {
	paralyzed: ['incapacitated'],
	petrified: ['incapacitated'],
	stunned: ['incapacitated'],
	unconscious: ['incapacitated', 'prone']
};

/** SRD effects that put a condition on the character while they last (`meta().conditions`). */
export const EFFECT_CONDITIONS: Record<string, string[]> = {
	'empty-body': ['invisible']
};

export interface ConditionOrigin {
	condition: string;
	/** Stored on the character (and so removable by hand). */
	stored: boolean;
	/** What else puts it there: "Empty Body", "Unconscious". */
	from: string[];
}

/** Where each condition on the sheet comes from: stored, granted by an active effect, or
 * included in another condition. */
export function conditionOrigins(sheetConditions: string[], stored: string[], effects: Pick<ActiveEffect, 'effect' | 'name'>[]): ConditionOrigin[] {
	const own = new Set(stored);
	return sheetConditions.map((condition) => {
		const from: string[] = [];
		for (const e of effects) if (EFFECT_CONDITIONS[e.effect]?.includes(condition)) from.push(e.name ?? titleCase(e.effect));
		for (const c of sheetConditions) if (IMPLIES[c]?.includes(condition)) from.push(titleCase(c));
		if (!own.has(condition) && from.length === 0) from.push('an effect');
		return { condition, stored: own.has(condition), from };
	});
}

/** An option's value (options are strings, or objects with a value or id). */
export function optionValue(o: ChoiceDecl['options'][number]): string {
	return typeof o === 'string' ? o : String(o.value ?? o.id ?? o.name ?? '');
}

/** Labels for a choice's options, without the words they all share: the ancestry options
 * `draconic-ancestry-black`… read "Black"…, abilities read their names. */
export function optionLabels(options: ChoiceDecl['options']): Record<string, string> {
	const values = options.map(optionValue);
	const out: Record<string, string> = {};
	const split = values.map((v) => v.split('-'));
	let shared = 0;
	if (values.length > 1) {
		while (split.every((s) => s.length > shared + 1 && s[shared] === split[0][shared])) shared++;
	}
	options.forEach((o, i) => {
		const v = values[i];
		const named = typeof o === 'string' ? undefined : (o.label ?? o.name);
		out[v] = named ?? ABILITY_NAMES[v as Ability] ?? titleCase(split[i].slice(shared).join('-'));
	});
	return out;
}
