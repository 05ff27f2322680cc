import { describe, expect, it } from 'vitest';
import { describeEvents, phrase } from './events';
import { conditionOrigins, critText, lineKind, optionLabels, rangeText, recoveryText, spellCounts } from './sheetText';
import { choiceErrors, choicesBody, missingChoices } from './choices';
import { emptyDraft, stepOfField, toRequest } from './wizard';
import type { ChoiceDecl } from './api/types';

const stat = (value: number) => ({ value, explain: [] });

describe('what an action did, in words', () => {
	it('reads a rule that reacted, by its name, from its own note', () => {
		const events = [
			{ event: 'triggered', feature: 'survivor', name: 'Survivor', on: 'turn_start' },
			{ event: 'healed', amount: 8, roll: null },
			{ event: 'note', text: 'Survivor: regains 8 hit points (5 + Constitution modifier)' }
		];
		expect(describeEvents(events)).toEqual(['Survivor: regains 8 hit points (5 + Constitution modifier)']);
	});

	it('puts a saving throw’s numbers before the outcome the rule wrote', () => {
		const events = [
			{ event: 'triggered', feature: 'relentless-rage', name: 'Relentless Rage', on: 'drop_to_zero' },
			{ event: 'resource_spent', resource: 'relentless-rage', amount: 1, remaining: null },
			{ event: 'saving_throw', label: 'Relentless Rage', ability: 'con', dc: 15, roll: '1d20 (14) + 3', total: 17, success: true },
			{ event: 'healed', amount: 1, roll: null },
			{ event: 'note', text: 'Relentless Rage: DC 15 Constitution save succeeds — drops to 1 hit point instead' }
		];
		expect(describeEvents(events)).toEqual(['Relentless Rage: DC 15 Con save 17 — drops to 1 hit point instead']);
	});

	it('words a reaction without a note from what it did', () => {
		const events = [
			{ event: 'triggered', feature: 'survivor', name: 'Survivor', on: 'turn_start' },
			{ event: 'healed', amount: 8, roll: null }
		];
		expect(describeEvents(events)).toEqual(['Survivor: regained 8 HP']);
		const save = [
			{ event: 'triggered', feature: 'x', name: 'Stubborn', on: 'drop_to_zero' },
			{ event: 'saving_throw', label: 'Stubborn', ability: 'wis', dc: 12, roll: '', total: 9, success: false }
		];
		expect(describeEvents(save)).toEqual(['Stubborn: DC 12 Wis save 9 — failure']);
	});

	it('separates a reaction from time moving on, and reads the rest as sentences', () => {
		const events = [
			{ event: 'effect_ended', id: 'e1', effect: 'raging', reason: 'duration' },
			{ event: 'triggered', feature: 'frenzy', name: 'Frenzy', on: 'effect_end' },
			{ event: 'effect_ended', id: 'e2', effect: 'frenzy', reason: 'ended' },
			{ event: 'exhaustion_changed', level: 1 },
			{ event: 'note', text: 'Frenzy: the rage ends — one level of exhaustion' },
			{ event: 'effect_ended', id: 'e3', effect: 'shield', reason: 'turn_start' }
		];
		expect(describeEvents(events, { effect: (id) => (id === 'raging' ? 'Raging' : undefined) })).toEqual([
			'Raging ends (its time ran out)',
			'Frenzy: the rage ends — one level of exhaustion',
			'Shield ends (the turn started)'
		]);
	});

	it('says when a reaction did not happen or its rule failed, with the feature’s name', () => {
		const names = { feature: (id: string) => ({ 'relentless-rage': 'Relentless Rage' })[id] };
		expect(
			describeEvents(
				[
					{ event: 'trigger_skipped', feature: 'relentless-rage', reason: 'no uses of relentless-rage left' },
					{ event: 'trigger_failed', feature: 'storm-aura', message: 'Property not found: x (line 3)' }
				],
				names
			)
		).toEqual(['Relentless Rage: did not happen — no uses of relentless-rage left', 'Storm Aura: its rule failed (Property not found: x (line 3)); the rest went on without it']);
	});

	it('has words for the common events and none for unknown ones', () => {
		expect(phrase({ event: 'damaged', amount: 10, damage_type: 'fire', taken: 5, note: 'resistant' })).toBe('took 5 fire damage (of 10) — resistant');
		expect(phrase({ event: 'resource_spent', resource: 'rage', amount: 1, remaining: 2 }, { resource: () => 'Rage' })).toBe('spent 1 use of Rage (2 left)');
		expect(phrase({ event: 'resource_recovered', resource: 'sorcery-points', amount: 4 })).toBe('Sorcery Points: 4 uses back');
		expect(phrase({ event: 'condition_added', condition: 'invisible' })).toBe('now Invisible');
		expect(phrase({ event: 'exhaustion_changed', level: 0 })).toBe('no more exhaustion');
		expect(phrase({ event: 'dance' })).toBeNull();
		expect(describeEvents([])).toEqual([]);
	});
});

describe('attack lines', () => {
	it('show a thrown range, a long range and melee reach', () => {
		expect(rangeText({ range_feet: { normal: 20, long: 60 }, properties: [] }, 'handaxe-thrown')).toBe('thrown 20/60 ft.');
		expect(rangeText({ range_feet: { normal: 80, long: 320 }, properties: [] }, 'shortbow')).toBe('80/320 ft.');
		expect(rangeText({ range_feet: { normal: 5 }, properties: [] }, 'longsword')).toBe('5 ft.');
		expect(rangeText({ properties: [] })).toBe('');
	});
	it('show a critical range only below 20', () => {
		expect(critText({ crit_range: stat(19) })).toBe('crit 19–20');
		expect(critText({ crit_range: stat(20) })).toBe('');
		expect(critText({})).toBe('');
	});
	it('name the kind of line', () => {
		expect(lineKind('handaxe-thrown', { weapon: 'handaxe' })).toBe('thrown');
		expect(lineKind('longsword-two-handed', { weapon: 'longsword' })).toBe('two-handed');
		expect(lineKind('unarmed-strike', { weapon: 'unarmed-strike' })).toBe('unarmed');
		expect(lineKind('crossbow-light', { weapon: 'crossbow-light' })).toBe('');
	});
});

describe('resources, spells, conditions', () => {
	it('say how uses come back, partly or wholly', () => {
		expect(recoveryText({ recover: ['long_rest'], recover_amount: { short_rest: stat(4) } })).toBe('all back on a long rest; 4 back on a short rest');
		expect(recoveryText({ recover: ['short_rest', 'long_rest'] })).toBe('all back on a short rest or a long rest');
		expect(recoveryText({ recover: [] })).toBe('');
	});
	it('count spells prepared and known against their maximum', () => {
		const sc = { class: 'cleric', ability: 'wis', dc: stat(13), attack: { bonus: stat(5), mode: { mode: 'normal' }, expr: '' }, prepared: ['bless', 'cure-wounds', 'shield-of-faith'], prepared_max: stat(5) };
		expect(spellCounts(sc).map((c) => `${c.label} ${c.have} / ${c.max.value}`)).toEqual(['prepared 3 / 5']);
		expect(spellCounts({ ...sc, prepared_max: undefined, known: ['a', 'b'], spells_known: stat(4) }).map((c) => `${c.label} ${c.have} / ${c.max.value}`)).toEqual(['known 2 / 4']);
	});
	it('mark conditions an effect grants or another condition includes', () => {
		const origins = conditionOrigins(['invisible', 'unconscious', 'incapacitated', 'prone', 'poisoned'], ['unconscious', 'poisoned'], [{ effect: 'empty-body', name: 'Empty Body' }]);
		expect(origins).toEqual([
			{ condition: 'invisible', stored: false, from: ['Empty Body'] },
			{ condition: 'unconscious', stored: true, from: [] },
			{ condition: 'incapacitated', stored: false, from: ['Unconscious'] },
			{ condition: 'prone', stored: false, from: ['Unconscious'] },
			{ condition: 'poisoned', stored: true, from: [] }
		]);
	});
});

describe('standing choices', () => {
	const ancestry: ChoiceDecl = { id: 'draconic-ancestry', prompt: 'Your draconic ancestry', options: ['draconic-ancestry-black', 'draconic-ancestry-red'] };
	const halfElf: ChoiceDecl = { id: 'half-elf-ability-bonuses', prompt: 'Two abilities', options: ['str', 'dex', 'con', 'int', 'wis'], count: 2 };
	const metamagic: ChoiceDecl = { id: 'metamagic', prompt: 'Metamagic', options: ['careful', 'distant', 'quickened'], count: 2, required: false };
	it('label options without the words they share, abilities by name', () => {
		expect(optionLabels(ancestry.options)).toEqual({ 'draconic-ancestry-black': 'Black', 'draconic-ancestry-red': 'Red' });
		expect(optionLabels(halfElf.options).dex).toBe('Dexterity');
		expect(optionLabels(['fighting-style-defense'])).toEqual({ 'fighting-style-defense': 'Fighting Style Defense' });
	});
	it('know which required choices are missing or incomplete', () => {
		expect(missingChoices([ancestry, halfElf, metamagic], {}).map((d) => d.id)).toEqual(['draconic-ancestry', 'half-elf-ability-bonuses']);
		expect(missingChoices([ancestry, halfElf], { 'draconic-ancestry': 'draconic-ancestry-red', 'half-elf-ability-bonuses': ['str'] }).map((d) => d.id)).toEqual(['half-elf-ability-bonuses']);
		expect(missingChoices([halfElf], { 'half-elf-ability-bonuses': ['str', 'con'] })).toEqual([]);
	});
	it('send only declared choices that have a value', () => {
		expect(choicesBody([ancestry, halfElf], { 'draconic-ancestry': 'draconic-ancestry-red', 'half-elf-ability-bonuses': [], stale: 'x' })).toEqual({ 'draconic-ancestry': 'draconic-ancestry-red' });
	});
	it('take the API’s errors per choice, and put them on the class step', () => {
		expect(choiceErrors({ 'choices.draconic-ancestry': ['must be one of …'], name: ['required'] })).toEqual({ 'draconic-ancestry': ['must be one of …'] });
		expect(stepOfField('choices.draconic-ancestry')).toBe('class');
	});
	it('go into the creation request when made', () => {
		const d = { ...emptyDraft(), race: 'dragonborn', class: 'fighter', choices: { 'draconic-ancestry': 'draconic-ancestry-red', empty: [] } };
		expect(toRequest(d, [], { known: false, prepares: false }).choices).toEqual({ 'draconic-ancestry': 'draconic-ancestry-red' });
		expect('choices' in toRequest(emptyDraft(), [], { known: false, prepares: false })).toBe(false);
	});
});
