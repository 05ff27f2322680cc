// Inventory helpers: what an item is (equipment or magic item, its name, whether it needs
// attunement) and the attunement limit (SRD: Magic Items — at most three attuned items; the
// engine counts them in equipment order, so a fourth does nothing).

import { ApiError } from './api/client';
import type { Entry, Item } from './api/types';
import { entry } from './compendiumCache';

/** Attuned items that count, at most. */
export const ATTUNEMENT_LIMIT = 3;

export interface ItemInfo {
	type: 'equipment' | 'magic-items';
	slug: string;
	name: string;
	requiresAttunement: boolean;
}

/** The compendium says so only in the first line of a magic item's description ("Ring, rare
 * (requires attunement)"), as the engine reads it. */
export function requiresAttunement(e: Pick<Entry, 'content'>): boolean {
	const d = e.content.desc;
	const first = Array.isArray(d) ? d[0] : d;
	return typeof first === 'string' && first.includes('requires attunement');
}

export interface Attunement {
	/** Attuned items that count (at most the limit). */
	count: number;
	/** Indexes (in the equipment list) of attuned items past the limit: they do nothing. */
	over: number[];
}

/** Which attuned items count: those that require attunement, in equipment order, up to three. */
export function attunement(items: Pick<Item, 'item' | 'attuned'>[], requires: (slug: string) => boolean): Attunement {
	let n = 0;
	const over: number[] = [];
	items.forEach((it, i) => {
		if (!it.attuned || !requires(it.item)) return;
		n++;
		if (n > ATTUNEMENT_LIMIT) over.push(i);
	});
	return { count: Math.min(n, ATTUNEMENT_LIMIT), over };
}

/** The pack list to scope compendium reads to, from the packs a character's sheet uses. */
export function homebrewPacks(packs: string[] | undefined): string | undefined {
	const own = (packs ?? []).filter((p) => p !== 'srd');
	return own.length ? own.join(',') : undefined;
}

const infos = new Map<string, Promise<ItemInfo | null>>();

/** What an inventory slug is, looked up as equipment, then as a magic item (or the other way
 * round, when the caller knows better); null if neither. */
export function itemInfo(slug: string, packs?: string, first: ItemInfo['type'] = 'equipment'): Promise<ItemInfo | null> {
	const key = `${packs ?? ''}/${slug}`;
	let p = infos.get(key);
	if (!p) {
		p = (async () => {
			const order: ItemInfo['type'][] = first === 'equipment' ? ['equipment', 'magic-items'] : ['magic-items', 'equipment'];
			for (const type of order) {
				try {
					const e = await entry(type, slug, packs ? { packs } : undefined);
					return { type, slug, name: e.name, requiresAttunement: type === 'magic-items' && requiresAttunement(e) };
				} catch (err) {
					if (!(err instanceof ApiError) || err.status !== 404) throw err;
				}
			}
			return null;
		})();
		p.catch(() => infos.delete(key));
		infos.set(key, p);
	}
	return p;
}
