//! frontline: full-text search for conflict reporting.
//!
//! The data flow, one module per step:
//!
//! 1. [`corpus`] walks a directory and reads files (plain text, JSON, JSON
//!    Lines, gzip-compressed or not);
//! 2. [`article`] parses each file into [`Article`]s;
//! 3. [`passage`] splits an article's paragraphs into passages;
//! 4. [`tagging`] finds provinces, armed groups and event dates, using the
//!    [`gazetteer`] data from `index-schema/`;
//! 5. [`schema`] maps tagged passages to tantivy documents, and [`indexer`]
//!    writes them into a generation of the index;
//! 6. [`search`] turns a [`Query`] into filters and ranked, highlighted
//!    [`Hit`]s; [`facets`] counts articles per province, group, country or
//!    month.
#![deny(missing_docs)]

pub mod article;
pub mod corpus;
pub mod dates;
pub mod error;
pub mod eval;
mod exclusion;
pub mod facets;
mod failpoint;
pub mod gazetteer;
pub mod generation;
mod index;
pub mod indexer;
pub mod passage;
mod rank;
pub mod schema;
pub mod search;
pub mod similar;
pub mod stemmer;
pub mod stories;
pub mod tagging;
pub mod tokenizer;

pub use article::{Article, ArticleId, Paragraph};
pub use error::{Error, Result};
pub use facets::{FacetCount, FacetCounts, FacetField, Interval};
pub use gazetteer::{Gazetteer, Province};
pub use generation::GenerationId;
pub use index::{CheckReport, Explanation, Index, Stats};
pub use indexer::{BuildMode, BuildOptions, BuildSummary, Progress};
pub use search::{DateField, FuzzyNote, Hit, Query, Ranking, SearchResults, Sort, TotalHits};
pub use similar::{Similar, SimilarResults};
