//! Closing an enforcement session with the collection record and its inventory (电子数据现场提取笔录
//! and 固定清单) through the bindings: what the collectors state (place, process, the original
//! medium), the holder's and the witness's signature written on screen or their refusal, and the
//! video of the whole collection when no witness signs. The SDK builds the inventory from the
//! session's proofs and signs the record with the device and every unlocked collector.

use tiezheng_protocol::Timestamp;
use tiezheng_protocol::manifest::OriginalMedium;
use tiezheng_sdk::capture::{PartyConfirmation as SdkConfirmation, RecordInput};

use crate::device::Device;
use crate::errors::TiezhengError;
use crate::records::{CaptureResult, CaseInfo, result};

/// A party's confirmation of the record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PartyConfirmation {
    /// The signature they wrote on screen: the PNG or JPEG image (its SM3 is recorded).
    Signature {
        /// The image's bytes.
        image: Vec<u8>,
    },
    /// Why there is no signature: refused, absent, unable.
    Refused {
        /// The reason, in the collectors' words.
        reason: String,
    },
}

/// What the collectors state when they close a session with a record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionRecord {
    /// Where the data was collected (提取地点).
    pub place: String,
    /// How it was collected (提取过程).
    pub process: String,
    /// The files' original medium, e.g. "the capturing phone".
    pub original_medium: String,
    /// Where the seized original medium is kept (`None`: not seized).
    #[uniffi(default = None)]
    pub kept_at: Option<String>,
    /// Why the original medium was not seized (exactly when `kept_at` is `None`).
    #[uniffi(default = None)]
    pub not_seized_reason: Option<String>,
    /// The holder's signature or refusal.
    pub holder: PartyConfirmation,
    /// The witness's signature, or why there is none.
    pub witness: PartyConfirmation,
    /// The file name of the session's video that records the whole collection (全程录像),
    /// which a profile asking for a witness accepts when no witness signs.
    #[uniffi(default = None)]
    pub process_recording: Option<String>,
}

fn confirmation(c: PartyConfirmation) -> SdkConfirmation {
    match c {
        PartyConfirmation::Signature { image } => SdkConfirmation::Signature(image),
        PartyConfirmation::Refused { reason } => SdkConfirmation::Refused(reason),
    }
}

#[uniffi::export]
impl Device {
    /// Closes an enforcement session as `close_session` does, with the collection record and
    /// the inventory of every file captured for `case` since `opened_at_unix_ms`, signed by the
    /// device and every collector unlocked on it. `InvalidInput` says what is wrong with the
    /// record (a signature that is not an image, a refusal without its reason, a medium stated
    /// inconsistently, a process recording that is not a video of the session), and
    /// `ProfileRefused` names the profile's rule that does not hold; nothing is signed then.
    pub fn close_session_with_record(
        &self,
        case: CaseInfo,
        opened_at_unix_ms: i64,
        record: SessionRecord,
    ) -> Result<CaptureResult, TiezhengError> {
        let ctx = self.context(case)?;
        let input = RecordInput {
            place: record.place,
            process: record.process,
            original: OriginalMedium {
                description: record.original_medium,
                seized: record.kept_at.is_some(),
                kept_at: record.kept_at,
                not_seized_reason: record.not_seized_reason,
            },
            holder: confirmation(record.holder),
            witness: confirmation(record.witness),
            process_recording: record.process_recording,
        };
        result(&self.inner.close_session_with_record(
            Timestamp::from_unix_ms(opened_at_unix_ms, 0),
            &ctx,
            &input,
        )?)
    }
}
