//! Prepared passages on disk, for the bare engines of `bench-index`.
//!
//! The `prepare` child walks, parses, splits and tags the corpus once
//! (untimed) and writes every passage, with all its field values, into one
//! compact file; the tantivy and FTS5 children then stream that file into
//! their engine inside the timed section. Nothing but one passage is held in
//! memory at a time, so the baselines scale to corpora larger than RAM
//! (7M passages at 1M articles), at the cost of counting the decoding of
//! the file in the baselines' indexing time.
//!
//! Format: a zstd stream (level 1: the file is 1.6× the corpus before
//! compression, as every passage repeats its article's fields; decompression
//! is counted in the baselines' time, about 1 GB/s), whose content is the
//! magic [`MAGIC`], then one record per passage, fields in the
//! order of [`Prepared`]: strings as a `u32` length (little endian) and UTF-8
//! bytes, numbers as little-endian `u64`/`i64`, an option as a byte (zero
//! for none) then the value, a facet list as a `u32` count then each
//! facet's encoded string ([`Facet::encoded_str`]). The file ends after the
//! last record.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use tantivy::schema::Facet;

/// First bytes of a prepared-passages file (format version 1).
pub const MAGIC: &[u8; 8] = b"FLPREP1\n";

const BUFFER: usize = 1 << 20;

/// A passage ready for the bare engines: every field value computed
/// beforehand (tags by frontline's tagger).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prepared {
    pub article_id: String,
    pub article_key: u64,
    pub source_path: String,
    pub title: String,
    pub text: String,
    pub paragraph: u64,
    pub ordinal: u64,
    pub published: Option<i64>,
    pub event_date: Option<i64>,
    pub outlet: Option<String>,
    pub provinces: Vec<Facet>,
    pub mentions: Vec<Facet>,
    pub countries: Vec<Facet>,
    pub groups: Vec<Facet>,
    pub passage_provinces: Vec<Facet>,
    pub passage_groups: Vec<Facet>,
}

/// Writes prepared passages to a file.
pub struct PassageWriter {
    out: BufWriter<zstd::stream::write::Encoder<'static, File>>,
    passages: u64,
}

impl PassageWriter {
    /// Creates (or truncates) `path` and writes the magic.
    pub fn create(path: &Path) -> Result<PassageWriter> {
        let file = File::create(path).with_context(|| format!("create {}", path.display()))?;
        let mut out = BufWriter::with_capacity(BUFFER, zstd::stream::write::Encoder::new(file, 1)?);
        out.write_all(MAGIC)?;
        Ok(PassageWriter { out, passages: 0 })
    }

    /// Appends one passage.
    pub fn write(&mut self, p: &Prepared) -> Result<()> {
        let o = &mut self.out;
        put_str(o, &p.article_id)?;
        o.write_all(&p.article_key.to_le_bytes())?;
        put_str(o, &p.source_path)?;
        put_str(o, &p.title)?;
        put_str(o, &p.text)?;
        o.write_all(&p.paragraph.to_le_bytes())?;
        o.write_all(&p.ordinal.to_le_bytes())?;
        put_opt_i64(o, p.published)?;
        put_opt_i64(o, p.event_date)?;
        match &p.outlet {
            Some(s) => {
                o.write_all(&[1])?;
                put_str(o, s)?;
            }
            None => o.write_all(&[0])?,
        }
        for facets in [
            &p.provinces,
            &p.mentions,
            &p.countries,
            &p.groups,
            &p.passage_provinces,
            &p.passage_groups,
        ] {
            put_len(o, facets.len())?;
            for f in facets {
                put_str(o, f.encoded_str())?;
            }
        }
        self.passages += 1;
        Ok(())
    }

    /// Flushes the file to the OS and returns the number of passages written.
    pub fn finish(self) -> Result<u64> {
        let encoder = self.out.into_inner().map_err(|e| e.into_error())?;
        encoder.finish()?.sync_all()?;
        Ok(self.passages)
    }
}

fn put_len(o: &mut impl Write, n: usize) -> Result<()> {
    let n = u32::try_from(n).context("length over 4 GiB")?;
    o.write_all(&n.to_le_bytes())?;
    Ok(())
}

fn put_str(o: &mut impl Write, s: &str) -> Result<()> {
    put_len(o, s.len())?;
    o.write_all(s.as_bytes())?;
    Ok(())
}

fn put_opt_i64(o: &mut impl Write, v: Option<i64>) -> Result<()> {
    match v {
        Some(v) => {
            o.write_all(&[1])?;
            o.write_all(&v.to_le_bytes())?;
        }
        None => o.write_all(&[0])?,
    }
    Ok(())
}

/// Streams prepared passages from a file, one at a time.
pub struct PassageReader {
    input: BufReader<zstd::stream::read::Decoder<'static, BufReader<File>>>,
    bytes: Vec<u8>,
}

impl PassageReader {
    /// Opens `path` and checks the magic.
    pub fn open(path: &Path) -> Result<PassageReader> {
        let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
        let mut input = BufReader::with_capacity(BUFFER, zstd::stream::read::Decoder::new(file)?);
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic)?;
        if &magic != MAGIC {
            bail!("{} is not a prepared-passages file", path.display());
        }
        Ok(PassageReader {
            input,
            bytes: Vec::new(),
        })
    }

    /// Reads the next passage into `p` (its buffers are reused). Returns
    /// `false` at the end of the file.
    pub fn next_into(&mut self, p: &mut Prepared) -> Result<bool> {
        let mut len = [0u8; 4];
        match self.input.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        self.read_str_of(u32::from_le_bytes(len), Target::ArticleId, p)?;
        p.article_key = self.u64()?;
        self.read_str(Target::SourcePath, p)?;
        self.read_str(Target::Title, p)?;
        self.read_str(Target::Text, p)?;
        p.paragraph = self.u64()?;
        p.ordinal = self.u64()?;
        p.published = self.opt_i64()?;
        p.event_date = self.opt_i64()?;
        if self.byte()? == 1 {
            let n = self.u32()?;
            let s = self.string(n)?;
            p.outlet = Some(s);
        } else {
            p.outlet = None;
        }
        for k in 0..6 {
            let n = self.u32()? as usize;
            let mut facets = Vec::with_capacity(n);
            for _ in 0..n {
                let len = self.u32()?;
                let s = self.string(len)?;
                facets.push(Facet::from_encoded(s.into_bytes())?);
            }
            *match k {
                0 => &mut p.provinces,
                1 => &mut p.mentions,
                2 => &mut p.countries,
                3 => &mut p.groups,
                4 => &mut p.passage_provinces,
                _ => &mut p.passage_groups,
            } = facets;
        }
        Ok(true)
    }

    fn read_str(&mut self, target: Target, p: &mut Prepared) -> Result<()> {
        let n = self.u32()?;
        self.read_str_of(n, target, p)
    }

    /// Reads `n` bytes of UTF-8 into the field's existing buffer.
    fn read_str_of(&mut self, n: u32, target: Target, p: &mut Prepared) -> Result<()> {
        self.bytes.resize(n as usize, 0);
        self.input.read_exact(&mut self.bytes)?;
        let s = std::str::from_utf8(&self.bytes).context("prepared passage: bad UTF-8")?;
        let field = match target {
            Target::ArticleId => &mut p.article_id,
            Target::SourcePath => &mut p.source_path,
            Target::Title => &mut p.title,
            Target::Text => &mut p.text,
        };
        field.clear();
        field.push_str(s);
        Ok(())
    }

    fn string(&mut self, n: u32) -> Result<String> {
        let mut buf = vec![0u8; n as usize];
        self.input.read_exact(&mut buf)?;
        String::from_utf8(buf).context("prepared passage: bad UTF-8")
    }

    fn byte(&mut self) -> Result<u8> {
        let mut b = [0u8; 1];
        self.input.read_exact(&mut b)?;
        Ok(b[0])
    }

    fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        self.input.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        self.input.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn opt_i64(&mut self) -> Result<Option<i64>> {
        if self.byte()? == 0 {
            return Ok(None);
        }
        let mut b = [0u8; 8];
        self.input.read_exact(&mut b)?;
        Ok(Some(i64::from_le_bytes(b)))
    }
}

#[derive(Clone, Copy)]
enum Target {
    ArticleId,
    SourcePath,
    Title,
    Text,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("fl-prep-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("p.bin");
        let a = Prepared {
            article_id: "a1".into(),
            article_key: 42,
            source_path: "2024/01/x.txt".into(),
            title: "Tïtle".into(),
            text: "Some text, with ünïcode.".into(),
            paragraph: 3,
            ordinal: 1,
            published: Some(-5),
            event_date: None,
            outlet: Some("Wire".into()),
            provinces: vec![Facet::from_path(["Syria", "Idlib"])],
            mentions: vec![],
            countries: vec![Facet::from_path(["Syria"]), Facet::from_path(["a/b"])],
            groups: vec![Facet::from_path(["Hay'at Tahrir al-Sham"])],
            passage_provinces: vec![],
            passage_groups: vec![Facet::from_path(["x"])],
        };
        let b = Prepared {
            article_id: "b".into(),
            outlet: None,
            published: None,
            event_date: Some(7),
            ..Prepared::default()
        };
        let mut w = PassageWriter::create(&path)?;
        w.write(&a)?;
        w.write(&b)?;
        assert_eq!(w.finish()?, 2);
        let mut r = PassageReader::open(&path)?;
        let mut p = Prepared::default();
        assert!(r.next_into(&mut p)?);
        assert_eq!(p, a);
        assert!(r.next_into(&mut p)?);
        assert_eq!(p, b);
        assert!(!r.next_into(&mut p)?);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
