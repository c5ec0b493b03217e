//! The [`Device`] object: setting up or unlocking an officer's device, capturing, importing,
//! recording, closing sessions, the queue, and enrolment and sync with the notary.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tiezheng_protocol::Timestamp;
use tiezheng_protocol::manifest::{self as m, Decimal};
use tiezheng_sdk::capture::{CaptureContext, SegmentPolicy};
use tiezheng_sdk::client::NotaryClient;
use tiezheng_sdk::device::{DeviceSetup, UnlockedDevice};

use crate::errors::{TiezhengError, invalid};
use crate::hooks::{
    Clock, ClockAdapter, KeyVault, LocationProvider, LocationSource, NetworkStatus, SyncListener,
    VaultAdapter,
};
use crate::recording::Recording;
use crate::records::{CaptureResult, CaseInfo, DeviceSummary, QueueItem, SyncReport, result};

/// An officer's device, unlocked for this session.
#[derive(uniffi::Object)]
pub struct Device {
    pub(crate) inner: Arc<UnlockedDevice>,
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    location: Option<Arc<dyn LocationProvider>>,
    network: Option<Arc<dyn NetworkStatus>>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Device {
    /// Sets up a new device in `dir`: the SM2 key is generated here and sealed through `vault`.
    ///
    /// `location`, `network` and `profile` (the default forensic profile of captures; `None`:
    /// `basic`) are optional (named arguments with defaults in Kotlin, Swift
    /// and Python).
    #[uniffi::constructor(default(location = None, network = None, profile = None))]
    #[allow(clippy::too_many_arguments)] // the platform hooks are the constructor's arguments
    pub fn setup(
        dir: String,
        officers: Vec<String>,
        model: String,
        os: String,
        vault: Arc<dyn KeyVault>,
        clock: Arc<dyn Clock>,
        location: Option<Arc<dyn LocationProvider>>,
        network: Option<Arc<dyn NetworkStatus>>,
        profile: Option<String>,
    ) -> Result<Arc<Self>, TiezhengError> {
        let adapter = VaultAdapter(vault);
        let device = tiezheng_sdk::device::Device::init(
            Path::new(&dir),
            DeviceSetup {
                profile,
                officers,
                model,
                os,
            },
            &adapter,
        )?;
        let inner = device.unlock(&adapter)?;
        Ok(Arc::new(Self {
            inner: Arc::new(inner),
            dir: PathBuf::from(dir),
            clock,
            location,
            network,
        }))
    }

    /// Opens the device in `dir` and unlocks its key through `vault` (the officer
    /// authenticates). Wrong unlocks are counted; too many lock the key.
    #[uniffi::constructor(default(location = None, network = None))]
    pub fn unlock(
        dir: String,
        vault: Arc<dyn KeyVault>,
        clock: Arc<dyn Clock>,
        location: Option<Arc<dyn LocationProvider>>,
        network: Option<Arc<dyn NetworkStatus>>,
    ) -> Result<Arc<Self>, TiezhengError> {
        let inner =
            tiezheng_sdk::device::Device::open(Path::new(&dir))?.unlock(&VaultAdapter(vault))?;
        Ok(Arc::new(Self {
            inner: Arc::new(inner),
            dir: PathBuf::from(dir),
            clock,
            location,
            network,
        }))
    }

    /// The device's identity.
    pub fn summary(&self) -> DeviceSummary {
        let s = self.inner.device().state();
        let info = self.inner.info();
        DeviceSummary {
            device_id: s.device_id.clone(),
            key_id: s.key_id.to_hex(),
            public_key: s.public_key.clone(),
            enrolment_id: info.enrolment_id,
            officers: s.officers.clone(),
            profile: s
                .profile
                .clone()
                .unwrap_or_else(|| tiezheng_protocol::profile::BASIC_PROFILE.to_owned()),
        }
    }

    /// Captures a photo from the bytes the camera delivered (borrowed, not copied).
    ///
    /// Kotlin: the bytes between the `ByteBuffer`'s position and limit, direct (zero-copy) or
    /// heap (copied once); the position is left unchanged, so a failed capture can be retried
    /// with the same buffer. Python: any bytes-like object.
    pub fn capture_photo(
        &self,
        file_name: String,
        bytes: &[u8],
        case: CaseInfo,
    ) -> Result<CaptureResult, TiezhengError> {
        let ctx = self.context(case)?;
        result(&self.inner.capture_photo(&file_name, bytes, &ctx)?)
    }

    /// Imports an existing file (recorded as `imported`, never as captured).
    pub fn import_file(
        &self,
        path: String,
        case: CaseInfo,
    ) -> Result<CaptureResult, TiezhengError> {
        let ctx = self.context(case)?;
        result(&self.inner.import_file(Path::new(&path), &ctx)?)
    }

    /// Starts a video or audio recording; segments close every `segment_max_bytes` bytes or
    /// `segment_max_ms` milliseconds.
    pub fn start_recording(
        &self,
        file_name: String,
        case: CaseInfo,
        segment_max_bytes: u64,
        segment_max_ms: u64,
    ) -> Result<Arc<Recording>, TiezhengError> {
        let ctx = self.context(case)?;
        let policy = SegmentPolicy {
            max_bytes: segment_max_bytes,
            max_ms: segment_max_ms,
        };
        let rec = self.inner.start_recording_shared(
            &file_name,
            policy,
            &ctx,
            Box::new(ClockAdapter(self.clock.clone())),
        )?;
        Ok(Arc::new(Recording::new(rec)))
    }

    /// Proves recordings cut off by a crash, up to their last closed segment.
    pub fn recover_recordings(&self) -> Result<Vec<CaptureResult>, TiezhengError> {
        self.inner
            .recover_recordings()?
            .iter()
            .map(result)
            .collect()
    }

    /// Closes an enforcement session with a signed summary of its captures since
    /// `opened_at_unix_ms`.
    pub fn close_session(
        &self,
        case: CaseInfo,
        opened_at_unix_ms: i64,
    ) -> Result<CaptureResult, TiezhengError> {
        let ctx = self.context(case)?;
        result(
            &self
                .inner
                .close_session(Timestamp::from_unix_ms(opened_at_unix_ms, 0), &ctx)?,
        )
    }

    /// The queue of proofs, oldest first.
    pub fn queue(&self) -> Result<Vec<QueueItem>, TiezhengError> {
        crate::outbox::queue_items(&self.dir)
    }

    /// Enrols the device with the notary at `notary_url` using a one-time `code`.
    pub async fn enrol(
        &self,
        notary_url: String,
        code: String,
    ) -> Result<DeviceSummary, TiezhengError> {
        self.check_online()?;
        let client = NotaryClient::new(&notary_url)?;
        client.enrol(&self.inner, &code).await?;
        Ok(self.summary())
    }

    /// Enrols like [`Self::enrol`], but only with a notary whose SM2 key ID (its fingerprint,
    /// 64 hex digits, which the operator publishes and the app shows for comparison) is
    /// `notary_key_id`; another key is refused with `NotaryKeyMismatch` before the code is
    /// spent.
    pub async fn enrol_pinned(
        &self,
        notary_url: String,
        code: String,
        notary_key_id: String,
    ) -> Result<DeviceSummary, TiezhengError> {
        self.check_online()?;
        let pin = notary_key_id.trim().to_ascii_lowercase();
        if pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(TiezhengError::InvalidInput {
                reason: format!(
                    "notary_key_id: expected the notary's key ID, 64 hexadecimal digits, got {} characters",
                    pin.len()
                ),
            });
        }
        let client = NotaryClient::new(&notary_url)?.pin_notary_key(&pin);
        client.enrol(&self.inner, &code).await?;
        Ok(self.summary())
    }

    /// Sends queued proofs and their media to the notary and stores the signed receipts.
    pub async fn sync(
        &self,
        listener: Option<Arc<dyn SyncListener>>,
    ) -> Result<SyncReport, TiezhengError> {
        crate::outbox::sync_dir(&self.dir, self.network.as_ref(), listener).await
    }
}

impl Device {
    fn check_online(&self) -> Result<(), TiezhengError> {
        if let Some(n) = &self.network
            && !n.is_online()?
        {
            return Err(TiezhengError::Network {
                reason: "the device is offline; the proofs stay queued".into(),
            });
        }
        Ok(())
    }

    pub(crate) fn context(&self, case: CaseInfo) -> Result<CaptureContext, TiezhengError> {
        if case.reference.trim().is_empty() {
            return Err(invalid("case reference is empty"));
        }
        let now = self.clock.now_unix_ms()?;
        let offset = i16::try_from(self.clock.utc_offset_minutes()?)
            .map_err(|_| invalid("UTC offset out of range"))?;
        let monotonic = self.clock.monotonic_ms().ok();
        let fix = match &self.location {
            Some(l) => l.current_fix()?,
            None => None,
        };
        let dec = |v: f64, what: &str| {
            Decimal::from_f64(v, 9).map_err(|_| invalid(format!("{what} is not a finite number")))
        };
        let gnss_time = fix
            .as_ref()
            .and_then(|f| f.gnss_time_unix_ms)
            .map(|t| Timestamp::from_unix_ms(t, 0));
        let os_fix = match fix {
            Some(f) => {
                if !(-90.0..=90.0).contains(&f.latitude) || !(-180.0..=180.0).contains(&f.longitude)
                {
                    return Err(invalid("location fix out of range"));
                }
                Some(m::LocationFix {
                    latitude: dec(f.latitude, "latitude")?,
                    longitude: dec(f.longitude, "longitude")?,
                    altitude: f.altitude.map(|a| dec(a, "altitude")).transpose()?,
                    horizontal_accuracy: f
                        .horizontal_accuracy
                        .map(|a| dec(a, "horizontal accuracy"))
                        .transpose()?,
                    vertical_accuracy: f
                        .vertical_accuracy
                        .map(|a| dec(a, "vertical accuracy"))
                        .transpose()?,
                    provider: match f.source {
                        LocationSource::Gps => m::LocationProvider::Gps,
                        LocationSource::Network => m::LocationProvider::Network,
                        LocationSource::Fused => m::LocationProvider::Fused,
                        LocationSource::Manual => m::LocationProvider::Manual,
                    },
                    fix_time: f
                        .fix_time_unix_ms
                        .map(|t| Timestamp::from_unix_ms(t, offset)),
                    satellites: f.satellites,
                    mock: f.mock,
                })
            }
            None => None,
        };
        let collectors = if case.collectors.is_empty() {
            self.inner.device().state().officers.clone()
        } else {
            case.collectors
        };
        let party = |name: Option<String>, note: Option<String>| {
            (name.is_some() || note.is_some()).then_some(m::PartyRecord { name, note })
        };
        Ok(CaptureContext {
            profile: case.profile,
            reasons: case
                .reasons
                .into_iter()
                .map(|r| (r.rule, r.reason))
                .collect(),
            case: m::CaseRecord {
                reference: case.reference,
                cause: case.cause,
                object: case.object,
                description: case.description,
                method: case
                    .method
                    .unwrap_or_else(|| "on-site capture with the Tiezheng SDK".into()),
                collectors,
                holder: party(case.holder_name, case.holder_note),
                witness: party(case.witness_name, case.witness_note),
            },
            device_time: Timestamp::from_unix_ms(now, offset),
            monotonic_ms: monotonic,
            gnss_time,
            last_time_sync: None,
            os_fix,
        })
    }
}
