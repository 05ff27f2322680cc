// What an action did, in plain words, from the events the API answers with (engine/src/actions.rs
// `Event`, tagged by `event`). A rule file's reaction (`triggered`) and the events after it, up to
// the next reaction, read as one line under the feature's name: "Survivor: regains 8 hit points",
// "Relentless Rage: DC 15 Con save 17 — drops to 1 hit point instead". Time moving on (an effect
// ending because its duration ran out or the turn started) closes a reaction's line.

import type { ActionEvent } from './api/types';
import { titleCase } from './abilities';

/** Names to use for ids (features, effects, resources), from the sheet; titles otherwise. */
export interface Names {
	feature?: (id: string) => string | undefined;
	effect?: (id: string) => string | undefined;
	resource?: (id: string) => string | undefined;
}

const ABILITY_SHORT: Record<string, string> = { str: 'Str', dex: 'Dex', con: 'Con', int: 'Int', wis: 'Wis', cha: 'Cha' };

const END_REASONS: Record<string, string> = {
	duration: 'its time ran out',
	turn_start: 'the turn started',
	turn_end: 'the turn ended',
	short_rest: 'a short rest',
	long_rest: 'a long rest',
	removed: 'removed',
	ended: 'ended by a rule',
	concentration: 'concentration moved to another effect',
	concentration_broken: 'concentration broken',
	hit_points: 'its hit points ran out',
	replaced: 'applied again',
	unconscious: 'unconscious',
	incapacitated: 'incapacitated',
	armor_donned: 'armour donned'
};

/** Effect-end reasons that are a reaction's own doing (an `end_effect` operation). */
const REACTION_END = new Set(['ended', 'hit_points', 'concentration']);

function str(v: unknown): string {
	return v === undefined || v === null ? '' : String(v);
}
function num(v: unknown): number {
	return typeof v === 'number' ? v : Number(v ?? 0);
}
function plural(n: number, one: string, many = one + 's'): string {
	return `${n} ${n === 1 ? one : many}`;
}

/** One event as a phrase ("regained 8 HP"), or null for events that say nothing by themselves. */
export function phrase(e: ActionEvent, names: Names = {}): string | null {
	const eff = (id: string) => names.effect?.(id) ?? titleCase(id);
	const res = (id: string) => names.resource?.(id) ?? titleCase(id);
	switch (e.event) {
		case 'feature_used':
			return `used ${names.feature?.(str(e.feature)) ?? titleCase(str(e.feature))}`;
		case 'resource_spent':
			return `spent ${plural(num(e.amount), 'use')} of ${res(str(e.resource))}${e.remaining !== null && e.remaining !== undefined ? ` (${e.remaining} left)` : ''}`;
		case 'resource_recovered':
			return e.amount !== undefined && e.amount !== null ? `${res(str(e.resource))}: ${plural(num(e.amount), 'use')} back` : `${res(str(e.resource))}: all uses back`;
		case 'effect_applied':
			return `${eff(str(e.effect))} begins`;
		case 'effect_ended': {
			const why = END_REASONS[str(e.reason)] ?? str(e.reason).replace(/_/g, ' ');
			return `${eff(str(e.effect))} ends${why ? ` (${why})` : ''}`;
		}
		case 'healed':
			return `regained ${num(e.amount)} HP${e.roll ? ` (${e.roll})` : ''}`;
		case 'temp_hp':
			return `${num(e.amount)} temporary HP${e.roll ? ` (${e.roll})` : ''}`;
		case 'damaged':
			return `took ${num(e.taken)}${e.damage_type ? ` ${str(e.damage_type)}` : ''} damage` + (num(e.taken) !== num(e.amount) ? ` (of ${num(e.amount)})` : '') + (e.note ? ` — ${str(e.note)}` : '');
		case 'hit_die_spent':
			return `spent a ${str(e.die)} hit die: ${e.roll}, regained ${num(e.healed)} HP`;
		case 'slots_restored':
			return 'spell slots back';
		case 'slot_spent':
			return `${e.pact ? 'a Pact Magic slot' : `a level ${num(e.level)} slot`} spent`;
		case 'slot_gained':
			return `a level ${num(e.level)} slot created`;
		case 'pact_slots_restored':
			return `${plural(num(e.amount), 'Pact Magic slot')} back`;
		case 'condition_added':
			return `now ${titleCase(str(e.condition))}`;
		case 'condition_removed':
			return `no longer ${titleCase(str(e.condition))}`;
		case 'exhaustion_changed':
			return num(e.level) === 0 ? 'no more exhaustion' : `exhaustion level ${num(e.level)}`;
		case 'death_save':
			return `death saves: ${plural(num(e.successes), 'success', 'successes')}, ${plural(num(e.failures), 'failure')}`;
		case 'stable':
			return 'stable';
		case 'died':
			return 'dead';
		case 'concentration_check':
			return `concentration: DC ${num(e.dc)} Constitution save`;
		case 'level_up':
			return `${titleCase(str(e.class))} level ${num(e.level)} (+${num(e.hp)} HP)`;
		case 'saving_throw':
			return `DC ${num(e.dc)} ${ABILITY_SHORT[str(e.ability)] ?? titleCase(str(e.ability))} save ${num(e.total)} — ${e.success ? 'success' : 'failure'}`;
		case 'note':
			return str(e.text);
		default:
			return null;
	}
}

/** A note without the name it starts with ("Survivor: regains…" → "regains…"). */
function unprefixed(text: string, name: string): string {
	const p = `${name}:`;
	return text.startsWith(p) ? text.slice(p.length).trim() : text;
}

/** A reaction's line: the rule file's own note when it wrote one (with the save's numbers in
 * front of its outcome), else the phrases of what it did. */
function reactionLine(name: string, evs: ActionEvent[], names: Names): string {
	const notes = evs.filter((e) => e.event === 'note').map((e) => unprefixed(str(e.text), name));
	const save = evs.find((e) => e.event === 'saving_throw');
	if (save) {
		const head = `DC ${num(save.dc)} ${ABILITY_SHORT[str(save.ability)] ?? titleCase(str(save.ability))} save ${num(save.total)}`;
		const first = notes[0];
		const cut = first ? first.indexOf(' — ') : -1;
		const outcome = cut >= 0 ? first!.slice(cut + 3) : save.success ? 'success' : 'failure';
		const rest = cut >= 0 ? notes.slice(1) : notes;
		return `${name}: ${[`${head} — ${outcome}`, ...rest].join('; ')}`;
	}
	if (notes.length) return `${name}: ${notes.join('; ')}`;
	const parts = evs.map((e) => phrase(e, names)).filter((p): p is string => !!p);
	return `${name}: ${parts.length ? parts.join('; ') : 'no change'}`;
}

/** Every line the user reads for an action's events. */
export function describeEvents(events: ActionEvent[], names: Names = {}): string[] {
	const lines: string[] = [];
	const feat = (id: string) => names.feature?.(id) ?? titleCase(id);
	let group: { name: string; evs: ActionEvent[] } | null = null;
	const close = () => {
		if (group) lines.push(reactionLine(group.name, group.evs, names));
		group = null;
	};
	for (const e of events) {
		switch (e.event) {
			case 'triggered':
				close();
				group = { name: str(e.name) || feat(str(e.feature)), evs: [] };
				continue;
			case 'trigger_skipped':
				close();
				lines.push(`${feat(str(e.feature))}: did not happen — ${str(e.reason)}`);
				continue;
			case 'trigger_failed':
				close();
				lines.push(`${feat(str(e.feature))}: its rule failed (${str(e.message)}); the rest went on without it`);
				continue;
			case 'effect_ended':
				if (group && !REACTION_END.has(str(e.reason))) close();
				break;
		}
		if (group) {
			group.evs.push(e);
			continue;
		}
		const p = phrase(e, names);
		if (p) lines.push(p.charAt(0).toUpperCase() + p.slice(1));
	}
	close();
	return lines;
}
