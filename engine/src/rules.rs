//! # A rule set: enabled packs composed over the compendium
//!
//! Packs compose in order (the SRD first, then what a campaign enables, each after its
//! dependencies): a later pack's rule file with the same kind and id *replaces* the earlier one
//! (homebrew overrides a rule), any other file is added, and its data entries and patches are laid
//! over the compendium. The result is immutable and shared by every derivation that uses it.

use crate::compendium::Compendium;
use crate::diagnostic::Diagnostic;
use crate::pack::{DataOp, Pack, RuleFile};
use crate::records::Kind;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The composed rules a derivation runs with.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub packs: Vec<Arc<Pack>>,
    pub compendium: Arc<Compendium>,
    files: Vec<(Arc<Pack>, usize)>,
    pub(crate) core: Vec<usize>,
    pub(crate) by_feature: HashMap<String, Vec<usize>>,
    pub(crate) effects: HashMap<String, usize>,
    pub(crate) conditions: HashMap<String, usize>,
    pub(crate) features: HashMap<String, usize>,
    /// Skills and their abilities, from the compendium (`skills`), read once.
    pub(crate) skills: Arc<Vec<(String, String)>>,
    /// Views and hook outputs per character state (see `derive::collect`); lives as long as
    /// this rule set.
    pub(crate) hook_cache: Arc<Mutex<HashMap<u64, crate::derive::Collected>>>,
    /// One file's hook outputs per input (the file, the view fields it reads, its effect
    /// instance; see `derive::prepare`), shared by every character state with those inputs.
    pub(crate) file_cache: Arc<Mutex<HashMap<u64, Arc<crate::derive::HookOutput>>>>,
}

impl RuleSet {
    /// Composes `packs` (in order) over `base`. Problems with the packs' data (a patch whose
    /// entry does not exist) are returned beside the rule set, which is still usable.
    pub fn new(base: &Compendium, packs: Vec<Arc<Pack>>) -> (RuleSet, Vec<Diagnostic>) {
        let mut errors = Vec::new();
        let mut compendium = base.clone();
        for p in &packs {
            for d in &p.data {
                match d {
                    DataOp::Entry {
                        kind, slug, record, ..
                    } => {
                        compendium.insert(kind.clone(), slug.clone(), record.clone());
                    }
                    DataOp::Patch {
                        kind,
                        slug,
                        patch,
                        file,
                        line,
                    } => {
                        if !compendium.patch(kind, slug, patch) {
                            errors.push(Diagnostic::new(
                                &p.manifest.id,
                                file,
                                *line,
                                1,
                                format!("patch of {kind}/{slug}: no such compendium entry"),
                            ));
                        }
                    }
                }
            }
        }
        let mut files: Vec<(Arc<Pack>, usize)> = Vec::new();
        let mut slot: HashMap<(Kind, String), usize> = HashMap::new();
        for p in &packs {
            for (i, f) in p.files.iter().enumerate() {
                let key = (f.meta.kind, f.meta.id.clone());
                match slot.get(&key) {
                    Some(&at) => files[at] = (p.clone(), i),
                    None => {
                        slot.insert(key, files.len());
                        files.push((p.clone(), i));
                    }
                }
            }
        }
        let mut skills: Vec<(String, String)> = compendium
            .all("skills")
            .filter_map(|(slug, r)| {
                Some((
                    slug.to_string(),
                    r.pointer("/ability_score/index")?.as_str()?.to_string(),
                ))
            })
            .collect();
        if skills.is_empty() {
            skills = crate::derive::FALLBACK_SKILLS
                .iter()
                .map(|(s, a)| (s.to_string(), a.to_string()))
                .collect();
        }
        let mut rs = RuleSet {
            hook_cache: Arc::new(Mutex::new(HashMap::new())),
            file_cache: Arc::new(Mutex::new(HashMap::new())),
            skills: Arc::new(skills),
            packs,
            compendium: Arc::new(compendium),
            files,
            core: Vec::new(),
            by_feature: HashMap::new(),
            effects: HashMap::new(),
            conditions: HashMap::new(),
            features: HashMap::new(),
        };
        for i in 0..rs.files.len() {
            let meta = rs.file(i).meta.clone();
            match meta.kind {
                Kind::Core => rs.core.push(i),
                Kind::Feature => {
                    rs.features.insert(meta.id.clone(), i);
                    for slug in &meta.features {
                        rs.by_feature.entry(slug.clone()).or_default().push(i);
                    }
                }
                Kind::Effect => {
                    rs.effects.insert(meta.id.clone(), i);
                }
                Kind::Condition => {
                    rs.conditions.insert(meta.id.clone(), i);
                }
            }
        }
        (rs, errors)
    }

    /// Forgets every cached view and hook output (they are rebuilt on demand): the next
    /// derivation of any state runs its hooks again. For measurements; derivations never need it.
    pub fn clear_caches(&self) {
        if let Ok(mut c) = self.hook_cache.lock() {
            c.clear();
        }
        if let Ok(mut c) = self.file_cache.lock() {
            c.clear();
        }
    }

    /// The effective rule file at an index.
    pub fn file(&self, i: usize) -> &RuleFile {
        let (p, j) = &self.files[i];
        &p.files[*j]
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// A feature file by its id (what `use_feature` names).
    pub fn feature(&self, id: &str) -> Option<&RuleFile> {
        self.features.get(id).map(|&i| self.file(i))
    }

    /// An effect definition by id.
    pub fn effect(&self, id: &str) -> Option<&RuleFile> {
        self.effects.get(id).map(|&i| self.file(i))
    }

    /// A condition definition by id.
    pub fn condition(&self, id: &str) -> Option<&RuleFile> {
        self.conditions.get(id).map(|&i| self.file(i))
    }
}
