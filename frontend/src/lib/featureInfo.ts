// A sheet feature's description, fetched from the compendium when the player opens it, once.
//
// The sheet's feature record carries the rule file's id, its pack and its file, not the
// compendium slug the feature was granted by; most ids are that slug (`rage`, `darkvision`), the
// others are found by name (`fighter-extra-attack` → "Extra Attack"). Where to look follows the
// file's folder (`features/items/` → magic items, `features/feats/` → feats, `features/traits/` →
// racial traits); features with no rule file are compendium features or traits by their slug.
// Homebrew pack entries are asked for with `?packs=<pack>`.

import { api, ApiError } from './api/client';
import type { Entry, Feature } from './api/types';
import { entry } from './compendiumCache';

export interface FeatureText {
	name: string;
	type: string;
	slug: string;
	paragraphs: string[];
}

/** The compendium types to look a feature up in, most likely first. */
export function lookupTypes(f: Pick<Feature, 'file'>): string[] {
	const file = f.file ?? '';
	if (file.includes('/items/')) return ['magic-items', 'equipment'];
	if (file.includes('/feats/')) return ['feats', 'features'];
	if (file.includes('/traits/')) return ['traits', 'features'];
	return ['features', 'traits', 'feats'];
}

/** The pack to scope compendium reads to (none for the SRD and compendium-only features). */
export function packOf(f: Pick<Feature, 'pack'>): string | undefined {
	return f.pack && f.pack !== 'srd' && f.pack !== 'engine' ? f.pack : undefined;
}

/** The paragraphs of an entry's description (`desc` as a list or a string). */
export function paragraphs(e: Pick<Entry, 'content'>): string[] {
	const d = e.content.desc;
	if (Array.isArray(d)) return d.map(String).filter((p) => p.trim() !== '');
	if (typeof d === 'string' && d.trim()) return [d];
	return [];
}

/** A name without its trailing parenthesis, lower case: "Indomitable (2 uses)" → "indomitable". */
function base(name: string): string {
	return name.trim().toLowerCase().replace(/\s*\(.*\)$/, '');
}

/** The best hit for a feature's name: the same name, else the same name but for a parenthesis
 * ("Indomitable" → "Indomitable (1 use)", not "Indomitable Might"), else a name that starts
 * with it. */
export function bestHit<T extends { name: string }>(name: string, hits: T[]): T | undefined {
	const full = name.trim().toLowerCase();
	const n = base(name);
	return hits.find((h) => h.name.toLowerCase() === full) ?? hits.find((h) => base(h.name) === n) ?? hits.find((h) => h.name.toLowerCase().startsWith(n));
}

const found = new Map<string, Promise<FeatureText | null>>();

async function bySlug(types: string[], slug: string, packs?: string): Promise<Entry | null> {
	for (const type of types) {
		try {
			return await entry(type, slug, packs ? { packs } : undefined);
		} catch (e) {
			if (!(e instanceof ApiError) || e.status !== 404) throw e;
		}
	}
	return null;
}

async function byName(types: string[], name: string, packs?: string): Promise<Entry | null> {
	const res = await api.get<{ hits: { type: string; slug: string; name: string }[] }>('/compendium/search', {
		query: { q: name.replace(/\(.*\)/, '').trim(), type: types.join(','), limit: 20, packs }
	});
	const hit = bestHit(name, res.hits);
	return hit ? entry(hit.type, hit.slug, packs ? { packs } : undefined) : null;
}

/** The feature's description, or null when the compendium has none. Cached per feature. */
export function describe(f: Pick<Feature, 'id' | 'name' | 'pack' | 'file'>): Promise<FeatureText | null> {
	const packs = packOf(f);
	const key = `${packs ?? 'srd'}/${f.id}`;
	let p = found.get(key);
	if (!p) {
		p = (async () => {
			const types = lookupTypes(f);
			const e = (await bySlug(types, f.id, packs)) ?? (await byName(types, f.name, packs));
			return e ? { name: e.name, type: e.type, slug: e.slug, paragraphs: paragraphs(e) } : null;
		})();
		p.catch(() => found.delete(key));
		found.set(key, p);
	}
	return p;
}
