// The six abilities and the arithmetic every page needs.

export const ABILITIES = ['str', 'dex', 'con', 'int', 'wis', 'cha'] as const;
export type Ability = (typeof ABILITIES)[number];

export const ABILITY_NAMES: Record<Ability, string> = {
	str: 'Strength',
	dex: 'Dexterity',
	con: 'Constitution',
	int: 'Intelligence',
	wis: 'Wisdom',
	cha: 'Charisma'
};

export function modifier(score: number): number {
	return Math.floor((score - 10) / 2);
}

/** `+3`, `−1`, `+0`. */
export function signed(n: number): string {
	return n < 0 ? `−${Math.abs(n)}` : `+${n}`;
}

export const STANDARD_ARRAY = [15, 14, 13, 12, 10, 8] as const;

/** "animal-handling" → "Animal Handling". */
export function titleCase(slug: string): string {
	return slug
		.split(/[-_ ]/)
		.filter(Boolean)
		.map((w) => w[0].toUpperCase() + w.slice(1))
		.join(' ');
}
