// Types of the Grimoire API, written from its OpenAPI document (/api/v1/openapi.json). The
// document types the stored character and the sheet as free objects, so their shapes here are
// read from the engine's output (engine/src/sheet.rs).

export interface Meta {
	timestamp: string;
	version: string;
	request_id: string;
}

export interface FailureBody {
	code: string;
	message: string;
	details?: { fields?: Record<string, string[]>; [k: string]: unknown } | null;
}

export type Envelope<T> =
	| { success: true; data: T; meta: Meta }
	| { success: false; error: FailureBody; meta: Meta };

export interface User {
	id: number;
	username: string;
	email: string;
	is_admin: boolean;
	created_at: number;
}

export interface Session {
	token: string;
	expires_at: string;
	user: User;
}

/** One contribution to a derived number. */
export interface Contribution {
	source: string;
	op: string;
	value: number | string | null;
	label: string;
	file?: string;
	line?: number;
	/** `false` when a candidate lost (an unarmored AC beaten by Unarmored Defense). */
	applied?: boolean;
}

export interface Explained {
	value: number;
	explain: Contribution[];
}

export interface RollMode {
	mode: 'normal' | 'advantage' | 'disadvantage' | string;
	advantage?: Contribution[];
	disadvantage?: Contribution[];
}

export interface Rollable {
	bonus: Explained;
	mode: RollMode;
	expr: string;
	/** The lowest face the d20 counts as (Reliable Talent: 10); already in `expr`. */
	d20_min?: Explained;
	/** The lowest total the roll counts as (Indomitable Might); the roll endpoint applies it. */
	min_total?: Explained;
}

export interface Granted {
	value: string;
	sources: Contribution[];
}

export interface AbilityBlock {
	score: Explained;
	mod: Explained;
	save: Rollable;
	check: Rollable;
	save_proficient: boolean;
	/** The highest the score may be raised to (20; Primal Champion: 24). */
	max?: Explained;
}

export interface SkillBlock {
	ability: string;
	proficiency: number;
	roll: Rollable;
	passive: Explained;
}

export interface Attack {
	name: string;
	ability: string;
	range: string;
	proficient: boolean;
	to_hit: Rollable;
	damage: string;
	damage_type: string;
	damage_explain: Contribution[];
	properties: string[];
	/** The item attacked with (`dagger` for `dagger-thrown`; `unarmed-strike`). */
	weapon?: string;
	/** Normal and long range in feet, for ranged and thrown lines. */
	range_feet?: { normal: number; long?: number };
	/** Hands the line is wielded with (2: two-handed and versatile two-handed lines). */
	hands?: number;
	damage_die?: Explained;
	/** The lowest natural d20 that is a critical hit (20; Improved Critical: 19). */
	crit_range?: Explained;
	/** Extra weapon dice on a critical hit (Brutal Critical, Savage Attacks). */
	crit_dice?: Explained;
	/** The damage of a critical hit, as a dice expression. */
	crit_damage?: string;
}

/** A save DC a feature imposes (`dcs.<id>`: Breath Weapon, ki, Turn Undead). */
export interface SaveDc extends Explained {
	name: string;
	/** The saving throw's ability (`dex`). */
	save?: string;
	/** Damage on a failed save, a dice expression. */
	damage?: string;
	damage_explain?: Contribution[];
	damage_type?: string;
	/** The area (`15 ft. cone`). */
	area?: string;
}

export interface Resource {
	id: string;
	name: string;
	max: Explained;
	spent: number;
	remaining: number;
	unlimited: boolean;
	/** Rests that give every use back. */
	recover: string[];
	/** Rests that give some uses back, and how many (`short_rest` → 4). */
	recover_amount?: Record<string, Explained>;
	source: string;
}

export interface Feature {
	id: string;
	name: string;
	pack: string;
	file: string;
	activation?: string;
	resources?: string[];
	srd?: string;
}

export interface ActiveEffect {
	id: string;
	effect: string;
	source: string;
	duration: Record<string, unknown> | null;
	rounds_left?: number | null;
	ends_on?: string[];
	concentration: boolean;
	data: unknown;
	name?: string;
}

export interface Spellcasting {
	class: string;
	ability: string;
	dc: Explained;
	attack: Rollable;
	cantrips_known?: number | Explained;
	prepared?: string[];
	known?: string[];
	/** How many spells may be prepared (cleric, druid, paladin, wizard). */
	prepared_max?: Explained;
	/** How many spells are known (bard, ranger, sorcerer, warlock). */
	spells_known?: Explained;
}

export interface Slot {
	max: number;
	spent: number;
	remaining: number;
}

export interface Sheet {
	sheet_version: number;
	name: string;
	level: number;
	classes: Record<string, number>;
	abilities: Record<string, AbilityBlock>;
	proficiency_bonus: Explained;
	skills: Record<string, SkillBlock>;
	ac: Explained;
	initiative: Rollable;
	speed: Record<string, Explained>;
	hp: { max: Explained; current: number; temp: number };
	hit_dice: Record<string, { total: number; spent: number; remaining: number }>;
	attacks: Record<string, Attack>;
	/** Attacks per Attack action (Extra Attack). */
	attacks_per_action?: Explained;
	/** Save DCs of features, by id. */
	dcs?: Record<string, SaveDc>;
	spellcasting: Record<string, Spellcasting>;
	slots: Record<string, Slot>;
	resources: Record<string, Resource>;
	features: Record<string, Feature>;
	defenses: Record<string, Granted[]>;
	senses: Record<string, Explained>;
	languages: Granted[];
	proficiencies: Granted[];
	notes: Granted[];
	conditions: (string | { id?: string; condition?: string; name?: string })[];
	exhaustion: number;
	effects: ActiveEffect[];
	death_saves: { successes: number; failures: number; stable: boolean; dead: boolean };
	diagnostics: unknown[];
}

export interface Item {
	item: string;
	quantity: number;
	equipped: boolean;
	attuned: boolean;
	name?: string;
	notes?: string;
}

export interface StoredCharacter {
	schema_version: number;
	name: string;
	race: string;
	subrace: string | null;
	classes: { class: string; level: number; subclass: string | null }[];
	background: string | null;
	abilities: Record<string, number>;
	proficiencies: string[];
	languages: string[];
	equipment: Item[];
	spells: { known: Record<string, string[]>; prepared: Record<string, string[]> };
	slots_spent: Record<string, number>;
	conditions: unknown[];
	exhaustion: number;
	alignment: string | null;
	details: { appearance: string; backstory: string; personality: string; notes: string };
	[k: string]: unknown;
}

export interface CharacterView {
	id: number;
	owner_id: number;
	owner: string;
	campaign_id: number | null;
	campaign_status: 'pending' | 'accepted' | null;
	name: string;
	version: number;
	created_at: number;
	updated_at: number;
	character: StoredCharacter;
	sheet: Sheet;
	packs: string[];
	events?: ActionEvent[];
}

/** One thing an action did (engine `Event`, tagged by `event`): `healed`, `triggered`… */
export interface ActionEvent {
	event: string;
	[k: string]: unknown;
}

/** What a table action answers: the character as it is now, what happened, the dice rolled. */
export interface ActionResult extends CharacterView {
	events: ActionEvent[];
	rolls: RollResult[];
}

/** A standing choice a rule file offers the character (dragonborn ancestry, fighting style). */
export interface ChoiceDecl {
	id: string;
	prompt: string;
	/** The allowed values; empty for free-form choices the rule file checks itself. */
	options: (string | { value?: string; id?: string; name?: string; label?: string })[];
	/** A list of `count` different options; absent: one value. */
	count?: number | null;
	/** Exactly `count` (true, the default) or at most `count`. */
	required?: boolean;
}

export type ChoiceValue = string | string[];

/** `GET /characters/{id}/choices`. */
export interface ChoicesView {
	declared: ChoiceDecl[];
	values: Record<string, ChoiceValue>;
}

export interface CharacterSummary {
	id: number;
	owner_id: number;
	owner: string;
	name: string;
	version: number;
	campaign_id: number | null;
	campaign_status: 'pending' | 'accepted' | null;
	[k: string]: unknown;
}

export interface Die {
	face: number;
	kept: boolean;
	dropped?: boolean;
	rerolled?: boolean;
	exploded?: boolean;
	compounded?: boolean;
	added?: boolean;
	penetrated?: boolean;
	crit_success?: boolean;
	crit_fail?: boolean;
}

export interface Rational {
	num: number;
	den: number;
}

export type DiceNode = { value: Rational; labels?: string[] } & (
	| { type: 'number'; text?: string }
	| {
			type: 'dice';
			notation: string;
			count: number;
			faces: [number, number];
			dice: Die[];
			count_roll?: DiceNode;
			sides_roll?: DiceNode;
	  }
	| { type: 'reference'; name: string; formula?: DiceNode }
	| { type: 'unary'; op: string; operand: DiceNode }
	| { type: 'chain'; links: { op?: string; node: DiceNode }[] }
	| { type: 'parens'; inner: DiceNode }
	| { type: 'call'; function: string; args: DiceNode[] }
	| { type: 'set'; braces: boolean; items: { kept: boolean; node: DiceNode }[]; operators: string }
);

export interface RollResult {
	expr: string;
	total: number;
	details: string;
	exact: string;
	tree: DiceNode;
	natural?: number | null;
	nat20: boolean;
	nat1: boolean;
	advantage_applied: boolean;
	dice_rolled: number;
	comment?: string | null;
	seed: number;
}

export interface SheetRoll {
	label: string;
	mode: string;
	mode_sources: { advantage: Contribution[]; disadvantage: Contribution[] };
	explain: Contribution[];
	roll: RollResult;
	damage?: RollResult;
	[k: string]: unknown;
}

export interface Odds {
	expr: string;
	min: number;
	max: number;
	mean: number;
	stddev: number;
	at_least?: { probability: number; target: number } | null;
	distribution?: unknown;
	advantage_applied?: boolean;
}

export interface TypeCount {
	type: string;
	count: number;
	filters: string[];
}

export interface EntrySummary {
	type: string;
	slug: string;
	name: string;
	source: string;
	edition: string;
	summary: Record<string, unknown>;
}

export interface Page<T> {
	items: T[];
	page: number;
	per_page: number;
	total: number;
	total_pages: number;
}

export interface Entry {
	type: string;
	slug: string;
	name: string;
	source: string;
	edition: string;
	content: Record<string, unknown>;
	variants: { source: string; name: string }[];
}

export interface SearchHit {
	type: string;
	slug: string;
	name: string;
	source: string;
	snippet: string;
}

export type Role = 'observer' | 'player' | 'dm';

export interface Member {
	user_id: number;
	username: string;
	role: Role;
	joined_at: number;
}

export interface Campaign {
	id: number;
	name: string;
	description: string;
	created_by: number;
	created_at: number;
	updated_at: number;
	invite_code?: string | null;
	my_role: Role;
	members?: Member[];
	packs?: string[];
}

export interface Invitation {
	id: number;
	campaign_id: number;
	[k: string]: unknown;
}

export interface Diagnostic {
	pack: string;
	file: string;
	line: number;
	col: number;
	hook?: string;
	limit?: string;
	message: string;
}

export interface Pack {
	id: string;
	name: string;
	version: string;
	status: 'live' | 'stale' | 'failed' | string;
	errors: Diagnostic[];
	dependencies: string[];
	cases: number;
	files: number;
	hash?: string;
	loaded_in?: number;
	source?: string;
	path?: string;
	description?: string;
	[k: string]: unknown;
}

export interface PacksView {
	packs: Pack[];
	last_reload: { at: string; packs: string[]; ok: boolean } | null;
}

export interface AbilityRoll {
	total: number;
	dice: number[];
	dropped: number;
	rendering: string;
}

export interface AbilityRolls {
	id: number;
	rolls: AbilityRoll[];
}

/** One entry of a campaign's log: a chat message, or a roll shared from a sheet. */
export interface ChatMessage {
	id: number;
	kind: 'chat' | 'roll' | string;
	user_id: number;
	username: string;
	text: string;
	/** Rolls: `{character, roll}` (the sheet roll as the roller saw it). */
	data?: { character?: number; roll?: SheetRoll; [k: string]: unknown } | null;
	created_at: number;
}
