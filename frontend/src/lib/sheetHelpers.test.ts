import { describe, expect, it } from 'vitest';
import { bestHit, lookupTypes, packOf, paragraphs } from './featureInfo';
import { attunement, homebrewPacks, requiresAttunement } from './inventory';
import { effectId, findEffect } from './effectCatalog';

describe('feature descriptions', () => {
	it('look in the compendium type the rule file stands for', () => {
		expect(lookupTypes({ file: 'features/items/ring-of-protection.rhai' })[0]).toBe('magic-items');
		expect(lookupTypes({ file: 'features/feats/grappler.rhai' })[0]).toBe('feats');
		expect(lookupTypes({ file: 'features/traits/breath-weapon.rhai' })[0]).toBe('traits');
		expect(lookupTypes({ file: 'features/barbarian/rage.rhai' })).toEqual(['features', 'traits', 'feats']);
		expect(lookupTypes({ file: '' })).toEqual(['features', 'traits', 'feats']);
	});
	it('scope homebrew features to their pack only', () => {
		expect(packOf({ pack: 'brawler' })).toBe('brawler');
		expect(packOf({ pack: 'srd' })).toBeUndefined();
		expect(packOf({ pack: '' })).toBeUndefined();
	});
	it('find a feature by name when its id is not a compendium slug', () => {
		const hits = [{ name: 'Extra Attack (Monk)' }, { name: 'Extra Attack' }, { name: 'Extra Attack (2)' }];
		expect(bestHit('Extra Attack', hits)).toEqual({ name: 'Extra Attack' });
		expect(bestHit('Action Surge', [{ name: 'Action Surge (1 use)' }])).toEqual({ name: 'Action Surge (1 use)' });
		expect(bestHit('Extra Attack (Fighter)', [{ name: 'Extra Attack' }])).toEqual({ name: 'Extra Attack' });
		expect(bestHit('Rage', [{ name: 'Frenzy' }])).toBeUndefined();
		expect(bestHit('Indomitable', [{ name: 'Indomitable Might' }, { name: 'Indomitable (1 use)' }])).toEqual({ name: 'Indomitable (1 use)' });
	});
	it('read a description given as a list or a string', () => {
		expect(paragraphs({ content: { desc: ['One.', '', 'Two.'] } })).toEqual(['One.', 'Two.']);
		expect(paragraphs({ content: { desc: 'Only.' } })).toEqual(['Only.']);
		expect(paragraphs({ content: {} })).toEqual([]);
	});
});

describe('attunement', () => {
	const magic = new Set(['ring-of-protection', 'cloak-of-protection', 'amulet-of-health', 'boots-of-speed']);
	const requires = (s: string) => magic.has(s);
	it('reads "requires attunement" from the first line of the description, as the engine does', () => {
		expect(requiresAttunement({ content: { desc: ['Ring, rare (requires attunement)', 'You gain +1.'] } })).toBe(true);
		expect(requiresAttunement({ content: { desc: ['Potion, common', 'requires attunement later'] } })).toBe(false);
		expect(requiresAttunement({ content: {} })).toBe(false);
	});
	it('counts attuned items that need it, up to three, in equipment order', () => {
		const items = [
			{ item: 'ring-of-protection', attuned: true },
			{ item: 'rope-hempen-50-feet', attuned: true },
			{ item: 'cloak-of-protection', attuned: false },
			{ item: 'amulet-of-health', attuned: true }
		];
		expect(attunement(items, requires)).toEqual({ count: 2, over: [] });
	});
	it('names a fourth attuned item as doing nothing', () => {
		const items = ['ring-of-protection', 'cloak-of-protection', 'amulet-of-health', 'boots-of-speed'].map((item) => ({ item, attuned: true }));
		expect(attunement(items, requires)).toEqual({ count: 3, over: [3] });
	});
	it('scopes lookups to the homebrew packs a sheet uses', () => {
		expect(homebrewPacks(['srd'])).toBeUndefined();
		expect(homebrewPacks(['srd', 'brawler', 'storm-herald'])).toBe('brawler,storm-herald');
		expect(homebrewPacks(undefined)).toBeUndefined();
	});
});

describe('effects picker', () => {
	it('takes an effect by id or by name', () => {
		expect(findEffect('Mage Armor')?.id).toBe('mage-armor');
		expect(findEffect('shield')?.name).toBe('Shield');
		expect(findEffect('Camouflaged')?.id).toBe('hide-in-plain-sight');
		expect(findEffect('')).toBeUndefined();
		expect(effectId('  Bless ')).toBe('bless');
	});
	it('sends anything else as an id, for homebrew effects', () => {
		expect(findEffect('Storm Aura')).toBeUndefined();
		expect(effectId('Storm Aura')).toBe('storm-aura');
	});
});
