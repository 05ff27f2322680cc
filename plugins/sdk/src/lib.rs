//! # grimoire-plugin: rule-pack plugins for Grimoire in Rust
//!
//! A plugin is one rule file compiled to WebAssembly: the same hooks as a Rhai file (`meta`,
//! `modifiers`, `resources`, `choices`, `activate`), the same read-only view of the character, the
//! same records out. This crate hides ABI v1 (`plugins/README.md`): it parses the JSON the host
//! sends into a [`Sheet`], serialises what the hooks return, turns bad input and `Err` results
//! into `{"error": …}` answers, and exports `gr_abi_version`, `gr_alloc` and one `gr_<hook>` per
//! hook. It builds with Rust 1.63 for `wasm32-unknown-unknown`, and imports nothing but
//! `grimoire.log`.
//!
//! ```
//! use grimoire_plugin::*;
//!
//! fn meta() -> Meta {
//!     Meta::feature("pit-fighter", "Pit Fighter").activation("bonus_action")
//! }
//!
//! fn modifiers(_sheet: &Sheet) -> Vec<Modifier> {
//!     vec![
//!         add("abilities.str.score", 1),
//!         add("damage", "@proficiency_bonus / 2")
//!             .when(json!({ "weapon": ["unarmed-strike", "spiked-gauntlet"] })),
//!     ]
//! }
//!
//! fn resources(_sheet: &Sheet) -> Vec<Resource> {
//!     vec![resource("pit-fighter", 1, &["short_rest", "long_rest"])]
//! }
//!
//! fn activate(sheet: &Sheet, _ctx: &Context) -> Activation {
//!     Activation::new()
//!         .cost("pit-fighter", 1)
//!         .op(temp_hp(format!("1d6 + {}", sheet.level)))
//! }
//!
//! export_hooks!(meta, modifiers, resources, activate);
//!
//! // Natively (tests), the macro's `call_hook` runs a hook on JSON exactly as the host does.
//! let out = call_hook("resources", r#"{"sheet": {"level": 5}}"#);
//! assert_eq!(out, r#"{"ok":[{"id":"pit-fighter","max":1,"recover":["short_rest","long_rest"]}]}"#);
//! ```

pub mod abi;
pub mod log;
pub mod records;
pub mod sheet;

pub use log::{debug, info, warn};
pub use records::*;
pub use serde_json::{self, json, Value};
pub use sheet::*;

/// Exports the plugin's hooks: `export_hooks!(meta, modifiers, resources, activate);`.
///
/// Each name is both a hook and the function in scope that implements it, with the signature
/// the hook needs (`R` is the records, or `Result<records, E>` with a printable `E`):
///
/// | hook | function |
/// |---|---|
/// | `meta` (required) | `fn() -> Meta` |
/// | `modifiers` | `fn(&Sheet) -> Vec<Modifier>`, in effect files `fn(&Sheet, &Effect) -> …` |
/// | `resources` | `fn(&Sheet) -> Vec<Resource>`, in effect files `fn(&Sheet, &Effect) -> …` |
/// | `choices` | `fn(&Sheet) -> Vec<Choice>` |
/// | `activate` | `fn(&Sheet, &Context) -> Activation` |
///
/// On wasm32 it generates `gr_abi_version`, `gr_alloc` and `gr_<hook>` for each name. On every
/// target it defines `pub fn call_hook(hook: &str, input: &str) -> String`, which answers a
/// hook's JSON input with the JSON the host would receive, for the plugin's own tests.
/// A name that is not a hook fails to compile ("cannot find function … in module `abi`").
#[macro_export]
macro_rules! export_hooks {
    ($($hook:ident),+ $(,)?) => {
        /// Runs a hook of this plugin on its JSON input and returns the JSON answer, exactly as
        /// the exported `gr_<hook>` does for the host.
        pub fn call_hook(hook: &str, input: &str) -> String {
            let out = $(if hook == stringify!($hook) {
                $crate::abi::$hook(input.as_bytes(), $hook)
            } else)+ {
                $crate::abi::unknown_hook(hook)
            };
            String::from_utf8(out).expect("serde_json writes UTF-8")
        }

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #[export_name = "gr_abi_version"]
            pub extern "C" fn gr_abi_version() -> i32 {
                $crate::abi::ABI_VERSION
            }

            #[export_name = "gr_alloc"]
            pub extern "C" fn gr_alloc(len: i32) -> i32 {
                $crate::abi::alloc(len)
            }
        };

        $(
            #[cfg(target_arch = "wasm32")]
            const _: () = {
                #[export_name = concat!("gr_", stringify!($hook))]
                pub extern "C" fn export(ptr: i32, len: i32) -> i64 {
                    $crate::abi::serve(stringify!($hook), ptr, len, |input| {
                        $crate::abi::$hook(input, $hook)
                    })
                }
            };
        )+
    };
}
