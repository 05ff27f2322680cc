// The SRD's option sets ("choose 2 from …") as the creation wizard offers them. The rules match
// the server's (engine/src/creation.rs): nested choices are flattened, a category offers its
// equipment, a resource list offers every entry of its type.

export interface Ref {
	index: string;
	name: string;
}

/** Lists the wizard has fetched: an equipment category's items, or every entry of a type. */
export interface Lookup {
	category(slug: string): Ref[] | undefined;
	resource(type: string): Ref[] | undefined;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
	return v && typeof v === 'object' ? (v as Json) : {};
}

function arr(v: unknown): unknown[] {
	return Array.isArray(v) ? v : [];
}

function ref(v: unknown): Ref | null {
	const o = obj(v);
	return typeof o.index === 'string' ? { index: o.index, name: String(o.name ?? o.index) } : null;
}

function resourceType(url: string): string {
	return url.replace(/\/+$/, '').split('/').pop() ?? '';
}

/** Category slugs and resource types an option set needs fetched before it can be offered. */
export function needs(from: unknown, out = { categories: new Set<string>(), resources: new Set<string>() }, depth = 0) {
	if (depth > 8) return out;
	const f = obj(from);
	switch (f.option_set_type) {
		case 'options_array':
			for (const o of arr(f.options)) optionNeeds(o, out, depth + 1);
			break;
		case 'equipment_category': {
			const c = ref(f.equipment_category);
			if (c) out.categories.add(c.index);
			break;
		}
		case 'resource_list':
			out.resources.add(resourceType(String(f.resource_list_url ?? '')));
			break;
	}
	return out;
}

function optionNeeds(o: unknown, out: ReturnType<typeof needs>, depth: number) {
	const op = obj(o);
	if (op.option_type === 'choice') needs(obj(op.choice).from, out, depth + 1);
	if (op.option_type === 'multiple') for (const i of arr(op.items)) optionNeeds(i, out, depth + 1);
}

/** Everything an option set offers, nested choices flattened, without repeats. */
export function flatten(from: unknown, lookup: Lookup, depth = 0): Ref[] {
	const out: Ref[] = [];
	const push = (r: Ref | null) => {
		if (r && !out.some((x) => x.index === r.index)) out.push(r);
	};
	if (depth > 8) return out;
	const f = obj(from);
	switch (f.option_set_type) {
		case 'options_array':
			for (const o of arr(f.options)) for (const r of flattenOption(o, lookup, depth + 1)) push(r);
			break;
		case 'equipment_category': {
			const c = ref(f.equipment_category);
			for (const r of (c && lookup.category(c.index)) ?? []) push(r);
			break;
		}
		case 'resource_list':
			for (const r of lookup.resource(resourceType(String(f.resource_list_url ?? ''))) ?? []) push(r);
			break;
	}
	return out;
}

function flattenOption(o: unknown, lookup: Lookup, depth: number): Ref[] {
	const op = obj(o);
	switch (op.option_type) {
		case 'reference':
			return [ref(op.item)].filter((r): r is Ref => r !== null);
		case 'counted_reference':
			return [ref(op.of)].filter((r): r is Ref => r !== null);
		case 'choice':
			return flatten(obj(op.choice).from, lookup, depth + 1);
		case 'multiple':
			return arr(op.items).flatMap((i) => flattenOption(i, lookup, depth + 1));
		default:
			return [];
	}
}

/** A "choose N from …" group of proficiencies or languages. */
export interface ChoiceGroup {
	key: string;
	label: string;
	desc: string;
	choose: number;
	options: Ref[];
}

/** The choice groups of some records (`keys`: `proficiency_choices`, `language_options`…). */
export function choiceGroups(records: { label: string; record: Json }[], keys: string[], lookup: Lookup): ChoiceGroup[] {
	const out: ChoiceGroup[] = [];
	for (const { label, record } of records) {
		for (const key of keys) {
			const v = record[key];
			const groups = Array.isArray(v) ? v : v ? [v] : [];
			groups.forEach((g, i) => {
				const group = obj(g);
				const options = flatten(group.from, lookup);
				const choose = Math.min(Number(group.choose ?? 1), options.length);
				if (!options.length || choose <= 0) return;
				out.push({
					key: `${label}/${key}/${i}`,
					label,
					desc: String(group.desc ?? `Choose ${choose}`),
					choose,
					options
				});
			});
		}
	}
	return out;
}

/** An equipment option as offered: its words and the category picks it asks for. */
export interface EquipOption {
	label: string;
	picks: { desc: string; choose: number; category: string }[];
}

export interface EquipGroup {
	desc: string;
	options: EquipOption[];
}

function optionLabel(o: unknown): string {
	const op = obj(o);
	switch (op.option_type) {
		case 'counted_reference': {
			const r = ref(op.of);
			const n = Number(op.count ?? 1);
			return r ? (n > 1 ? `${n} × ${r.name}` : r.name) : '?';
		}
		case 'reference':
			return ref(op.item)?.name ?? '?';
		case 'choice':
			return String(obj(op.choice).desc ?? 'a choice');
		case 'multiple':
			return arr(op.items).map(optionLabel).join(' and ');
		default:
			return '?';
	}
}

function optionPicks(o: unknown, out: EquipOption['picks'], depth = 0) {
	if (depth > 8) return;
	const op = obj(o);
	if (op.option_type === 'choice') {
		const c = obj(op.choice);
		const cat = ref(obj(c.from).equipment_category);
		if (cat) out.push({ desc: String(c.desc ?? cat.name), choose: Number(c.choose ?? 1), category: cat.index });
	} else if (op.option_type === 'multiple') {
		for (const i of arr(op.items)) optionPicks(i, out, depth + 1);
	}
}

/** The `starting_equipment_options` of the class and then the background, as the API numbers them. */
export function equipmentGroups(records: Json[]): EquipGroup[] {
	const out: EquipGroup[] = [];
	for (const rec of records) {
		for (const g of arr(rec.starting_equipment_options)) {
			const group = obj(g);
			const from = obj(group.from);
			if (from.option_set_type === 'options_array') {
				out.push({
					desc: String(group.desc ?? 'Choose one'),
					options: arr(from.options).map((o) => {
						const picks: EquipOption['picks'] = [];
						optionPicks(o, picks);
						return { label: optionLabel(o), picks };
					})
				});
			} else {
				const cat = ref(from.equipment_category);
				const choose = Number(group.choose ?? 1);
				const desc = String(group.desc ?? cat?.name ?? 'a choice');
				out.push({
					desc,
					options: [{ label: desc, picks: cat ? [{ desc, choose, category: cat.index }] : [] }]
				});
			}
		}
	}
	return out;
}

/** `extra_equipment` in the order the server consumes it. `picked[g][p][n]` is the n-th item of
 * the p-th category pick of group g's chosen option. */
export function extraEquipment(groups: EquipGroup[], chosen: number[], picked: Record<string, string>): string[] {
	const out: string[] = [];
	groups.forEach((g, gi) => {
		const o = g.options[chosen[gi] ?? 0];
		o?.picks.forEach((p, pi) => {
			for (let n = 0; n < p.choose; n++) out.push(picked[`${gi}.${pi}.${n}`] ?? '');
		});
	});
	return out;
}

/** Fixed proficiencies (or languages) of some records, with the record that grants each. */
export function fixedGrants(records: { label: string; record: Json }[], keys: string[]): Map<string, string> {
	const out = new Map<string, string>();
	for (const { label, record } of records)
		for (const key of keys) for (const r of arr(record[key]).map(ref)) if (r && !out.has(r.index)) out.set(r.index, label);
	return out;
}
