//! The device's side of the notary protocol: enrolment and sync.
//!
//! [`NotaryClient::enrol`] sends an enrolment request signed with the device key (proof of
//! possession) and pins the notary's key from the answer. [`NotaryClient::sync`] submits the
//! queued proofs in order, verifies every receipt against the pinned notary key, uploads each
//! proof's media (resumably, from the offset the notary already has), and only then marks the
//! proof acknowledged. Network failures and 5xx answers are retried with exponential backoff;
//! a request cut off mid-way is simply sent again (the notary answers a resubmitted proof with
//! the same receipt), so nothing is ever left in an unknown state.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tiezheng_protocol::notary::{
    ApiError, ENROLMENT_REQUEST_TYPE, EnrolmentRequest, EnrolmentRequestBody, EnrolmentResponse,
    SignedDeviceCertificate, SubmitResponse, SubmitResult,
};
use tiezheng_protocol::{
    Hash32, HashAlgorithm, Proof, SignatureBlock, Sm2PublicKey, Timestamp, canonical,
};

use crate::device::{DeviceError, UnlockedDevice, io_err, json_bytes};
use crate::queue::Queue;
use crate::store::write_atomic;

/// Size of each media upload request.
pub const MEDIA_CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// Why enrolment or sync failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The device directory failed.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The notary could not be reached after retries.
    #[error("notary at {url} unreachable: {reason}")]
    Network {
        /// The URL.
        url: String,
        /// The last failure.
        reason: String,
    },
    /// The notary refused the request; `error` says why and which field.
    #[error("notary refused ({status}): {} [{}{}]", error.message, error.code, error.field.as_deref().map(|f| format!(" at {f}")).unwrap_or_default())]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The notary's error.
        error: ApiError,
    },
    /// The notary answered something that does not verify: wrong key, wrong proof, bad shape.
    #[error("notary answer does not verify: {0}")]
    BadAnswer(String),
    /// The notary answered with another key than the one pinned at enrolment: nothing was
    /// stored. Compare the fingerprint with the one the notary's operator published.
    #[error(
        "the notary at {url} signs with key {actual}, not the pinned {expected}: not enrolled; \
         compare the fingerprint with the one the notary's operator gave you"
    )]
    NotaryKeyMismatch {
        /// The notary.
        url: String,
        /// The pinned key ID.
        expected: String,
        /// The key ID the notary answered with.
        actual: String,
    },
    /// The notary asks the client to wait: retry after `retry_after_seconds` (the queue is
    /// kept; a background worker reschedules itself rather than block).
    #[error("the notary at {url} is rate limiting this device: retry in {retry_after_seconds} s")]
    RateLimited {
        /// The notary.
        url: String,
        /// Seconds to wait (the notary's `Retry-After`).
        retry_after_seconds: u64,
    },
    /// The trusted certificate authorities (PEM) cannot be used.
    #[error("trusted certificate authorities: {0}")]
    TrustRoots(String),
    /// The device is not enrolled with a notary yet.
    #[error(
        "device is not enrolled: run `tiezheng enrol --dir DIR --notary URL --code CODE` first"
    )]
    NotEnrolled,
}

/// What `enrol` leaves in the device directory (`notary.json`, mode 0600 on Unix).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotaryBinding {
    /// The notary's base URL.
    pub url: String,
    /// The notary's public key, pinned at enrolment.
    pub notary_public_key: String,
    /// The device's bearer token.
    pub api_token: String,
    /// The signed device certificate.
    pub certificate: SignedDeviceCertificate,
}

impl NotaryBinding {
    /// Reads the binding of a device directory.
    pub fn load(device_dir: &Path) -> Result<Self, ClientError> {
        let path = device_dir.join("notary.json");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ClientError::NotEnrolled);
            }
            Err(e) => return Err(DeviceError::Io { path, source: e }.into()),
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            DeviceError::Corrupt {
                path,
                reason: e.to_string(),
            }
            .into()
        })
    }

    fn notary_key(&self) -> Result<Sm2PublicKey, ClientError> {
        Sm2PublicKey::from_hex(&self.notary_public_key)
            .map_err(|e| ClientError::BadAnswer(e.to_string()))
    }
}

/// Progress of a sync, reported to the caller (the bindings forward it to the app).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncEvent {
    /// A proof was receipted.
    Receipted {
        /// Its `device_seq`.
        device_seq: u64,
        /// Whether the notary flagged a gap before it.
        chain_gap: bool,
    },
    /// Media bytes uploaded so far for a file.
    Uploading {
        /// The file's SM3.
        sm3: Hash32,
        /// Bytes the notary has.
        received: u64,
        /// Total bytes.
        total: u64,
    },
    /// The notary refused one proof; it stays queued and the sync carries on with the next.
    Refused {
        /// Its `device_seq`.
        device_seq: u64,
        /// The notary's error code (see the catalogue of codes).
        code: String,
        /// For people.
        message: String,
    },
    /// A request failed and will be retried.
    Retrying {
        /// Attempt number (1-based).
        attempt: u32,
        /// Why.
        reason: String,
    },
}

/// The outcome of a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Proofs receipted and acknowledged in this run.
    pub acknowledged: usize,
    /// Media bytes uploaded.
    pub media_bytes: u64,
    /// Proofs still pending afterwards.
    pub pending: usize,
    /// Proofs the notary refused in this run (they stay queued): `(device_seq, code, message)`.
    pub refused: Vec<(u64, String, String)>,
}

/// Why an HTTP client could not be made.
#[derive(Debug)]
pub enum HttpClientError {
    /// The trusted roots are not usable PEM certificates.
    Roots(String),
    /// The TLS stack refused to start.
    Build(String),
}

impl std::fmt::Display for HttpClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Roots(r) => write!(f, "trusted certificate authorities: {r}"),
            Self::Build(r) => write!(f, "cannot start the HTTP client: {r}"),
        }
    }
}

impl std::error::Error for HttpClientError {}

/// The HTTP client every call to a notary uses (the CLI's too): rustls with ring, the
/// platform's roots or only those in `ca_pem`, a 10 s connect timeout and `timeout` overall.
pub fn http_client(
    ca_pem: Option<&[u8]>,
    timeout: Duration,
) -> Result<reqwest::Client, HttpClientError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout);
    if let Some(pem) = ca_pem {
        let roots = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| HttpClientError::Roots(e.to_string()))?;
        if roots.is_empty() {
            return Err(HttpClientError::Roots(
                "no CERTIFICATE block in the PEM file".into(),
            ));
        }
        builder = builder.tls_certs_only(roots);
    }
    builder
        .build()
        .map_err(|e| HttpClientError::Build(e.to_string()))
}

/// `GET /v1/notary`.
#[derive(Deserialize)]
struct NotaryKeyAnswer {
    public_key: String,
}

/// Longest `Retry-After` a request waits for itself before it returns
/// [`ClientError::RateLimited`] to the caller.
pub const MAX_INLINE_RETRY_WAIT: Duration = Duration::from_secs(5);

/// Talks to one notary.
#[derive(Debug, Clone)]
pub struct NotaryClient {
    base: String,
    http: reqwest::Client,
    /// The notary key ID enrolment insists on (see [`Self::pin_notary_key`]).
    pinned_key: Option<String>,
    /// Attempts per request before giving up.
    pub max_attempts: u32,
    /// First backoff delay (doubles each retry, at most 30 s).
    pub initial_backoff: Duration,
}

impl NotaryClient {
    /// A client for the notary at `base_url` (`http://127.0.0.1:8700`, `https://notary.example`).
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        Self::with_trust(base_url, None)
    }

    /// A client that trusts only the certificate authorities in `ca_pem` (PEM, one or more
    /// certificates) for `https` notaries: a private PKI, or a test certificate. `None`: the
    /// platform's trusted roots.
    pub fn with_trust(base_url: &str, ca_pem: Option<&[u8]>) -> Result<Self, ClientError> {
        let http = http_client(ca_pem, Duration::from_secs(120)).map_err(|e| match e {
            HttpClientError::Roots(r) => ClientError::TrustRoots(r),
            HttpClientError::Build(reason) => ClientError::Network {
                url: base_url.to_owned(),
                reason,
            },
        })?;
        Ok(Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
            pinned_key: None,
            max_attempts: 6,
            initial_backoff: Duration::from_millis(200),
        })
    }

    /// Enrolment accepts only a notary whose SM2 key ID (its fingerprint: 64 hex digits, as
    /// `GET /v1/notary` answers and `tiezheng serve` prints at start) is `key_id`; otherwise
    /// the first key the notary answers with is trusted from then on.
    #[must_use]
    pub fn pin_notary_key(mut self, key_id: &str) -> Self {
        self.pinned_key = Some(key_id.trim().to_ascii_lowercase());
        self
    }

    /// Refuses `key` when another key is pinned.
    fn check_pin(&self, key: &Sm2PublicKey) -> Result<(), ClientError> {
        match &self.pinned_key {
            Some(expected) if *expected != key.key_id().to_hex() => {
                Err(ClientError::NotaryKeyMismatch {
                    url: self.base.clone(),
                    expected: expected.clone(),
                    actual: key.key_id().to_hex(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Enrols `device` with a one-time `code`; stores the binding and the enrolment ID.
    pub async fn enrol(
        &self,
        device: &UnlockedDevice,
        code: &str,
    ) -> Result<EnrolmentResponse, ClientError> {
        if self.pinned_key.is_some() {
            // Checked before the one-time code is spent, and again on the answer.
            let answer = self
                .send(
                    || self.http.get(format!("{}/v1/notary", self.base)),
                    &mut |_| {},
                )
                .await?;
            let key: NotaryKeyAnswer = serde_json::from_slice(&answer)
                .map_err(|e| ClientError::BadAnswer(format!("GET /v1/notary: {e}")))?;
            let key = Sm2PublicKey::from_hex(&key.public_key)
                .map_err(|e| ClientError::BadAnswer(format!("GET /v1/notary: {e}")))?;
            self.check_pin(&key)?;
        }
        let state = device.device().state().clone();
        let body = EnrolmentRequestBody {
            kind: ENROLMENT_REQUEST_TYPE.to_owned(),
            code: code.trim().to_owned(),
            device_id: state.device_id.clone(),
            model: state.model.clone(),
            os: state.os.clone(),
            requested_at: Timestamp::now_utc(),
        };
        let signature = SignatureBlock::sign(&device.key, &body)
            .map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        let request = EnrolmentRequest {
            request: body,
            signature,
        };
        let bytes = canonical::to_canonical_bytes(&request)
            .map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        let answer = self
            .send(
                || {
                    self.http
                        .post(format!("{}/v1/enrol", self.base))
                        .header("content-type", "application/json")
                        .body(bytes.clone())
                },
                &mut |_| {},
            )
            .await?;
        let resp: EnrolmentResponse =
            serde_json::from_slice(&answer).map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        let notary = Sm2PublicKey::from_hex(&resp.notary_public_key)
            .map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        self.check_pin(&notary)?;
        resp.certificate
            .verify(&notary)
            .map_err(|e| ClientError::BadAnswer(format!("device certificate: {e}")))?;
        if resp.certificate.certificate.device_key_id != device.public_key().key_id() {
            return Err(ClientError::BadAnswer(
                "the certificate names another key".into(),
            ));
        }
        let binding = NotaryBinding {
            url: self.base.clone(),
            notary_public_key: resp.notary_public_key.clone(),
            api_token: resp.api_token.clone(),
            certificate: resp.certificate.clone(),
        };
        let path = device.device().dir().join("notary.json");
        write_atomic(&path, &json_bytes(&binding)).map_err(io_err(&path))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        device.set_enrolment(resp.certificate.certificate.enrolment_id.clone())?;
        Ok(resp)
    }

    /// Enrols officer `officer_id`'s key (unlocked on `device`, registered there with
    /// [`Device::add_officer`](crate::device::Device::add_officer)) through the enrolled device,
    /// with a one-time code the administrator issued for that officer; verifies the notary's
    /// credential against the notary key pinned at the device's enrolment and keeps it.
    pub async fn enrol_officer(
        &self,
        device: &UnlockedDevice,
        officer_id: &str,
        code: &str,
    ) -> Result<tiezheng_protocol::officer::SignedOfficerCertificate, ClientError> {
        use tiezheng_protocol::officer::{
            OFFICER_ENROLMENT_TYPE, OfficerEnrolmentBody, OfficerEnrolmentRequest,
            SignedOfficerCertificate,
        };
        let binding = NotaryBinding::load(device.device().dir())?;
        let record = device
            .device()
            .officers()?
            .into_iter()
            .find(|o| o.officer.officer_id == officer_id)
            .ok_or_else(|| DeviceError::UnknownOfficer(officer_id.to_owned()))?;
        let key = device
            .officer_public_key(officer_id)
            .ok_or_else(|| DeviceError::UnknownOfficer(officer_id.to_owned()))?;
        let body = OfficerEnrolmentBody {
            kind: OFFICER_ENROLMENT_TYPE.to_owned(),
            code: code.trim().to_owned(),
            officer: record.officer.clone(),
            requested_at: Timestamp::now_utc(),
        };
        let request = OfficerEnrolmentRequest {
            signature: device.sign_as_officer(officer_id, &body)?,
            request: body,
        };
        let bytes = canonical::to_canonical_bytes(&request)
            .map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        let answer = self
            .send(
                || {
                    self.http
                        .post(format!("{}/v1/officers", self.base))
                        .bearer_auth(&binding.api_token)
                        .header("content-type", "application/json")
                        .body(bytes.clone())
                },
                &mut |_| {},
            )
            .await?;
        let credential: SignedOfficerCertificate =
            serde_json::from_slice(&answer).map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        let notary = binding.notary_key()?;
        let signer = credential
            .verify()
            .map_err(|e| ClientError::BadAnswer(format!("officer credential: {e}")))?;
        let c = &credential.certificate;
        if signer != notary
            || c.key_id != key.key_id()
            || c.officer != record.officer
            || c.notary_key_id != notary.key_id()
        {
            return Err(ClientError::BadAnswer(
                "the officer credential is not the pinned notary's binding of this officer's key"
                    .into(),
            ));
        }
        device.device().set_officer_credential(credential.clone())?;
        Ok(credential)
    }

    /// Submits every pending proof of `device_dir` in order, with its media.
    pub async fn sync(
        &self,
        device_dir: &Path,
        mut progress: impl FnMut(SyncEvent),
    ) -> Result<SyncReport, ClientError> {
        let binding = NotaryBinding::load(device_dir)?;
        let notary = binding.notary_key()?;
        let queue = Queue::open(device_dir)?;
        let mut report = SyncReport::default();
        for entry in queue.pending()? {
            let bytes = std::fs::read(&entry.path).map_err(io_err(&entry.path))?;
            let proof: Proof =
                serde_json::from_slice(&bytes).map_err(|e| DeviceError::Corrupt {
                    path: entry.path.clone(),
                    reason: e.to_string(),
                })?;
            let proof_sm3 = Hash32::sm3(&bytes);
            let answer = self
                .send(
                    || {
                        self.http
                            .post(format!("{}/v1/proofs", self.base))
                            .bearer_auth(&binding.api_token)
                            .header("content-type", "application/json")
                            .body(bytes.clone())
                    },
                    &mut progress,
                )
                .await;
            // A refusal of this proof (its content, its place in the chain, its size) is this
            // proof's; a refusal of the device (token, role, rate) ends the sync.
            let result = match answer {
                Ok(answer) => serde_json::from_slice::<SubmitResponse>(&answer)
                    .map_err(|e| ClientError::BadAnswer(e.to_string()))?
                    .results
                    .into_iter()
                    .next()
                    .ok_or_else(|| ClientError::BadAnswer("empty submit response".into()))?,
                Err(ClientError::Rejected {
                    status: 400 | 409 | 413 | 422,
                    error,
                }) => SubmitResult {
                    index: 0,
                    receipt: None,
                    error: Some(error),
                },
                Err(e) => return Err(e),
            };
            let receipt = match (result.receipt, result.error) {
                (Some(r), _) => r,
                (None, Some(error)) => {
                    // This proof only: it stays queued (a later sync retries it), the others go on.
                    progress(SyncEvent::Refused {
                        device_seq: entry.device_seq,
                        code: error.code.clone(),
                        message: error.message.clone(),
                    });
                    report
                        .refused
                        .push((entry.device_seq, error.code, error.message));
                    continue;
                }
                (None, None) => {
                    return Err(ClientError::BadAnswer(
                        "result without receipt or error".into(),
                    ));
                }
            };
            receipt
                .verify(&notary)
                .map_err(|e| ClientError::BadAnswer(format!("receipt signature: {e}")))?;
            if receipt.receipt.proof_sm3 != proof_sm3
                || receipt.receipt.device_seq != entry.device_seq
            {
                return Err(ClientError::BadAnswer(
                    "the receipt is for another proof".into(),
                ));
            }
            for item in &proof.manifest.items {
                let Some(sm3) = item
                    .hashes
                    .iter()
                    .find(|h| h.algorithm == HashAlgorithm::Sm3)
                    .map(|h| h.value)
                else {
                    continue;
                };
                report.media_bytes += self
                    .upload(device_dir, &binding, &sm3, item.bytes, &mut progress)
                    .await?;
            }
            let receipt_bytes = canonical::to_canonical_bytes(&receipt)
                .map_err(|e| ClientError::BadAnswer(e.to_string()))?;
            queue.acknowledge(entry.device_seq, &receipt_bytes)?;
            progress(SyncEvent::Receipted {
                device_seq: entry.device_seq,
                chain_gap: receipt.receipt.chain_gap,
            });
            report.acknowledged += 1;
        }
        report.pending = queue.pending()?.len();
        Ok(report)
    }

    /// Uploads one media file from where the notary left off. Returns bytes sent.
    async fn upload(
        &self,
        device_dir: &Path,
        binding: &NotaryBinding,
        sm3: &Hash32,
        total: u64,
        progress: &mut impl FnMut(SyncEvent),
    ) -> Result<u64, ClientError> {
        let path: PathBuf = device_dir.join("media").join(sm3.to_hex());
        let status_url = format!("{}/v1/media/{}/status", self.base, sm3.to_hex());
        let mut sent = 0u64;
        for _ in 0..(total / MEDIA_CHUNK_BYTES as u64 + 3) {
            let status = self
                .send(
                    || self.http.get(&status_url).bearer_auth(&binding.api_token),
                    progress,
                )
                .await?;
            let s: serde_json::Value = serde_json::from_slice(&status)
                .map_err(|e| ClientError::BadAnswer(e.to_string()))?;
            if s.get("complete").and_then(serde_json::Value::as_bool) == Some(true) {
                return Ok(sent);
            }
            let offset = s
                .get("received")
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| ClientError::BadAnswer("media status without `received`".into()))?;
            progress(SyncEvent::Uploading {
                sm3: *sm3,
                received: offset,
                total,
            });
            let chunk = read_chunk(&path, offset, MEDIA_CHUNK_BYTES)
                .await
                .map_err(io_err(&path))?;
            if chunk.is_empty() {
                let local = std::fs::metadata(&path).map_or(0, |m| m.len());
                return Err(ClientError::BadAnswer(format!(
                    "the notary asks for media {} from offset {offset} of {total}, but the local file holds {local} bytes",
                    path.display()
                )));
            }
            let n = chunk.len() as u64;
            let url = format!("{}/v1/media/{}?offset={offset}", self.base, sm3.to_hex());
            match self
                .send(
                    || {
                        self.http
                            .put(&url)
                            .bearer_auth(&binding.api_token)
                            .body(chunk.clone())
                    },
                    progress,
                )
                .await
            {
                Ok(_) => sent += n,
                // Another attempt got there first: the next status call says where to resume.
                Err(ClientError::Rejected { status: 409, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Err(ClientError::BadAnswer(format!(
            "upload of {sm3} did not complete"
        )))
    }

    /// Sends a request, retrying network failures and 5xx answers with backoff.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        progress: &mut impl FnMut(SyncEvent),
    ) -> Result<Vec<u8>, ClientError> {
        let mut delay = self.initial_backoff;
        let mut last = String::new();
        for attempt in 1..=self.max_attempts.max(1) {
            match build().send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    // Throttled: wait as long as the notary asks (at most a minute), then retry.
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let body = match resp.bytes().await {
                        Ok(b) => b.to_vec(),
                        Err(e) => {
                            last = format!("answer cut off: {e}");
                            progress(SyncEvent::Retrying {
                                attempt,
                                reason: last.clone(),
                            });
                            tokio::time::sleep(delay).await;
                            delay = (delay * 2).min(Duration::from_secs(30));
                            continue;
                        }
                    };
                    if (200..300).contains(&status) {
                        return Ok(body);
                    }
                    let error = serde_json::from_slice::<ApiError>(&body).unwrap_or(ApiError {
                        code: format!("http_{status}"),
                        message: String::from_utf8_lossy(&body).into_owned(),
                        field: None,
                    });
                    if status == 429 {
                        // A short wait is waited here; a long one (or the last attempt) is the
                        // caller's to schedule, never a silent block.
                        let wait = retry_after.unwrap_or(delay);
                        if attempt < self.max_attempts && wait <= MAX_INLINE_RETRY_WAIT {
                            last = format!("{status}: {}", error.message);
                            progress(SyncEvent::Retrying {
                                attempt,
                                reason: last.clone(),
                            });
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        return Err(ClientError::RateLimited {
                            url: self.base.clone(),
                            retry_after_seconds: wait.as_secs().max(1),
                        });
                    }
                    if status < 500 {
                        return Err(ClientError::Rejected { status, error });
                    }
                    last = format!("{status}: {}", error.message);
                }
                Err(e) => last = e.to_string(),
            }
            progress(SyncEvent::Retrying {
                attempt,
                reason: last.clone(),
            });
            if attempt < self.max_attempts {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
        Err(ClientError::Network {
            url: self.base.clone(),
            reason: last,
        })
    }
}

async fn read_chunk(path: &Path, offset: u64, max: usize) -> std::io::Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
    let mut f = tokio::fs::File::open(path).await?;
    f.seek(std::io::SeekFrom::Start(offset)).await?;
    let mut buf = Vec::with_capacity(max);
    f.take(max as u64).read_to_end(&mut buf).await?;
    Ok(buf)
}
