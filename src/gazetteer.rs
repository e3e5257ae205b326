//! The gazetteer: provinces, places, countries and armed groups.
//!
//! Interface fixed by the architecture; the implementation is in progress.

use serde::{Deserialize, Serialize};

/// A first-level administrative division and its country, e.g. Syria/Idlib.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Province {
    /// The country's common English name (`Syria`).
    pub country: String,
    /// The province's canonical name (`Idlib`).
    pub name: String,
}

impl Province {
    /// The tantivy facet for this province: `/Syria/Idlib`.
    pub fn facet(&self) -> tantivy::schema::Facet {
        tantivy::schema::Facet::from_path([self.country.as_str(), self.name.as_str()])
    }
}

impl std::fmt::Display for Province {
    /// `Country/Province`, the form used in JSON output and filters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.country, self.name)
    }
}
