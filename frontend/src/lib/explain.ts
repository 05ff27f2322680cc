// "Every number explains itself": turn a derived number's contributions into words.

import type { Contribution, Explained, RollMode } from './api/types';
import { signed } from './abilities';

function num(c: Contribution): number | null {
	return typeof c.value === 'number' ? c.value : null;
}

/** The contributions that count (a candidate base that lost, `applied: false`, does not). */
export function counted(explain: Contribution[]): Contribution[] {
	return explain.filter((c) => c.applied !== false);
}

/** One contribution as a term: `3 Strength modifier`, `+2 Raging`, `×2 …`. */
export function term(c: Contribution, first: boolean): string {
	const v = num(c);
	const label = c.label || c.source;
	if (v === null) return label;
	switch (c.op) {
		case 'mul':
		case 'multiply':
			return `× ${v} ${label}`;
		case 'set':
		case 'min':
		case 'max':
			return `${c.op} ${v} ${label}`;
		default:
			if (first) return `${v < 0 ? '−' + Math.abs(v) : v} ${label}`;
			return `${v < 0 ? '−' : '+'} ${Math.abs(v)} ${label}`;
	}
}

/** `AC 16 = 10 base + 3 Dexterity modifier + 2 shield`. */
export function sentence(name: string, value: number | string, explain: Contribution[]): string {
	const parts = counted(explain).map((c, i) => term(c, i === 0));
	return parts.length ? `${name} ${value} = ${parts.join(' ')}` : `${name} ${value}`;
}

export function explainedSentence(name: string, e: Explained, asBonus = false): string {
	return sentence(name, asBonus ? signed(e.value) : e.value, e.explain);
}

/** Where a contribution comes from, for the detail line: `srd · effects/raging.rhai:20`. */
export function origin(c: Contribution): string {
	if (c.file) return `${c.source} · ${c.file}${c.line ? ':' + c.line : ''}`;
	return c.source;
}

/** "advantage (Raging)", "disadvantage (Poisoned)", "" for normal. */
export function modeText(mode: RollMode | undefined): string {
	if (!mode || mode.mode === 'normal') {
		const both = (mode?.advantage?.length ?? 0) + (mode?.disadvantage?.length ?? 0);
		return both ? 'advantage and disadvantage cancel' : '';
	}
	const sources = (mode.mode === 'advantage' ? mode.advantage : mode.disadvantage) ?? [];
	const names = sources.map((s) => s.label).filter(Boolean);
	return names.length ? `${mode.mode} (${names.join(', ')})` : mode.mode;
}
