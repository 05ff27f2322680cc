// What the compendium browser offers per type: labels, the filters' controls, the summary columns.

export const TYPE_LABELS: Record<string, string> = {
	spells: 'Spells',
	monsters: 'Monsters',
	equipment: 'Equipment',
	'magic-items': 'Magic items',
	classes: 'Classes',
	subclasses: 'Subclasses',
	races: 'Races',
	subraces: 'Subraces',
	backgrounds: 'Backgrounds',
	feats: 'Feats',
	features: 'Features',
	traits: 'Traits',
	conditions: 'Conditions',
	'damage-types': 'Damage types',
	'magic-schools': 'Magic schools',
	languages: 'Languages',
	proficiencies: 'Proficiencies',
	skills: 'Skills',
	'ability-scores': 'Ability scores',
	alignments: 'Alignments',
	'equipment-categories': 'Equipment categories',
	'weapon-properties': 'Weapon properties',
	levels: 'Class levels',
	rules: 'Rules',
	'rule-sections': 'Rule sections'
};

/** The types shown first, in this order; the rest follow alphabetically. */
export const PRIMARY_TYPES = ['spells', 'monsters', 'equipment', 'magic-items', 'classes', 'races', 'backgrounds', 'conditions', 'feats'];

export function orderTypes<T extends { type: string }>(types: T[]): T[] {
	const rank = (t: string) => {
		const i = PRIMARY_TYPES.indexOf(t);
		return i === -1 ? PRIMARY_TYPES.length : i;
	};
	return [...types].sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
}

export function typeLabel(t: string): string {
	return TYPE_LABELS[t] ?? t;
}

export const CLASSES = ['barbarian', 'bard', 'cleric', 'druid', 'fighter', 'monk', 'paladin', 'ranger', 'rogue', 'sorcerer', 'warlock', 'wizard'];

export interface FilterControl {
	name: string;
	label: string;
	kind: 'select' | 'checkbox' | 'text';
	options?: { value: string; label: string }[];
	placeholder?: string;
}

const opts = (xs: string[], label = (x: string) => x[0].toUpperCase() + x.slice(1).replace(/-/g, ' ')) =>
	xs.map((value) => ({ value, label: label(value) }));

export const FILTERS: Record<string, string | FilterControl> = {
	level: {
		name: 'level',
		label: 'Level',
		kind: 'select',
		options: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ value: String(n), label: n === 0 ? 'Cantrip' : String(n) }))
	},
	school: {
		name: 'school',
		label: 'School',
		kind: 'select',
		options: opts(['abjuration', 'conjuration', 'divination', 'enchantment', 'evocation', 'illusion', 'necromancy', 'transmutation'])
	},
	class: { name: 'class', label: 'Class', kind: 'select', options: opts(CLASSES) },
	concentration: { name: 'concentration', label: 'Concentration', kind: 'checkbox' },
	ritual: { name: 'ritual', label: 'Ritual', kind: 'checkbox' },
	casting_time: { name: 'casting_time', label: 'Casting time', kind: 'select', options: opts(['1 action', '1 bonus action', '1 reaction', '1 minute', '10 minutes', '1 hour', '8 hours']) },
	cr_min: { name: 'cr_min', label: 'CR from', kind: 'text', placeholder: '1/4' },
	cr_max: { name: 'cr_max', label: 'CR to', kind: 'text', placeholder: '5' },
	type: {
		name: 'type',
		label: 'Creature type',
		kind: 'select',
		options: opts(['aberration', 'beast', 'celestial', 'construct', 'dragon', 'elemental', 'fey', 'fiend', 'giant', 'humanoid', 'monstrosity', 'ooze', 'plant', 'swarm of tiny beasts', 'undead'])
	},
	size: { name: 'size', label: 'Size', kind: 'select', options: opts(['tiny', 'small', 'medium', 'large', 'huge', 'gargantuan']) },
	category: {
		name: 'category',
		label: 'Category',
		kind: 'select',
		options: opts(['weapon', 'armor', 'adventuring-gear', 'tools', 'mounts-and-vehicles', 'ammunition', 'potion', 'ring', 'rod', 'scroll', 'staff', 'wand', 'wondrous-items'])
	},
	rarity: { name: 'rarity', label: 'Rarity', kind: 'select', options: opts(['common', 'uncommon', 'rare', 'very-rare', 'legendary', 'artifact', 'varies']) }
};

export function filterControl(name: string): FilterControl {
	const f = FILTERS[name];
	return typeof f === 'object' ? f : { name, label: name, kind: 'text' };
}

/** "14" → "14", 0.25 → "1/4". */
export function cr(v: unknown): string {
	const n = Number(v);
	if (n === 0.125) return '1/8';
	if (n === 0.25) return '1/4';
	if (n === 0.5) return '1/2';
	return String(v ?? '');
}

/** A short line for a list row. */
export function summaryLine(type: string, s: Record<string, unknown>): string {
	switch (type) {
		case 'spells': {
			const lvl = Number(s.level);
			const school = String(s.school ?? '');
			const base = lvl === 0 ? `${school} cantrip` : `level ${lvl} ${school}`;
			return [base, s.concentration ? 'concentration' : '', s.ritual ? 'ritual' : ''].filter(Boolean).join(' · ');
		}
		case 'monsters':
			return `CR ${cr(s.challenge_rating)} · ${s.size ?? ''} ${s.type ?? ''}`;
		case 'magic-items':
			return [s.rarity, s.category].filter(Boolean).join(' · ').replace(/-/g, ' ');
		default:
			return Object.entries(s)
				.filter(([, v]) => v !== null && v !== '' && typeof v !== 'object')
				.map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v}`)
				.join(' · ');
	}
}
