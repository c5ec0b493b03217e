//! The collection record that closes an enforcement session: the 电子数据现场提取笔录 (place,
//! process, the holder's and the witness's confirmation or refusal) with its 固定清单 (every
//! file of the session: name, type, size, SM3 and SHA-256, capture time and place, and the
//! original medium: where it is kept, or why it was not seized). It rides in the session
//! summary manifest, so it is signed by the device and every collector and anchored like any
//! proof.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ItemKind;
use crate::hash::Hash32;
use crate::time::Timestamp;

/// The record of the collection and its inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionRecord {
    /// Where the data was collected (提取地点).
    #[schemars(length(min = 1, max = 500))]
    pub place: String,
    /// How it was collected (提取过程), in the collectors' words.
    #[schemars(length(min = 1, max = 4000))]
    pub process: String,
    /// The fixed inventory: every file of every manifest the session lists.
    pub inventory: Vec<InventoryEntry>,
    /// The holder's confirmation, or their refusal and its reason.
    pub holder: Confirmation,
    /// The witness's confirmation, or why there is none.
    pub witness: Confirmation,
    /// The video that records the whole collection (全程录像), by its inventory entry: what a
    /// profile that asks for a witness accepts when no witness signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_recording: Option<ProcessRecording>,
}

/// The inventoried video that records the whole collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessRecording {
    /// The `device_seq` of the manifest that proves the video.
    pub device_seq: u64,
    /// The video's file name, as inventoried.
    pub file_name: String,
}

/// One file of the inventory (固定清单).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryEntry {
    /// The `device_seq` of the manifest that proves it.
    pub device_seq: u64,
    /// SM3 of that manifest.
    pub manifest_sm3: Hash32,
    /// File name.
    pub file_name: String,
    /// Photo, video, audio or other.
    pub kind: ItemKind,
    /// Size in bytes.
    pub bytes: u64,
    /// SM3 of the file.
    pub sm3: Hash32,
    /// SHA-256 of the file.
    pub sha256: Hash32,
    /// When it was captured (device clock).
    pub captured_at: Timestamp,
    /// Where, as recorded (WGS-84 latitude, longitude and accuracy), if known.
    pub location: Option<String>,
    /// The original storage medium.
    pub original: OriginalMedium,
}

/// The original storage medium of a file and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OriginalMedium {
    /// The medium, e.g. the capturing phone or the holder's memory card.
    #[schemars(length(min = 1, max = 300))]
    pub description: String,
    /// Whether it was seized and sealed.
    pub seized: bool,
    /// Where the seized medium is kept (when seized).
    pub kept_at: Option<String>,
    /// Why it was not seized (when not).
    pub not_seized_reason: Option<String>,
}

/// A party's confirmation of the record: the SM3 of the signature they wrote on screen, or
/// their refusal (or absence) and its reason. Exactly one of the two.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// SM3 of the signature image (PNG or JPEG) captured on screen.
    pub signature_image_sm3: Option<Hash32>,
    /// Why there is no signature: refused, absent, unable.
    pub refusal: Option<String>,
}

fn filled(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.trim().is_empty())
}

impl CollectionRecord {
    /// The inventory entry of the whole-process recording, if the record names one and it is an
    /// inventoried video; `Err` says why the named one is not.
    pub fn process_video(&self) -> Result<Option<&InventoryEntry>, String> {
        let Some(p) = &self.process_recording else {
            return Ok(None);
        };
        let entry = self
            .inventory
            .iter()
            .find(|e| e.device_seq == p.device_seq && e.file_name == p.file_name)
            .ok_or_else(|| {
                format!(
                    "the whole-process recording {} (device_seq {}) is not in the inventory",
                    p.file_name, p.device_seq
                )
            })?;
        if entry.kind != ItemKind::Video {
            return Err(format!(
                "the whole-process recording {} is inventoried as {:?}, not as a video",
                p.file_name, entry.kind
            ));
        }
        Ok(Some(entry))
    }
}

impl Confirmation {
    /// Exactly one of a signature image and a non-blank refusal.
    pub fn check(&self, who: &str) -> Result<(), String> {
        match (
            &self.signature_image_sm3,
            filled(&self.refusal),
            &self.refusal,
        ) {
            (Some(_), false, None) | (None, true, _) => Ok(()),
            (Some(_), _, _) => Err(format!(
                "the {who}'s confirmation has both a signature and a refusal"
            )),
            (None, false, _) => Err(format!(
                "the {who}'s confirmation has neither a signature nor a refusal with its reason"
            )),
        }
    }
}

impl OriginalMedium {
    /// A non-blank description, and where it is kept exactly when seized, why not otherwise.
    pub fn check(&self) -> Result<(), String> {
        if self.description.trim().is_empty() {
            return Err("the original medium is not described".into());
        }
        match (
            self.seized,
            filled(&self.kept_at),
            filled(&self.not_seized_reason),
        ) {
            (true, true, false) if self.not_seized_reason.is_none() => Ok(()),
            (false, false, true) if self.kept_at.is_none() => Ok(()),
            (true, _, _) => Err(
                "a seized medium states where it is kept, and no reason for not seizing it".into(),
            ),
            (false, _, _) => {
                Err("a medium not seized states why, and no place where it is kept".into())
            }
        }
    }
}
