//! What a verifier knows about the evidence file a court holds: its size, SM3 and SHA-256, and
//! the SM3 of the byte ranges a recording's segments name, all computed in one streaming pass
//! (the browser's Web Worker feeds the same [`MediaHasher`] chunk by chunk).

use sm3::Digest as _;

use crate::hash::{ContentDigests, DualHasher, Hash32};

/// The digests of an evidence file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaEvidence {
    /// Size, SM3 and SHA-256 of the whole file.
    pub digests: ContentDigests,
    /// `(offset, bytes, SM3 of those bytes)` for each range asked for; `None` where the file
    /// ends before the range does.
    pub ranges: Vec<(u64, u64, Option<Hash32>)>,
}

impl MediaEvidence {
    /// Digests of a file without range hashes.
    pub fn whole(digests: ContentDigests) -> Self {
        Self {
            digests,
            ranges: Vec::new(),
        }
    }

    /// The SM3 of the file's bytes `[offset, offset + bytes)`, if it was hashed and the file
    /// holds them.
    pub fn range_sm3(&self, offset: u64, bytes: u64) -> Option<Option<Hash32>> {
        self.ranges
            .iter()
            .find(|(o, b, _)| *o == offset && *b == bytes)
            .map(|(_, _, h)| *h)
    }
}

/// One pass over a file: the whole-file digests plus SM3 of given byte ranges.
#[derive(Debug, Clone)]
pub struct MediaHasher {
    whole: DualHasher,
    /// `(offset, bytes, running SM3, bytes fed)`, sorted by offset.
    ranges: Vec<(u64, u64, sm3::Sm3, u64)>,
}

impl MediaHasher {
    /// A hasher that will also hash each `(offset, bytes)` range (the segments of a manifest:
    /// see [`segment_ranges`]).
    pub fn new(ranges: &[(u64, u64)]) -> Self {
        let mut r: Vec<(u64, u64, sm3::Sm3, u64)> = ranges
            .iter()
            .map(|(o, b)| (*o, *b, sm3::Sm3::new(), 0))
            .collect();
        r.sort_by_key(|x| (x.0, x.1));
        r.dedup_by_key(|x| (x.0, x.1));
        Self {
            whole: DualHasher::new(),
            ranges: r,
        }
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, data: &[u8]) {
        let start = self.whole.bytes();
        let end = start.saturating_add(data.len() as u64);
        for (offset, bytes, h, fed) in &mut self.ranges {
            let r_end = offset.saturating_add(*bytes);
            let from = start.max(*offset);
            let to = end.min(r_end);
            if from < to {
                let a = usize::try_from(from - start).unwrap_or(usize::MAX);
                let b = usize::try_from(to - start).unwrap_or(usize::MAX);
                if let Some(part) = data.get(a..b) {
                    h.update(part);
                    *fed = fed.saturating_add(part.len() as u64);
                }
            }
        }
        self.whole.update(data);
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.whole.bytes()
    }

    /// The digests.
    pub fn finalize(self) -> MediaEvidence {
        MediaEvidence {
            digests: self.whole.finalize(),
            ranges: self
                .ranges
                .into_iter()
                .map(|(o, b, h, fed)| (o, b, (fed == b).then(|| Hash32(h.finalize().into()))))
                .collect(),
        }
    }
}

/// The byte ranges of every recording segment of a manifest's items.
pub fn segment_ranges(manifest: &crate::manifest::Manifest) -> Vec<(u64, u64)> {
    manifest
        .items
        .iter()
        .filter_map(|i| i.recording.as_ref())
        .flat_map(|r| r.segments.iter().map(|s| (s.offset, s.bytes)))
        .collect()
}

/// Hashes everything `reader` yields, with the ranges, in one pass.
pub fn hash_media<R: std::io::Read>(
    mut reader: R,
    ranges: &[(u64, u64)],
    mut progress: impl FnMut(u64),
) -> std::io::Result<MediaEvidence> {
    let mut h = MediaHasher::new(ranges);
    let mut buf = vec![0u8; crate::hash::READ_BUFFER_BYTES];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(buf.get(..n).unwrap_or_default());
        progress(h.bytes());
    }
    Ok(h.finalize())
}

/// One file a document lists, as rules `media.item`, `media.sha256` and `media.bytes` compare
/// a file with it.
pub(super) struct Listed<'a> {
    /// Its index in the manifest.
    pub index: usize,
    /// How a report names it (the file name, or the item number).
    pub label: String,
    /// Its size.
    pub bytes: u64,
    /// Its digests.
    pub hashes: &'a [crate::wire::ContentHash],
}

/// Rules `media.item`, `media.sha256` and `media.bytes`: the position in `listed` of the file
/// `media` is (by SM3), its SHA-256 and size compared; `None` if it is none of them. `what`
/// names the document in a failure ("this proof", "this certificate").
pub(super) fn match_file(
    listed: &[Listed<'_>],
    media: &MediaEvidence,
    what: &str,
    r: &mut super::report::Report,
) -> Option<usize> {
    use crate::HashAlgorithm;
    let d = &media.digests;
    let digest = |l: &Listed<'_>, a: HashAlgorithm| {
        l.hashes.iter().find(|h| h.algorithm == a).map(|h| h.value)
    };
    let Some(position) = listed
        .iter()
        .position(|l| digest(l, HashAlgorithm::Sm3) == Some(d.sm3))
    else {
        r.record(
            "media.item",
            Err(format!(
                "the file's SM3 {} is not the SM3 of any file of {what}: it is not the evidence {what} names",
                d.sm3
            )),
        );
        for rule in ["media.sha256", "media.bytes"] {
            r.skip(rule, "the file matches no item");
        }
        return None;
    };
    let item = listed.get(position)?;
    r.record(
        "media.item",
        Ok(format!(
            "the file is item {} ({}) by SM3 {}",
            item.index, item.label, d.sm3
        )),
    );
    r.record(
        "media.sha256",
        match digest(item, HashAlgorithm::Sha256) {
            Some(h) if h == d.sha256 => Ok(format!("SHA-256 {h}")),
            Some(h) => Err(format!(
                "the file's SHA-256 is {}, the item's {h}",
                d.sha256
            )),
            None => Err("the item has no SHA-256 digest".into()),
        },
    );
    r.record(
        "media.bytes",
        if item.bytes == d.bytes {
            Ok(format!("{} bytes", d.bytes))
        } else {
            Err(format!(
                "the file has {} bytes, the item {}",
                d.bytes, item.bytes
            ))
        },
    );
    Some(position)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_under_every_split() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let ranges = [(0, 10), (10, 500), (510, 490), (900, 200)];
        for split in [0, 1, 9, 10, 11, 509, 510, 999, 1000] {
            let mut h = MediaHasher::new(&ranges);
            h.update(&data[..split]);
            h.update(&data[split..]);
            let e = h.finalize();
            assert_eq!(e.digests.sm3, Hash32::sm3(&data));
            assert_eq!(e.range_sm3(0, 10), Some(Some(Hash32::sm3(&data[..10]))));
            assert_eq!(
                e.range_sm3(10, 500),
                Some(Some(Hash32::sm3(&data[10..510])))
            );
            assert_eq!(e.range_sm3(510, 490), Some(Some(Hash32::sm3(&data[510..]))));
            assert_eq!(e.range_sm3(900, 200), Some(None), "beyond the end");
            assert_eq!(e.range_sm3(1, 1), None, "not asked for");
        }
    }
}
