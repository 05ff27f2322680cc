//! # Dice expressions
//!
//! The notation players type (`1d20+@str`, `4d6kh3`, `2d20kl1+5`), rolled with every die
//! explained, or analysed into exact odds. It is a superset of what Avrae's d20, Roll20,
//! Foundry VTT and rpg-dice-roller accept; where they disagree, the choice is stated below.
//! `docs/dice.md` has the same reference with more examples.
//!
//! ## Grammar (loosest binding first)
//!
//! ```text
//! expr     := compare ('#' comment)?
//! compare  := sum (('=='|'!='|'<'|'>'|'<='|'>=') sum)*      1 if true, 0 if false; left to right
//! sum      := prod (('+'|'-') prod)*
//! prod     := unary (('*'|'/'|'//'|'%') unary)*
//! unary    := ('+'|'-') unary | power                      -2**2 is -4
//! power    := term ('**' unary)?                           right-associative: 2**3**2 is 512
//! term     := (dice | set | group | func | number | ref | '(' expr ')') label*
//! dice     := count? ('d'|'D') sides dop*                  no spaces inside a dice term
//! count    := INT | '(' expr ')'                           d20 = 1d20; (1d4)d6
//! sides    := INT | '%' | 'F' | '(' expr ')'               d% is 1–100; dF is -1, 0, +1
//! set      := '(' [expr {',' expr}] ','? ')' sop*          a comma makes a set: (1d20, 10)kh1, (5,), ()
//! group    := '{' [expr {',' expr}] '}' sop*               {4d6kh3, 4d6kh3}kh1
//! func     := ('floor'|'ceil'|'round'|'abs'|'min'|'max') '(' expr {',' expr} ')'
//! ref      := '@' name ('.' name)* | '@{' any text '}'     @str, @abilities.str.mod, @{Str Mod}
//! label    := '[' text ']'                                 2d6[fire] — kept on the term
//! number   := 12 | 1.5 | .5                                exact, at most 2^53
//! ```
//!
//! ## Dice operators (`dop`), applied in the order written, to the dice still kept
//!
//! | operator | meaning |
//! |---|---|
//! | `khN` `klN` `kN` | keep the N highest / lowest (N defaults to 1; `k3` = `kh3`) |
//! | `dhN` `dlN` `dN` | drop the N highest / lowest (`d1` = `dl1`) |
//! | `phN` `plN` | drop highest / lowest (d20 spelling) |
//! | `k<N` `k>N` `k=N` | keep only dice below / above / equal to N |
//! | `p<N` `p>N` `pN` | drop dice below / above / equal to N |
//! | `rr CP` `r CP` | reroll while the die matches (default: the lowest face) |
//! | `ro CP` | reroll once |
//! | `ra CP` | if any die matches, add one more die, once (default: the highest face) |
//! | `! CP` `e CP` `x CP` | explode: each matching die adds a die, which may explode again (default: highest face) |
//! | `!! CP` | compound: the extra rolls add into the die that exploded |
//! | `!p CP` | penetrate: like `!`, each added die counts one less |
//! | `xo CP` | explode once: matching dice add one die each, which do not explode |
//! | `miN` `minN` / `maN` `maxN` | each die counts at least / at most N |
//! | `cs CP` `cf CP` | mark critical successes / failures (display only; default: highest / lowest face) |
//! | `s` `sa` `sd` | show the dice sorted (display only) |
//!
//! A compare point `CP` is `=N`, `!=N`, `<>N`, `<N`, `>N`, `<=N`, `>=N` or a bare `N` (= `=N`).
//! `<` and `>` are strict. Sets and groups take the keep/drop operators only.
//!
//! ## Where the common rollers disagree, Grimoire means
//!
//! * `4d6k3` keeps the **highest 3** (use `k=3` for d20's "keep the 3s");
//! * `r` rerolls **recursively** (as `rr`); `ro` rerolls once;
//! * compare points are **strict**: `r<3` rerolls 1 and 2;
//! * `cs>19` only **marks** criticals; the total is unchanged;
//! * `3d6>10` **compares totals** (1 or 0); it does not count successes;
//! * `1d6!=3` written together **explodes on 3**; `1d6 != 3` with spaces compares;
//!   `!!=3` is a compound explosion on 3;
//! * `d%` is 1–100;
//! * `/` is exact (`7/2` is 7/2 inside the expression); the **final total is floored**
//!   (`7/2` → 3, `-7/2` → -4); `//` is floor division, `%` the remainder with the divisor's sign;
//! * `round` rounds half away from zero (`round(-2.5)` is -3);
//! * a reference whose value is a formula is substituted **as a parenthesised group**:
//!   `2*@dmg` with `dmg = "1d8+3"` is `2*(1d8+3)`.
//!
//! ## Limits
//!
//! Input ≤ 4 KiB; 1000 dice per expression counted across rerolls and explosions; dice of at
//! most 1,000,000 sides; numbers (literals, intermediate numerators and denominators, totals)
//! within ±2^53; nesting ≤ 256 levels. Rerolls and explosions that every face triggers
//! (`1d1!`, `1d20rr<21`) are refused before rolling. Each refusal is a [`DiceError`] with a
//! stable [`ErrorKind`] and a 0-based character offset. See [`limits`].
//!
//! ## Rolls
//!
//! Advantage/disadvantage turn the leftmost d20 term, if it is exactly `1d20` (with or without
//! operators), into `2d20…kh1` / `2d20…kl1`; both together cancel, as in 5e. Maximize/minimize
//! give every die its highest/lowest face that no recursive reroll rejects, with no explosions;
//! both together cancel. The natural roll is the face of the leftmost kept d20.
//!
//! ## Odds
//!
//! [`odds`] computes the exact distribution of the (floored) total by convolution and order
//! statistics, never by enumerating outcomes. Explosions are followed through
//! [`EXPLODE_DEPTH_CAP`](limits::EXPLODE_DEPTH_CAP) extra rolls; the probability cut off there
//! is reported as [`Odds::truncated`]. Division is exact, so `8d6/2` is modelled; combinations
//! whose pool size varies before a keep (`4d6!kh3`) or that reroll after a keep are refused
//! with `unsupported_odds` rather than answered approximately.
//!
//! ## API
//!
//! ```text
//! parse(&str) -> Result<Expr, DiceError>
//! roll(&Expr, &dyn Resolver, &RollOptions, &mut impl RngCore) -> Result<Roll, DiceError>
//! roll_total(&Expr, &dyn Resolver, &RollOptions, &mut impl RngCore) -> Result<i64, DiceError>
//! roll_str(&str, &dyn Resolver, &RollOptions, Option<u64> /* seed */) -> Result<Roll, DiceError>
//! odds(&Expr, &dyn Resolver, &OddsOptions) -> Result<Odds, DiceError>
//! rng_from_seed(u64) -> ChaCha8Rng
//! ```
//!
//! [`Resolver`] answers references; it is implemented for `serde_json::Value` (nested objects
//! for `@a.b.c`), `HashMap<String, i64>`, `HashMap<String, Resolved>` and [`NoValues`].
//!
//! ```
//! use grimoire_engine::dice::{self, RollOptions};
//! let values = serde_json::json!({"str": 3});
//! let roll = dice::roll_str("4d6kh3 + @str", &values, &RollOptions::default(), Some(7)).unwrap();
//! assert!((6..=21).contains(&roll.total));
//! let expr = dice::parse("1d20+7").unwrap();
//! let odds = dice::odds(&expr, &dice::NoValues, &dice::OddsOptions {
//!     advantage: true, target: Some(15), ..Default::default()
//! }).unwrap();
//! assert!((odds.at_least.unwrap().probability - 0.8775).abs() < 1e-9);
//! ```

mod ast;
mod dist;
mod error;
mod eval;
mod lexer;
pub mod limits;
mod odds;
mod parser;
mod pool;
mod rational;
mod resolve;
mod tree;

#[cfg(test)]
mod tests;

pub use ast::Expr;
pub use error::{DiceError, ErrorKind};
pub use odds::{AtLeast, Odds, OddsOptions, Outcome};
pub use rational::Rational;
pub use resolve::{NoValues, Resolved, Resolver};
pub use tree::{Die, Link, Node, NodeKind, Roll, SetItem};

use ast::Window;
use pool::{Mode, Roller};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How to roll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RollOptions {
    /// The leftmost `1d20` becomes `2d20kh1`.
    pub advantage: bool,
    /// The leftmost `1d20` becomes `2d20kl1`. With `advantage`, they cancel.
    pub disadvantage: bool,
    /// Every die shows its highest face.
    pub maximize: bool,
    /// Every die shows its lowest face. With `maximize`, they cancel.
    pub minimize: bool,
}

/// Parses an expression. Checks everything that does not depend on the dice or the values:
/// syntax, literal sizes, nesting, and rerolls/explosions that could never stop.
pub fn parse(src: &str) -> Result<Expr, DiceError> {
    parser::parse(src, 0).map_err(|f| f.into_public(src))
}

fn adv_of(advantage: bool, disadvantage: bool) -> Option<Window> {
    match (advantage, disadvantage) {
        (true, false) => Some(Window::KeepHigh),
        (false, true) => Some(Window::KeepLow),
        _ => None,
    }
}

fn ctx<'a, R: RngCore + ?Sized>(
    values: &'a dyn Resolver,
    options: &RollOptions,
    rng: &'a mut R,
    track_natural: bool,
) -> eval::Ctx<'a, R> {
    let mode = match (options.maximize, options.minimize) {
        (true, false) => Mode::Max,
        (false, true) => Mode::Min,
        _ => Mode::Random,
    };
    eval::Ctx {
        roller: Roller {
            rng,
            rolled: 0,
            mode,
        },
        resolver: values,
        adv: adv_of(options.advantage, options.disadvantage),
        adv_applied: false,
        seen_d20: false,
        natural: None,
        track_natural,
        substituted: 0,
        open_refs: 0,
    }
}

/// Rolls a parsed expression and explains it.
pub fn roll<R: RngCore + ?Sized>(
    expr: &Expr,
    values: &dyn Resolver,
    options: &RollOptions,
    rng: &mut R,
) -> Result<Roll, DiceError> {
    let mut c = ctx(values, options, rng, true);
    let mut nodes = eval::NodeStack::new();
    let value = eval::run(expr, &mut c, Some(&mut nodes)).map_err(|f| f.into_public(&expr.src))?;
    let tree = nodes
        .pop()
        .unwrap_or_else(|| Node::new(NodeKind::Number { text: None }, value));
    let total = value.floor();
    let mut rendering =
        String::with_capacity(expr.src.len() * 2 + 32 + 5 * c.roller.rolled as usize);
    tree.render_to(&mut rendering);
    rendering.push_str(" = ");
    tree::push_int(&mut rendering, total);
    Ok(Roll {
        total,
        value,
        rendering,
        tree,
        natural: c.natural,
        nat20: c.natural == Some(20),
        nat1: c.natural == Some(1),
        advantage_applied: c.adv_applied,
        dice_rolled: c.roller.rolled,
        comment: expr.comment.as_ref().map(|s| s.to_string()),
        seed: None,
    })
}

/// Rolls a parsed expression for its total only: the fast path, with no tree.
pub fn roll_total<R: RngCore + ?Sized>(
    expr: &Expr,
    values: &dyn Resolver,
    options: &RollOptions,
    rng: &mut R,
) -> Result<i64, DiceError> {
    let mut c = ctx(values, options, rng, false);
    let value = eval::run(expr, &mut c, None).map_err(|f| f.into_public(&expr.src))?;
    Ok(value.floor())
}

/// The generator behind seeded rolls: ChaCha8, so a seed replays the same dice on every
/// platform and version of this engine.
pub fn rng_from_seed(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Parses and rolls. Without a seed one is drawn from the operating system's entropy, and
/// either way the seed used is returned in [`Roll::seed`], so the roll can be replayed.
pub fn roll_str(
    src: &str,
    values: &dyn Resolver,
    options: &RollOptions,
    seed: Option<u64>,
) -> Result<Roll, DiceError> {
    let expr = parse(src)?;
    let seed = seed.unwrap_or_else(rand::random);
    let mut rng = rng_from_seed(seed);
    let mut out = roll(&expr, values, options, &mut rng)?;
    out.seed = Some(seed);
    Ok(out)
}

/// The exact distribution of the expression's total.
pub fn odds(expr: &Expr, values: &dyn Resolver, options: &OddsOptions) -> Result<Odds, DiceError> {
    odds::odds(expr, values, options).map_err(|f| f.into_public(&expr.src))
}
