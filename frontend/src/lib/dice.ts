// Reading the dice engine's result tree: every die with what happened to it.

import type { DiceNode, Die, Rational } from './api/types';

export function rational(r: Rational): string {
	return r.den === 1 ? String(r.num) : `${r.num}/${r.den}`;
}

export interface DiceGroup {
	notation: string;
	dice: Die[];
	labels: string[];
}

/** Every dice term of a tree, in reading order. */
export function diceGroups(node: DiceNode, out: DiceGroup[] = []): DiceGroup[] {
	switch (node.type) {
		case 'dice':
			if (node.count_roll) diceGroups(node.count_roll, out);
			if (node.sides_roll) diceGroups(node.sides_roll, out);
			out.push({ notation: node.notation, dice: node.dice, labels: node.labels ?? [] });
			break;
		case 'chain':
			for (const l of node.links) diceGroups(l.node, out);
			break;
		case 'unary':
			diceGroups(node.operand, out);
			break;
		case 'parens':
			diceGroups(node.inner, out);
			break;
		case 'call':
			for (const a of node.args) diceGroups(a, out);
			break;
		case 'set':
			for (const i of node.items) diceGroups(i.node, out);
			break;
		case 'reference':
			if (node.formula) diceGroups(node.formula, out);
			break;
	}
	return out;
}

/** The words for what happened to a die (for screen readers and titles). */
export function dieStates(d: Die): string[] {
	const s: string[] = [];
	if (d.dropped) s.push('dropped');
	if (d.rerolled) s.push('rerolled');
	if (d.exploded) s.push(d.compounded ? 'compounded' : 'exploded');
	if (d.added) s.push('added');
	if (d.penetrated) s.push('penetrating');
	if (d.crit_success) s.push('critical');
	if (d.crit_fail) s.push('critical fail');
	if (!s.length) s.push('kept');
	return s;
}

export const QUICK_DICE = [4, 6, 8, 10, 12, 20, 100] as const;

/** "1d20" + "1d20" → "2d20": the quick buttons add to what is typed. */
export function addDie(expr: string, sides: number): string {
	const t = expr.trim();
	if (!t) return `1d${sides}`;
	const m = t.match(/^(\d*)d(\d+)$/);
	if (m && Number(m[2]) === sides) return `${(Number(m[1]) || 1) + 1}d${sides}`;
	return `${t} + 1d${sides}`;
}
