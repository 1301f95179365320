//! The signature scan: one multi-pattern pass over a content for the magic bytes of every
//! registered format, yielding candidate structure starts.
//!
//! The search is leftmost-first (so it keeps the matcher's SIMD prefilter) and restarts one byte
//! after each match, so overlapping magics are all found; magics that are prefixes of one another
//! are checked together at each match position.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

use crate::format::Format;

/// A candidate: a format whose magic was seen so that its structure would start at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    /// Offset of the structure's start in the content.
    pub start: usize,
    /// Index of the format in the registry.
    pub format: usize,
}

/// A compiled signature scanner for a set of formats.
#[derive(Debug)]
pub struct Scanner {
    matcher: AhoCorasick,
    magics: Vec<Vec<u8>>,
    /// Per distinct magic: the (format index, offset of the magic in the structure) that use it.
    owners: Vec<Vec<(usize, usize)>>,
    /// Per distinct magic: every magic that is a prefix of it or that it is a prefix of.
    related: Vec<Vec<usize>>,
    anchored: Vec<bool>,
}

impl Scanner {
    /// Compiles the magics of `formats`.
    pub fn new(formats: &[&dyn Format]) -> Result<Scanner, String> {
        let mut magics: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<(usize, usize)>> = Vec::new();
        for (fi, f) in formats.iter().enumerate() {
            for m in f.magics() {
                let i = match magics.iter().position(|x| x.as_slice() == m.bytes) {
                    Some(i) => i,
                    None => {
                        magics.push(m.bytes.to_vec());
                        owners.push(Vec::new());
                        magics.len() - 1
                    }
                };
                owners[i].push((fi, m.at));
            }
        }
        let related = magics
            .iter()
            .map(|a| {
                magics
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| a.starts_with(b) || b.starts_with(a))
                    .map(|(j, _)| j)
                    .collect()
            })
            .collect();
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&magics)
            .map_err(|e| format!("can not compile the format signatures: {e}"))?;
        Ok(Scanner {
            matcher,
            magics,
            owners,
            related,
            anchored: formats.iter().map(|f| f.anchored()).collect(),
        })
    }

    /// Every candidate in `data`, sorted by start; at most `max` of them (the second value says
    /// whether the list was cut).
    pub fn candidates(&self, data: &[u8], max: usize) -> (Vec<Candidate>, bool) {
        let mut out = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let Some(m) = self.matcher.find(Input::new(data).range(at..)) else {
                break;
            };
            let s = m.start();
            for &q in self
                .related
                .get(m.pattern().as_usize())
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let Some(magic) = self.magics.get(q) else { continue };
                if !data.get(s..).is_some_and(|rest| rest.starts_with(magic)) {
                    continue;
                }
                for &(format, offset) in self.owners.get(q).map(Vec::as_slice).unwrap_or_default() {
                    let Some(start) = s.checked_sub(offset) else {
                        continue;
                    };
                    if start != 0 && self.anchored.get(format).copied().unwrap_or(true) {
                        continue;
                    }
                    out.push(Candidate { start, format });
                }
            }
            if out.len() >= max {
                out.sort_unstable();
                out.dedup();
                out.truncate(max);
                return (out, true);
            }
            at = s + 1;
        }
        out.sort_unstable();
        out.dedup();
        (out, false)
    }
}
