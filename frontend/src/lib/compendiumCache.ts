// Compendium reads the app repeats (a race, a class, a category's items, a feature's text),
// fetched once.
import { api } from './api/client';
import type { Entry, EntrySummary, Page } from './api/types';
import type { Ref } from './options';

const entries = new Map<string, Promise<Entry>>();
const lists = new Map<string, Promise<EntrySummary[]>>();

/** One entry; `query` scopes it (`{packs: 'brawler'}` for a homebrew pack's entries). */
export function entry(type: string, slug: string, query?: Record<string, string>): Promise<Entry> {
	const key = `${type}/${slug}?${new URLSearchParams(query)}`;
	let p = entries.get(key);
	if (!p) {
		p = api.get<Entry>(`/compendium/${type}/${encodeURIComponent(slug)}`, { query });
		p.catch(() => entries.delete(key));
		entries.set(key, p);
	}
	return p;
}

/** Every entry of a type (or a filtered list), through all pages. */
export function all(type: string, filters: Record<string, string> = {}): Promise<EntrySummary[]> {
	const key = `${type}?${new URLSearchParams(filters)}`;
	let p = lists.get(key);
	if (!p) {
		p = (async () => {
			const out: EntrySummary[] = [];
			for (let page = 1; ; page++) {
				const d = await api.get<Page<EntrySummary>>(`/compendium/${type}`, { query: { ...filters, page, per_page: 100 } });
				out.push(...d.items);
				if (page >= d.total_pages) return out;
			}
		})();
		p.catch(() => lists.delete(key));
		lists.set(key, p);
	}
	return p;
}

export async function categoryItems(slug: string): Promise<Ref[]> {
	const e = await entry('equipment-categories', slug);
	return ((e.content.equipment as Ref[] | undefined) ?? []).map((r) => ({ index: r.index, name: r.name }));
}

export async function resourceItems(type: string): Promise<Ref[]> {
	return (await all(type)).map((e) => ({ index: e.slug, name: e.name }));
}
