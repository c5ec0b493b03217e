//! Streaming capture: segments and their chain, and a recording cut off part-way (as
//! `tests/corpus/video/street_interrupted.mp4` is, the first 60 % of `street_8s_720p.mp4`)
//! still yields a verifiable proof of everything up to its last closed segment.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tiezheng_protocol::manifest::{CaseRecord, Origin, PartyRecord};
use tiezheng_protocol::{Hash32, Proof, Timestamp, canonical};
use tiezheng_sdk::capture::{CaptureContext, Clock, SegmentPolicy, chain_link};
use tiezheng_sdk::device::{Device, DeviceSetup, UnlockedDevice};
use tiezheng_sdk::queue::Queue;
use tiezheng_sdk::vault::PassphraseVault;

fn corpus(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/corpus")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn device(dir: &std::path::Path) -> UnlockedDevice {
    let vault = PassphraseVault::new("1234").danger_with_iterations(10);
    let setup = DeviceSetup {
        profile: None,
        officers: vec!["010001".into(), "010002".into()],
        model: "test".into(),
        os: "linux".into(),
    };
    Device::init(dir, setup, &vault)
        .unwrap()
        .unlock(&vault)
        .unwrap()
}

fn ctx() -> CaptureContext {
    CaptureContext {
        profile: None,
        reasons: Default::default(),
        case: CaseRecord {
            reference: "V-1".into(),
            cause: None,
            object: None,
            description: None,
            method: "test".into(),
            collectors: vec!["010001".into(), "010002".into()],
            holder: None,
            witness: Some(PartyRecord {
                name: Some("W".into()),
                note: None,
            }),
        },
        device_time: Timestamp::parse("2026-03-14T17:26:53.000+08:00").unwrap(),
        monotonic_ms: Some(1),
        gnss_time: None,
        last_time_sync: None,
        os_fix: None,
    }
}

/// A clock the test moves by hand.
struct ManualClock(Arc<AtomicU64>);
impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn check_segments(proof: &Proof, file: &[u8]) {
    let rec = proof.manifest.items[0].recording.as_ref().unwrap();
    let mut chain = Hash32([0; 32]);
    let mut offset = 0;
    for (i, s) in rec.segments.iter().enumerate() {
        assert_eq!((s.index, s.offset), (i as u64, offset));
        let slice = &file[s.offset as usize..(s.offset + s.bytes) as usize];
        assert_eq!(s.sm3, Hash32::sm3(slice), "segment {i}");
        chain = chain_link(&chain, s.index, s.offset, s.bytes, &s.sm3);
        assert_eq!(s.chain, chain, "chain at segment {i}");
        offset += s.bytes;
    }
}

#[test]
fn segments_close_by_size_and_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let dev = device(dir.path());
    let video = corpus("video/street_8s_720p.mp4");
    let now = Arc::new(AtomicU64::new(0));
    let policy = SegmentPolicy {
        max_bytes: 1_000_000,
        max_ms: 250,
    };
    let mut rec = dev
        .start_recording(
            "street.mp4",
            policy,
            &ctx(),
            Box::new(ManualClock(now.clone())),
        )
        .unwrap();
    for (i, chunk) in video.chunks(100_000).enumerate() {
        now.store(i as u64 * 100, Ordering::SeqCst); // 100 ms of encoder output per chunk
        rec.write(chunk).unwrap();
    }
    let outcome = rec.finish().unwrap();
    let proof = &outcome.proof;
    let item = &proof.manifest.items[0];
    assert_eq!(item.bytes, video.len() as u64);
    assert_eq!(item.hashes[0].value, Hash32::sm3(&video));
    assert_eq!(item.origin, Origin::Captured);
    let r = item.recording.as_ref().unwrap();
    assert!(!r.interrupted && !r.truncated);
    assert!(r.segments.iter().all(|s| s.bytes <= policy.max_bytes));
    assert!(
        r.segments
            .iter()
            .any(|s| s.bytes < policy.max_bytes && s.index + 1 < r.segments.len() as u64),
        "some segments closed by time"
    );
    check_segments(proof, &video);
    // The stored original is byte-identical, and the proof verifies through its wire shape.
    assert_eq!(std::fs::read(outcome.media_path.unwrap()).unwrap(), video);
    Proof::verify_bytes(&canonical::to_canonical_bytes(proof).unwrap()).unwrap();
}

#[test]
fn interrupted_recording_is_provable_up_to_its_last_segment() {
    let dir = tempfile::tempdir().unwrap();
    let dev = device(dir.path());
    let full = corpus("video/street_8s_720p.mp4");
    let cut = corpus("video/street_interrupted.mp4");
    assert_eq!(
        &full[..cut.len()],
        &cut[..],
        "the corpus' interrupted file is a prefix of the full one"
    );

    let policy = SegmentPolicy {
        max_bytes: 300_000,
        max_ms: 3_600_000,
    };
    let mut rec = dev
        .start_recording(
            "street.mp4",
            policy,
            &ctx(),
            Box::new(ManualClock(Arc::new(AtomicU64::new(0)))),
        )
        .unwrap();
    for chunk in cut.chunks(65_536) {
        rec.write(chunk).unwrap();
    }
    // The battery dies: no finish(), no abort().
    drop(rec);

    let recovered = dev.recover_recordings().unwrap();
    assert_eq!(recovered.len(), 1);
    let proof = &recovered[0].proof;
    let item = &proof.manifest.items[0];
    let proven = (cut.len() as u64 / policy.max_bytes) * policy.max_bytes;
    assert_eq!(item.bytes, proven);
    assert_eq!(item.hashes[0].value, Hash32::sm3(&cut[..proven as usize]));
    let r = item.recording.as_ref().unwrap();
    assert!(r.interrupted && r.truncated);
    assert_eq!(r.segments.len() as u64, proven / policy.max_bytes);
    check_segments(proof, &full);
    assert!(
        item.findings
            .iter()
            .any(|f| f.code == "recording_truncated")
    );
    Proof::verify_bytes(&canonical::to_canonical_bytes(proof).unwrap()).unwrap();
    // Nothing left to recover, and the queue holds exactly that proof.
    assert!(dev.recover_recordings().unwrap().is_empty());
    assert_eq!(Queue::open(dir.path()).unwrap().pending().unwrap().len(), 1);
}

#[test]
fn a_damaged_journal_tail_or_part_file_limits_what_is_proven() {
    let dir = tempfile::tempdir().unwrap();
    let dev = device(dir.path());
    let video = corpus("video/bodycam_5s.mov");
    let policy = SegmentPolicy {
        max_bytes: 8192,
        max_ms: 3_600_000,
    };
    let mut rec = dev
        .start_recording(
            "bodycam.mov",
            policy,
            &ctx(),
            Box::new(ManualClock(Arc::new(AtomicU64::new(0)))),
        )
        .unwrap();
    rec.write(&video).unwrap();
    drop(rec);
    let rec_dir = dir.path().join("recordings");
    let part = std::fs::read_dir(&rec_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().unwrap() == "part")
        .unwrap();
    // Corrupt the third segment on disk (bytes 16384..): only two segments remain provable.
    let mut bytes = std::fs::read(&part).unwrap();
    bytes[16_384 + 10] ^= 0xff;
    std::fs::write(&part, &bytes).unwrap();
    // And tear the journal's last line, as a kill mid-append would.
    let journal = part.with_extension("journal");
    let mut j = std::fs::read(&journal).unwrap();
    j.truncate(j.len() - 7);
    std::fs::write(&journal, &j).unwrap();

    let recovered = dev.recover_recordings().unwrap();
    let item = &recovered[0].proof.manifest.items[0];
    assert_eq!(item.bytes, 16_384);
    assert_eq!(item.recording.as_ref().unwrap().segments.len(), 2);
}

#[test]
fn abort_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dev = device(dir.path());
    let mut rec = dev
        .start_recording(
            "x.m4a",
            SegmentPolicy::default(),
            &ctx(),
            Box::new(ManualClock(Arc::new(AtomicU64::new(0)))),
        )
        .unwrap();
    rec.write(b"some audio").unwrap();
    rec.abort().unwrap();
    assert!(dev.recover_recordings().unwrap().is_empty());
    assert!(
        Queue::open(dir.path())
            .unwrap()
            .entries()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("recordings"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn a_live_recording_is_not_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let dev = device(dir.path());
    let mut rec = dev
        .start_recording(
            "live.mp4",
            SegmentPolicy {
                max_bytes: 4,
                max_ms: 3_600_000,
            },
            &ctx(),
            Box::new(ManualClock(Arc::new(AtomicU64::new(0)))),
        )
        .unwrap();
    rec.write(b"0123456789").unwrap();
    assert!(
        dev.recover_recordings().unwrap().is_empty(),
        "the recorder is alive"
    );
    let outcome = rec.finish().unwrap();
    assert_eq!(outcome.proof.manifest.items[0].bytes, 10);
    assert_eq!(
        outcome.proof.manifest.items[0]
            .recording
            .as_ref()
            .unwrap()
            .segments
            .len(),
        3
    );
}
