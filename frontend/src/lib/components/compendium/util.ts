// Reading SRD records in the detail cards.

export type Json = Record<string, unknown>;

export function obj(v: unknown): Json {
	return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

export function arr<T = unknown>(v: unknown): T[] {
	return Array.isArray(v) ? (v as T[]) : [];
}

export function text(v: unknown): string[] {
	if (Array.isArray(v)) return v.map(String);
	if (typeof v === 'string') return [v];
	return [];
}

export function nameOf(v: unknown): string {
	const o = obj(v);
	return String(o.name ?? o.index ?? (typeof v === 'string' ? v : ''));
}

/** A reference's link inside the app: `/api/2014/spells/x` → `/compendium/spells/x`. */
export function link(v: unknown): string | null {
	const url = String(obj(v).url ?? '');
	const m = url.match(/^\/api\/20\d\d\/([^/]+)\/([^/]+)$/);
	return m ? `/compendium/${m[1]}/${m[2]}` : null;
}
