//! Tagging: which provinces, armed groups and dates an article is about.
//!
//! Interface fixed by the architecture; the implementation is in progress.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::gazetteer::Province;

/// The rule that produced a tag, shown by `frontline explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A province named explicitly ("Idlib province", "in Idlib").
    ExplicitProvince,
    /// A place from the gazetteer resolved to its province.
    PlaceToProvince,
    /// A place learned from the corpus resolved to its province.
    LearnedPlace,
    /// A country named on its own.
    ExplicitCountry,
    /// A group alias resolved to its canonical name.
    AliasToGroup,
    /// The publication date from the header or metadata.
    PublicationDate,
    /// A weekday ("on Wednesday") resolved against the publication date.
    Weekday,
    /// A relative or month expression ("last month", "in July").
    RelativeDate,
    /// An explicit calendar date in the text.
    ExplicitDate,
}

/// What a tag says: a province, a country, a group or a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum TagValue {
    /// An event province.
    Province(Province),
    /// A province named only as background.
    Mention(Province),
    /// A country (ISO-style common English name).
    Country(String),
    /// An armed group's canonical name.
    Group(String),
    /// The event date.
    EventDate(NaiveDate),
}

/// One tag with the text that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The tag.
    pub tag: TagValue,
    /// The rule used.
    pub rule: Rule,
    /// Ordinal of the paragraph holding the span.
    pub paragraph: u32,
    /// Byte range of the span inside that paragraph's text.
    pub span: (usize, usize),
    /// The span's text.
    pub text: String,
}

/// The tags of a whole article.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleTags {
    /// Event provinces: where the reported events happen. Sorted, unique.
    pub provinces: Vec<Province>,
    /// Every province the article names, events and background. Sorted, unique.
    pub mentions: Vec<Province>,
    /// Countries, from the provinces and from explicit country names.
    pub countries: Vec<String>,
    /// Canonical group names. Sorted, unique.
    pub groups: Vec<String>,
    /// The resolved event date, when the text gives one.
    pub event_date: Option<NaiveDate>,
    /// Every tag with its span and rule.
    pub evidence: Vec<Evidence>,
}

/// The tags a passage carries itself, from the paragraphs it covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassageTags {
    /// Provinces the passage names itself.
    pub provinces: Vec<Province>,
    /// Groups the passage names itself.
    pub groups: Vec<String>,
}
