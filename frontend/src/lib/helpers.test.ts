import { describe, expect, it } from 'vitest';
import { modifier, signed, titleCase } from './abilities';
import { counted, modeText, sentence } from './explain';
import { addDie, diceGroups, dieStates } from './dice';
import type { DiceNode } from './api/types';

describe('abilities', () => {
	it('modifiers round down', () => {
		expect([1, 8, 9, 10, 11, 15, 17, 20, 30].map(modifier)).toEqual([-5, -1, -1, 0, 0, 2, 3, 5, 10]);
		expect(signed(3)).toBe('+3');
		expect(signed(0)).toBe('+0');
		expect(signed(-1)).toBe('−1');
		expect(titleCase('animal-handling')).toBe('Animal Handling');
	});
});

describe('explanations', () => {
	const ac = [
		{ source: 'srd', op: 'base', value: 12, label: 'Unarmored', applied: false },
		{ source: 'srd', op: 'base', value: 10, label: 'base' },
		{ source: 'engine', op: 'add', value: 3, label: 'Dex' },
		{ source: 'item', op: 'add', value: 2, label: 'shield' },
		{ source: 'item', op: 'add', value: -1, label: 'curse' }
	];
	it('say what a number is made of, leaving out what lost', () => {
		expect(counted(ac)).toHaveLength(4);
		expect(sentence('AC', 14, ac)).toBe('AC 14 = 10 base + 3 Dex + 2 shield − 1 curse');
		expect(sentence('Speed', 30, [])).toBe('Speed 30');
	});
	it('name the sources of advantage', () => {
		expect(modeText({ mode: 'normal' })).toBe('');
		expect(modeText({ mode: 'advantage', advantage: [{ source: 'srd', op: 'advantage', value: null, label: 'Raging' }] })).toBe('advantage (Raging)');
		expect(
			modeText({
				mode: 'normal',
				advantage: [{ source: 'a', op: 'advantage', value: null, label: 'x' }],
				disadvantage: [{ source: 'b', op: 'disadvantage', value: null, label: 'y' }]
			})
		).toBe('advantage and disadvantage cancel');
	});
});

describe('dice trees', () => {
	const tree: DiceNode = {
		type: 'chain',
		value: { num: 19, den: 1 },
		links: [
			{
				node: {
					type: 'dice',
					notation: '4d6kh3',
					count: 4,
					faces: [1, 6],
					value: { num: 14, den: 1 },
					dice: [
						{ face: 6, kept: true },
						{ face: 1, kept: false, dropped: true },
						{ face: 5, kept: true },
						{ face: 3, kept: true }
					]
				}
			},
			{ op: '+', node: { type: 'number', value: { num: 5, den: 1 } } }
		]
	};
	it('list every dice term with its dice', () => {
		const g = diceGroups(tree);
		expect(g).toHaveLength(1);
		expect(g[0].notation).toBe('4d6kh3');
		expect(g[0].dice.map(dieStates)).toEqual([['kept'], ['dropped'], ['kept'], ['kept']]);
		expect(dieStates({ face: 20, kept: true, crit_success: true })).toEqual(['critical']);
		expect(dieStates({ face: 10, kept: true, exploded: true })).toEqual(['exploded']);
	});
	it('quick buttons add dice', () => {
		expect(addDie('', 6)).toBe('1d6');
		expect(addDie('1d6', 6)).toBe('2d6');
		expect(addDie('2d6', 8)).toBe('2d6 + 1d8');
		expect(addDie('d20', 20)).toBe('2d20');
	});
});
