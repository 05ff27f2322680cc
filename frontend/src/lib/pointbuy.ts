// Point buy (SRD 5.1): scores 8–15, 27 points; 14 and 15 cost two points a step.

import { ABILITIES, type Ability } from './abilities';

export const BUDGET = 27;
export const MIN = 8;
export const MAX = 15;

const COST: Record<number, number> = { 8: 0, 9: 1, 10: 2, 11: 3, 12: 4, 13: 5, 14: 7, 15: 9 };

/** What one score costs, or null when point buy cannot reach it. */
export function cost(score: number): number | null {
	return Number.isInteger(score) && score in COST ? COST[score] : null;
}

export type Scores = Record<Ability, number>;

export function spent(scores: Scores): number {
	return ABILITIES.reduce((sum, a) => sum + (cost(scores[a]) ?? Infinity), 0);
}

export function remaining(scores: Scores): number {
	return BUDGET - spent(scores);
}

export function canRaise(scores: Scores, a: Ability): boolean {
	const next = cost(scores[a] + 1);
	const now = cost(scores[a]);
	return next !== null && now !== null && next - now <= remaining(scores);
}

export function canLower(scores: Scores, a: Ability): boolean {
	return scores[a] > MIN && cost(scores[a] - 1) !== null;
}

export function valid(scores: Scores): boolean {
	return ABILITIES.every((a) => cost(scores[a]) !== null) && remaining(scores) >= 0;
}

export function startingScores(): Scores {
	return { str: 8, dex: 8, con: 8, int: 8, wis: 8, cha: 8 };
}
