//! Integration tests: the real `frontline` binary on real files, in one
//! test binary with topical modules (as ripgrep does).

mod article_facets;
mod cli;
mod hostile;
mod inspection;
mod query_features;
mod rebuild;
mod relevance;
mod sample;
mod util;
