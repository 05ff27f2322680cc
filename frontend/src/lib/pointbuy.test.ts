import { describe, expect, it } from 'vitest';
import * as pb from './pointbuy';

describe('point buy', () => {
	it('costs follow the SRD table', () => {
		expect([8, 9, 10, 11, 12, 13, 14, 15].map(pb.cost)).toEqual([0, 1, 2, 3, 4, 5, 7, 9]);
		expect(pb.cost(7)).toBeNull();
		expect(pb.cost(16)).toBeNull();
		expect(pb.cost(12.5)).toBeNull();
	});

	it('counts what is left of 27', () => {
		const s = { str: 15, dex: 14, con: 14, int: 8, wis: 10, cha: 8 };
		expect(pb.spent(s)).toBe(25);
		expect(pb.remaining(s)).toBe(2);
		expect(pb.remaining(pb.startingScores())).toBe(27);
		expect(pb.valid(s)).toBe(true);
	});

	it('offers a raise only when the points cover its step', () => {
		const s = { str: 15, dex: 14, con: 14, int: 8, wis: 10, cha: 8 };
		expect(pb.canRaise(s, 'str')).toBe(false); // 15 is the top
		expect(pb.canRaise(s, 'wis')).toBe(true); // 10 → 11 costs 1
		expect(pb.canRaise({ ...s, wis: 13 }, 'wis')).toBe(false); // 13 → 14 costs 2, 0 left
		expect(pb.canRaise({ ...s, wis: 11 }, 'wis')).toBe(true); // 1 left, 11 → 12 costs 1
		expect(pb.canRaise({ ...s, wis: 12 }, 'wis')).toBe(false); // 27 spent
		expect(pb.canLower(s, 'int')).toBe(false);
		expect(pb.canLower(s, 'str')).toBe(true);
	});

	it('is invalid above the budget or out of range', () => {
		expect(pb.valid({ str: 15, dex: 15, con: 15, int: 15, wis: 8, cha: 8 })).toBe(false);
		expect(pb.remaining({ str: 15, dex: 15, con: 15, int: 15, wis: 8, cha: 8 })).toBe(-9);
		expect(pb.valid({ str: 16, dex: 8, con: 8, int: 8, wis: 8, cha: 8 })).toBe(false);
	});
});
