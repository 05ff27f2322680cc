import { describe, expect, it } from 'vitest';
import { emptyDraft, errorsUpTo, stepIndex, stepOfField, toRequest } from './wizard';
import { choiceGroups, equipmentGroups, extraEquipment, fixedGrants, flatten, needs } from './options';
import { persisted } from './stores/persisted';
import { get } from 'svelte/store';

describe('field errors find their step', () => {
	it('maps API paths to steps', () => {
		expect(stepOfField('abilities.scores.str')).toBe('abilities');
		expect(stepOfField('proficiencies[2]')).toBe('skills');
		expect(stepOfField('languages')).toBe('skills');
		expect(stepOfField('equipment[1]')).toBe('equipment');
		expect(stepOfField('extra_equipment[0]')).toBe('equipment');
		expect(stepOfField('spells.known.wizard')).toBe('spells');
		expect(stepOfField('subrace')).toBe('race');
		expect(stepOfField('details.backstory')).toBe('details');
		expect(stepOfField('something')).toBe('review');
	});
	it('keeps only the errors of steps already visited', () => {
		const f = { race: ['a'], abilities: ['b'], 'equipment[0]': ['c'] };
		expect(errorsUpTo(f, stepIndex('race'))).toEqual({ race: ['a'] });
		expect(Object.keys(errorsUpTo(f, stepIndex('abilities')))).toEqual(['race', 'abilities']);
	});
});

describe('the request', () => {
	it('is built from the draft', () => {
		const d = { ...emptyDraft(), name: ' Grog ', race: 'half-orc', class: 'barbarian', background: 'acolyte' };
		d.pointBuy = { str: 15, dex: 14, con: 14, int: 8, wis: 10, cha: 8 };
		d.proficiencyPicks = { a: ['skill-athletics'], b: ['skill-perception', 'skill-athletics'] };
		d.languagePicks = { c: ['dwarvish', 'elvish'] };
		d.equipment = [0, 0, 0];
		const r = toRequest(d, ['', '', 'amulet'].slice(2), { known: false, prepares: false });
		expect(r).toMatchObject({
			name: 'Grog',
			subrace: null,
			abilities: { method: 'point_buy', scores: { str: 15, cha: 8 } },
			proficiencies: ['skill-athletics', 'skill-perception'],
			languages: ['dwarvish', 'elvish'],
			equipment: [0, 0, 0],
			extra_equipment: ['amulet']
		});
		expect(r.spells).toBeUndefined();
	});
	it('uses the standard array by position and names the roll', () => {
		const d = { ...emptyDraft(), method: 'standard_array' as const, arrayPick: { str: 0, dex: 1, con: 2, int: 5, wis: 3, cha: 4 } };
		expect((toRequest(d, [], { known: false, prepares: false }).abilities as { scores: object }).scores).toEqual({ str: 15, dex: 14, con: 13, int: 8, wis: 12, cha: 10 });
		const r = { ...emptyDraft(), method: 'rolled' as const, rollId: 7, rolls: [{ total: 13, dice: [], dropped: 1 }], rollPick: { str: 0 } };
		expect(toRequest(r, [], { known: false, prepares: false }).abilities).toEqual({ method: 'rolled', scores: { str: 13 }, roll_id: 7 });
	});
	it('puts a wizard’s spellbook in known and the prepared subset in prepared', () => {
		const d = { ...emptyDraft(), class: 'wizard', cantrips: ['light'], spells: ['shield', 'sleep'], prepared: ['shield'] };
		expect(toRequest(d, [], { known: true, prepares: true }).spells).toEqual({ known: { wizard: ['light', 'shield', 'sleep'] }, prepared: { wizard: ['shield'] } });
		const c = { ...emptyDraft(), class: 'cleric', cantrips: ['light'], spells: ['bless'] };
		expect(toRequest(c, [], { known: false, prepares: true }).spells).toEqual({ known: { cleric: ['light'] }, prepared: { cleric: ['bless'] } });
	});
});

const ref = (index: string) => ({ index, name: index.toUpperCase(), url: `/api/2014/equipment/${index}` });
const lookup = {
	category: (s: string) => (s === 'martial-melee-weapons' ? [ref('longsword'), ref('warhammer')] : s === 'holy-symbols' ? [ref('amulet'), ref('emblem')] : undefined),
	resource: (t: string) => (t === 'languages' ? [ref('common'), ref('elvish')] : undefined)
};
const barbarian = {
	name: 'Barbarian',
	proficiencies: [ref('light-armor')],
	proficiency_choices: [{ choose: 2, desc: 'Choose two', from: { option_set_type: 'options_array', options: [{ option_type: 'reference', item: ref('skill-athletics') }, { option_type: 'reference', item: ref('skill-survival') }] } }],
	starting_equipment_options: [
		{
			choose: 1,
			desc: '(a) a greataxe or (b) any martial melee weapon',
			from: {
				option_set_type: 'options_array',
				options: [
					{ option_type: 'counted_reference', count: 1, of: ref('greataxe') },
					{ option_type: 'choice', choice: { choose: 1, desc: 'any martial melee weapon', from: { option_set_type: 'equipment_category', equipment_category: ref('martial-melee-weapons') } } }
				]
			}
		},
		{ choose: 1, desc: '(a) two handaxes', from: { option_set_type: 'options_array', options: [{ option_type: 'counted_reference', count: 2, of: ref('handaxe') }] } }
	]
};
const acolyte = {
	name: 'Acolyte',
	starting_proficiencies: [ref('skill-insight')],
	language_options: { choose: 2, from: { option_set_type: 'resource_list', resource_list_url: '/api/2014/languages' } },
	starting_equipment_options: [{ choose: 1, from: { option_set_type: 'equipment_category', equipment_category: ref('holy-symbols') } }]
};

describe('option sets', () => {
	it('say what must be fetched', () => {
		const n = needs(barbarian.starting_equipment_options[0].from);
		expect([...n.categories]).toEqual(['martial-melee-weapons']);
		expect([...needs(acolyte.language_options.from).resources]).toEqual(['languages']);
	});
	it('flatten nested choices', () => {
		expect(flatten(barbarian.starting_equipment_options[0].from, lookup).map((r) => r.index)).toEqual(['greataxe', 'longsword', 'warhammer']);
	});
	it('become choice groups and fixed grants', () => {
		const records = [
			{ label: 'Barbarian', record: barbarian },
			{ label: 'Acolyte', record: acolyte }
		];
		const profs = choiceGroups(records, ['proficiency_choices'], lookup);
		expect(profs).toHaveLength(1);
		expect(profs[0].choose).toBe(2);
		const langs = choiceGroups(records, ['language_options'], lookup);
		expect(langs[0].options.map((o) => o.index)).toEqual(['common', 'elvish']);
		expect([...fixedGrants(records, ['proficiencies', 'starting_proficiencies']).keys()]).toEqual(['light-armor', 'skill-insight']);
	});
	it('number equipment groups class first, then background, and order the extra picks', () => {
		const groups = equipmentGroups([barbarian, acolyte]);
		expect(groups.map((g) => g.options.length)).toEqual([2, 1, 1]);
		expect(groups[0].options.map((o) => o.label)).toEqual(['GREATAXE', 'any martial melee weapon']);
		expect(groups[1].options[0].label).toBe('2 × HANDAXE');
		expect(extraEquipment(groups, [0, 0, 0], { '2.0.0': 'amulet' })).toEqual(['amulet']);
		expect(extraEquipment(groups, [1, 0, 0], { '0.0.0': 'warhammer', '2.0.0': 'amulet' })).toEqual(['warhammer', 'amulet']);
	});
});

describe('persisted stores', () => {
	it('survive a reload through storage', () => {
		const data = new Map<string, string>();
		const storage = {
			getItem: (k: string) => data.get(k) ?? null,
			setItem: (k: string, v: string) => void data.set(k, v),
			removeItem: (k: string) => void data.delete(k)
		} as unknown as Storage;
		const a = persisted('draft', { step: 0 }, storage);
		a.set({ step: 3 });
		expect(get(persisted('draft', { step: 0 }, storage))).toEqual({ step: 3 });
		const b = persisted<string | null>('token', null, storage);
		b.set('x');
		b.set(null);
		expect(data.has('token')).toBe(false);
	});
	it('fall back to the initial value on bad JSON', () => {
		const storage = { getItem: () => '{oops', setItem: () => {}, removeItem: () => {} } as unknown as Storage;
		expect(get(persisted('k', 5, storage))).toBe(5);
	});
});
