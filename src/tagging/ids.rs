//! An article's tags as indexes into the gazetteer.
//!
//! [`ArticleTags`] spells every tag out: each province of its evidence is
//! two `String`s, each span's text a third. Indexing needs none of that:
//! only which provinces, groups and countries, and which paragraphs name
//! them, to build facets it can take from a per-gazetteer cache. Making and
//! dropping those strings was about 3% of tagging's instructions (a
//! `String` per evidence span alone), so the tagger produces [`IdTags`]
//! and [`Tagger::tag`](super::Tagger::tag) spells them out for the callers
//! that want text (`explain`, `eval`, the library's users).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::{ArticleTags, Evidence, Rule, TagValue};
use crate::gazetteer::{Gazetteer, Province};

/// A tag by gazetteer index: [`TagValue`] without its strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagId {
    /// An event province: an index into [`Gazetteer::provinces`].
    Province(u32),
    /// A province named only as background.
    Mention(u32),
    /// A country: an index into [`Gazetteer::countries`].
    Country(u32),
    /// A group: an index into [`Gazetteer::groups`].
    Group(u32),
}

/// One tag with the span that produced it: [`Evidence`] without its
/// strings (`text` borrows the article's paragraph).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdEvidence<'a> {
    pub tag: TagId,
    pub rule: Rule,
    pub paragraph: u32,
    pub span: (usize, usize),
    pub text: &'a str,
    /// Named in a sentence about another time.
    pub background: bool,
    /// Preceded by a preposition of place ("in Sudan").
    pub located: bool,
}

/// An article's tags as indexes into its gazetteer, in the same order as
/// the [`ArticleTags`] they spell ([`IdTags::to_article_tags`]).
///
/// ```
/// use frontline::{article::parse_text, tagging::Tagger, Gazetteer};
/// let g = Gazetteer::load(None).unwrap();
/// let tagger = Tagger::new(&g).unwrap();
/// let a = &parse_text("a.txt", " date 2025-08-21 ISIS fighters attacked a checkpoint near Maiduguri on Wednesday.\n").unwrap().articles[0];
/// let tags = tagger.tag_ids(a);
/// let idx = tags.province_ids()[0] as usize;
/// assert_eq!(g.provinces()[idx].province.to_string(), "Nigeria/Borno");
/// assert_eq!(tags.to_article_tags(), tagger.tag(a));
/// ```
#[derive(Debug, Clone)]
pub struct IdTags<'a> {
    g: &'a Gazetteer,
    provinces: Vec<u32>,
    mentions: Vec<u32>,
    countries: Vec<&'a str>,
    groups: Vec<u32>,
    event_date: Option<NaiveDate>,
    evidence: Vec<IdEvidence<'a>>,
    /// The event date's evidence, which comes last.
    date: Option<Evidence>,
}

impl<'a> IdTags<'a> {
    /// Aggregates an article's evidence, in text order, as
    /// [`ArticleTags`] does: groups and countries named only as
    /// background do not count, nor countries not named as a place of
    /// events; a background province is a mention unless also an event
    /// province; event provinces add their countries.
    pub(crate) fn aggregate(g: &'a Gazetteer, evidence: Vec<IdEvidence<'a>>) -> IdTags<'a> {
        // Keyed by value so that the order (and the dedup) is the strings'
        // as in `ArticleTags`.
        let mut events: BTreeMap<&'a Province, u32> = BTreeMap::new();
        let mut mentions: BTreeMap<&'a Province, u32> = BTreeMap::new();
        let mut groups: BTreeMap<&'a str, u32> = BTreeMap::new();
        let mut countries: BTreeSet<&'a str> = BTreeSet::new();
        for e in &evidence {
            match e.tag {
                TagId::Province(id) => {
                    events.entry(province(g, id)).or_insert(id);
                }
                TagId::Mention(id) => {
                    mentions.entry(province(g, id)).or_insert(id);
                }
                TagId::Group(id) if !e.background => {
                    groups.entry(group(g, id)).or_insert(id);
                }
                TagId::Country(id) if !e.background && e.located => {
                    countries.insert(country(g, id));
                }
                _ => {}
            }
        }
        countries.extend(events.keys().map(|p| p.country.as_str()));
        IdTags {
            g,
            mentions: mentions
                .into_iter()
                .filter(|(p, _)| !events.contains_key(p))
                .map(|(_, id)| id)
                .collect(),
            provinces: events.into_values().collect(),
            countries: countries.into_iter().collect(),
            groups: groups.into_values().collect(),
            event_date: None,
            evidence,
            date: None,
        }
    }

    /// Sets the event date and its evidence (which comes after the rest).
    pub(crate) fn set_event_date(&mut self, date: NaiveDate, evidence: Evidence) {
        self.event_date = Some(date);
        self.date = Some(evidence);
    }

    /// Event provinces, as indexes into [`Gazetteer::provinces`], in the
    /// order of [`ArticleTags::provinces`].
    pub fn province_ids(&self) -> &[u32] {
        &self.provinces
    }

    /// Background provinces (see [`ArticleTags::mentions`]), as indexes
    /// into [`Gazetteer::provinces`].
    pub fn mention_ids(&self) -> &[u32] {
        &self.mentions
    }

    /// Country names, as [`ArticleTags::countries`] holds them.
    pub fn countries(&self) -> &[&'a str] {
        &self.countries
    }

    /// Groups, as indexes into [`Gazetteer::groups`], in the order of
    /// [`ArticleTags::groups`].
    pub fn group_ids(&self) -> &[u32] {
        &self.groups
    }

    /// The event date, when the text gives one.
    pub fn event_date(&self) -> Option<NaiveDate> {
        self.event_date
    }

    /// The provinces and groups that paragraphs `first..=last` name, as
    /// events or background, as indexes: what
    /// [`ArticleTags::passage_tags`] gives, in the same order.
    pub fn passage_ids(&self, first: u32, last: u32) -> (Vec<u32>, Vec<u32>) {
        let mut provinces: Vec<u32> = Vec::new();
        let mut groups: Vec<u32> = Vec::new();
        for e in self
            .evidence
            .iter()
            .filter(|e| (first..=last).contains(&e.paragraph))
        {
            match e.tag {
                TagId::Province(id) | TagId::Mention(id) => provinces.push(id),
                TagId::Group(id) => groups.push(id),
                TagId::Country(_) => {}
            }
        }
        // Ordered by name, each name once with the id seen first (a
        // stable sort keeps the order of ids whose names are equal): what a
        // map keyed by name gives, without its nodes (a passage names a
        // handful at most, so the sort is an insertion sort).
        let g = self.g;
        provinces.sort_by(|&a, &b| province(g, a).cmp(province(g, b)));
        provinces.dedup_by(|a, b| province(g, *a) == province(g, *b));
        groups.sort_by(|&a, &b| group(g, a).cmp(group(g, b)));
        groups.dedup_by(|a, b| group(g, *a) == group(g, *b));
        (provinces, groups)
    }

    /// The same tags spelled out, with every span's text.
    pub fn to_article_tags(&self) -> ArticleTags {
        let g = self.g;
        let provinces = |ids: &[u32]| ids.iter().map(|&id| province(g, id).clone()).collect();
        let mut evidence: Vec<Evidence> = self
            .evidence
            .iter()
            .map(|e| Evidence {
                tag: match e.tag {
                    TagId::Province(id) => TagValue::Province(province(g, id).clone()),
                    TagId::Mention(id) => TagValue::Mention(province(g, id).clone()),
                    TagId::Country(id) => TagValue::Country(country(g, id).to_string()),
                    TagId::Group(id) => TagValue::Group(group(g, id).to_string()),
                },
                rule: e.rule,
                paragraph: e.paragraph,
                span: e.span,
                text: e.text.to_string(),
            })
            .collect();
        evidence.extend(self.date.clone());
        ArticleTags {
            provinces: provinces(&self.provinces),
            mentions: provinces(&self.mentions),
            countries: self.countries.iter().map(|c| c.to_string()).collect(),
            groups: self
                .groups
                .iter()
                .map(|&id| group(g, id).to_string())
                .collect(),
            event_date: self.event_date,
            evidence,
        }
    }
}

// The tagger makes ids only from the gazetteer's own tables, so they are
// in range; the fallbacks keep a mistake from panicking on user input.

fn province(g: &Gazetteer, id: u32) -> &Province {
    static NONE: std::sync::LazyLock<Province> = std::sync::LazyLock::new(|| Province {
        country: String::new(),
        name: String::new(),
    });
    g.provinces()
        .get(id as usize)
        .map_or(&*NONE, |p| &p.province)
}

fn group(g: &Gazetteer, id: u32) -> &str {
    g.groups().get(id as usize).map_or("", |e| e.name.as_str())
}

fn country(g: &Gazetteer, id: u32) -> &str {
    g.countries()
        .get(id as usize)
        .map_or("", |c| c.name.as_str())
}

#[cfg(test)]
mod tests {
    use crate::corpus::{self, WalkOptions};
    use crate::tagging::{ArticleTags, Tagger};
    use crate::Gazetteer;

    /// What indexing writes (the ids, through the gazetteer) is what
    /// `ArticleTags` says, for every article of the sample and tuning
    /// corpora: the article's provinces, mentions and groups, and the tags
    /// of every paragraph range a passage may cover.
    #[test]
    fn ids_spell_the_article_tags() {
        let g = Gazetteer::load(None).unwrap();
        let tagger = Tagger::new(&g).unwrap();
        let root = env!("CARGO_MANIFEST_DIR");
        let mut checked = 0;
        for dir in ["sample-corpus", "tests/data/tuning-corpus"] {
            let (files, _) = corpus::walk(
                std::path::Path::new(&format!("{root}/{dir}")),
                &WalkOptions::default(),
            )
            .unwrap();
            for f in &files {
                let bytes = corpus::read(f).unwrap();
                for a in &corpus::parse(f, &bytes).articles {
                    let ids = tagger.tag_ids(a);
                    let tags: ArticleTags = tagger.tag(a);
                    let province = |&id: &u32| g.provinces()[id as usize].province.clone();
                    let group = |&id: &u32| g.groups()[id as usize].name.clone();
                    let provinces: Vec<_> = ids.province_ids().iter().map(province).collect();
                    let mentions: Vec<_> = ids.mention_ids().iter().map(province).collect();
                    let groups: Vec<_> = ids.group_ids().iter().map(group).collect();
                    assert_eq!(provinces, tags.provinces, "{}", a.id);
                    assert_eq!(mentions, tags.mentions, "{}", a.id);
                    assert_eq!(groups, tags.groups, "{}", a.id);
                    assert_eq!(ids.countries(), tags.countries, "{}", a.id);
                    let n = a.paragraphs.len() as u32;
                    for first in 0..n {
                        for last in first..n.min(first + 3) {
                            let (p, gr) = ids.passage_ids(first, last);
                            let own = tags.passage_tags(first, last);
                            let p: Vec<_> = p.iter().map(province).collect();
                            let gr: Vec<_> = gr.iter().map(group).collect();
                            assert_eq!(p, own.provinces, "{} {first}..={last}", a.id);
                            assert_eq!(gr, own.groups, "{} {first}..={last}", a.id);
                        }
                    }
                    checked += usize::from(!tags.evidence.is_empty());
                }
            }
        }
        assert!(checked > 50, "only {checked} tagged articles checked");
    }
}
