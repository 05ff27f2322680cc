// The creation wizard's draft, its steps, and the request it becomes.

import type { Ability } from './abilities';
import type { ChoiceValue } from './api/types';
import { STANDARD_ARRAY } from './abilities';
import { startingScores } from './pointbuy';

export const STEPS = [
	{ id: 'race', title: 'Race' },
	{ id: 'class', title: 'Class' },
	{ id: 'abilities', title: 'Ability scores' },
	{ id: 'background', title: 'Background' },
	{ id: 'skills', title: 'Skills & languages' },
	{ id: 'equipment', title: 'Equipment' },
	{ id: 'spells', title: 'Spells' },
	{ id: 'details', title: 'Details' },
	{ id: 'review', title: 'Review' }
] as const;

export type StepId = (typeof STEPS)[number]['id'];

export type Method = 'standard_array' | 'point_buy' | 'rolled';

export interface Draft {
	step: number;
	race: string;
	subrace: string;
	class: string;
	method: Method;
	/** Standard array: which of the six values each ability took (by position in the array). */
	arrayPick: Partial<Record<Ability, number>>;
	pointBuy: Record<Ability, number>;
	rollId: number | null;
	rolls: { total: number; dice: number[]; dropped: number }[];
	/** Rolled: which roll (by position) each ability took. */
	rollPick: Partial<Record<Ability, number>>;
	background: string;
	/** Picks per choice group key. */
	proficiencyPicks: Record<string, string[]>;
	languagePicks: Record<string, string[]>;
	equipment: number[];
	equipmentPicks: Record<string, string>;
	cantrips: string[];
	spells: string[];
	prepared: string[];
	name: string;
	alignment: string;
	details: { appearance: string; personality: string; backstory: string };
	/** Standing choices the rules declare for this race and class (ancestry, fighting style). */
	choices: Record<string, ChoiceValue>;
}

export function emptyDraft(): Draft {
	return {
		step: 0,
		race: '',
		subrace: '',
		class: '',
		method: 'point_buy',
		arrayPick: {},
		pointBuy: startingScores(),
		rollId: null,
		rolls: [],
		rollPick: {},
		background: '',
		proficiencyPicks: {},
		languagePicks: {},
		equipment: [],
		equipmentPicks: {},
		cantrips: [],
		spells: [],
		prepared: [],
		name: '',
		alignment: '',
		details: { appearance: '', personality: '', backstory: '' },
		choices: {}
	};
}

/** The step an API field error belongs on (`abilities.scores.str` → abilities). */
export function stepOfField(path: string): StepId {
	const head = path.split(/[.[]/)[0];
	switch (head) {
		case 'race':
		case 'subrace':
			return 'race';
		case 'class':
		case 'subclass':
		case 'level':
		case 'choices': // standing choices are declared once race and class are known
			return 'class';
		case 'abilities':
			return 'abilities';
		case 'background':
			return 'background';
		case 'proficiencies':
		case 'languages':
			return 'skills';
		case 'equipment':
		case 'extra_equipment':
			return 'equipment';
		case 'spells':
			return 'spells';
		case 'name':
		case 'alignment':
		case 'details':
			return 'details';
		default:
			return 'review';
	}
}

export function stepIndex(id: StepId): number {
	return STEPS.findIndex((s) => s.id === id);
}

/** Field errors that belong on steps up to `upTo` (later steps are not filled in yet). */
export function errorsUpTo(fields: Record<string, string[]>, upTo: number): Record<string, string[]> {
	const out: Record<string, string[]> = {};
	for (const [k, v] of Object.entries(fields)) if (stepIndex(stepOfField(k)) <= upTo) out[k] = v;
	return out;
}

export function scores(d: Draft): Partial<Record<Ability, number>> {
	const out: Partial<Record<Ability, number>> = {};
	if (d.method === 'point_buy') return { ...d.pointBuy };
	for (const a of ['str', 'dex', 'con', 'int', 'wis', 'cha'] as Ability[]) {
		if (d.method === 'standard_array') {
			const i = d.arrayPick[a];
			if (i !== undefined) out[a] = STANDARD_ARRAY[i];
		} else {
			const i = d.rollPick[a];
			if (i !== undefined && d.rolls[i]) out[a] = d.rolls[i].total;
		}
	}
	return out;
}

function unique(xs: string[]): string[] {
	return [...new Set(xs.filter(Boolean))];
}

/** The body of `POST /api/v1/characters` (and of the preview). */
export function toRequest(d: Draft, extraEquipment: string[], caster: { known: boolean; prepares: boolean }): Record<string, unknown> {
	const body: Record<string, unknown> = {
		name: d.name.trim() || 'Unnamed',
		race: d.race,
		subrace: d.subrace || null,
		class: d.class,
		background: d.background || null,
		abilities: {
			method: d.method,
			scores: scores(d),
			...(d.method === 'rolled' && d.rollId !== null ? { roll_id: d.rollId } : {})
		},
		proficiencies: unique(Object.values(d.proficiencyPicks).flat()),
		languages: unique(Object.values(d.languagePicks).flat()),
		equipment: d.equipment,
		extra_equipment: d.equipment.length ? extraEquipment : [],
		alignment: d.alignment || null,
		details: { ...d.details, notes: '' }
	};
	const choices = Object.fromEntries(Object.entries(d.choices ?? {}).filter(([, v]) => (Array.isArray(v) ? v.length > 0 : !!v)));
	if (Object.keys(choices).length) body.choices = choices;
	if (d.class && (d.cantrips.length || d.spells.length || d.prepared.length)) {
		const known = caster.known ? [...d.cantrips, ...d.spells] : [...d.cantrips];
		const prepared = caster.prepares ? (caster.known ? d.prepared : d.spells) : [];
		body.spells = {
			known: known.length ? { [d.class]: unique(known) } : {},
			prepared: prepared.length ? { [d.class]: unique(prepared) } : {}
		};
	}
	return body;
}

/** Picks that fill every group (`choose` each), keeping the player's where they fit: for asking
 * the API about a draft whose later steps are not done yet (the wizard's probe for standing
 * choices needs a body that passes). What the character has from elsewhere is not picked. */
export function fillPicks(groups: { key: string; choose: number; options: { index: string }[] }[], fixed: Map<string, string>, current: Record<string, string[]>): string[] {
	const taken = new Set<string>();
	for (const g of groups) {
		const mine = (current[g.key] ?? []).filter((p) => g.options.some((o) => o.index === p) && !fixed.has(p) && !taken.has(p)).slice(0, g.choose);
		for (const o of g.options) {
			if (mine.length >= g.choose) break;
			if (!fixed.has(o.index) && !taken.has(o.index) && !mine.includes(o.index)) mine.push(o.index);
		}
		mine.forEach((p) => taken.add(p));
	}
	return [...taken];
}
