// The effects a player may apply by hand, from the SRD pack's effect files (rules/srd/effects).
// The API does not list a rule set's effects (GET /rules/packs/{id} gives a pack's status and file
// count, not its files), so this list follows the SRD pack; an effect from a homebrew pack is
// applied by typing its id, and the API refuses an unknown id with UNKNOWN_EFFECT. Effects that
// need data their feature supplies (Elemental Affinity's damage type, Sacred Weapon's weapon, Wild
// Shape's beast) are left to their features' Use buttons.

export interface EffectChoice {
	id: string;
	name: string;
	/** What it does, in a line. */
	what: string;
}

export const SRD_EFFECTS: EffectChoice[] = [
	{ id: 'bless', name: 'Bless', what: '+1d4 to attack rolls and saving throws (concentration, 1 minute).' },
	{ id: 'countercharm', name: 'Countercharm', what: 'Advantage on saves against being frightened or charmed.' },
	{ id: 'dodging', name: 'Dodging', what: 'Attacks against you have disadvantage; advantage on Dexterity saves, until your next turn.' },
	{ id: 'draconic-presence', name: 'Draconic Presence', what: 'An aura of awe or fear, 60 feet (concentration, 1 minute).' },
	{ id: 'dragon-wings', name: 'Dragon Wings', what: 'A flying speed equal to your walking speed.' },
	{ id: 'empty-body', name: 'Empty Body', what: 'Invisible and resistant to all damage but force, for 1 minute.' },
	{ id: 'frenzy', name: 'Frenzy', what: 'A melee weapon attack as a bonus action each turn while raging; exhaustion when the rage ends.' },
	{ id: 'hide-in-plain-sight', name: 'Camouflaged', what: '+10 to Stealth checks while you stay put without acting.' },
	{ id: 'holy-nimbus', name: 'Holy Nimbus', what: 'Bright light, radiant damage to enemies starting their turn in it, advantage on saves against fiends’ and undead’s spells.' },
	{ id: 'mage-armor', name: 'Mage Armor', what: 'Base AC 13 + Dexterity while unarmoured (8 hours).' },
	{ id: 'raging', name: 'Raging', what: 'Advantage on Strength checks and saves, rage damage, resistance to bludgeoning, piercing and slashing.' },
	{ id: 'reckless', name: 'Reckless Attack', what: 'Advantage on Strength melee attacks; attacks against you have advantage, until your next turn.' },
	{ id: 'shield', name: 'Shield', what: '+5 AC until the start of your next turn.' }
];

/** The catalogue entry for what was typed: by id, or by name (case and spaces forgiven). */
export function findEffect(typed: string, list: EffectChoice[] = SRD_EFFECTS): EffectChoice | undefined {
	const t = typed.trim().toLowerCase();
	if (!t) return undefined;
	return list.find((e) => e.id === t || e.name.toLowerCase() === t || e.id === t.replace(/\s+/g, '-'));
}

/** The effect id to send for what was typed: a catalogue id, or the text as an id (homebrew). */
export function effectId(typed: string, list: EffectChoice[] = SRD_EFFECTS): string {
	return findEffect(typed, list)?.id ?? typed.trim().toLowerCase().replace(/\s+/g, '-');
}
