//! The notary's configuration: one typed struct in sections (database, media with its object
//! store, ledger, limits, identity), from an optional TOML file (the same sections as tables)
//! and then `TIEZHENG_NOTARY_<FIELD>` environment variables, with defaults that work on a
//! laptop (SQLite and a media store under `./tiezheng-data`, listening on 127.0.0.1).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tiezheng_protocol::certificate::{IssuerStanding, OperatorType};

/// Notary settings.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotaryConfig {
    /// Address to listen on; port 0 picks a free port (printed at start).
    pub listen: String,
    /// Directory for the SQLite database, the media store and the notary key.
    pub data_dir: PathBuf,
    /// Worker threads for HTTP (0: one per core).
    pub workers: usize,
    /// A second address serving only `/metrics`, without a token (for a scraper on a private
    /// network); unset: `/metrics` on `listen` needs a `metrics` or admin token.
    /// (`METRICS_LISTEN`)
    pub metrics_listen: Option<String>,
    /// The database.
    pub database: DatabaseConfig,
    /// Where media files are stored.
    pub media: MediaConfig,
    /// Batching and the ledger the notary anchors on.
    pub ledger: LedgerConfig,
    /// Bounds on requests and rates.
    pub limits: LimitsConfig,
    /// Who the notary is: its key, its administrator, how certificates name it.
    pub identity: IdentityConfig,
    /// TLS, or the proxy that terminates it.
    pub tls: TlsConfig,
}

/// TLS (`[tls]`): the notary terminates it itself with a certificate and key, or a proxy in
/// front does. Plain HTTP is served on loopback addresses only, unless `behind_proxy`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain (the server's certificate first). (`TLS_CERT_FILE`)
    pub cert_file: Option<PathBuf>,
    /// PEM private key of that certificate. (`TLS_KEY_FILE`)
    pub key_file: Option<PathBuf>,
    /// Plain HTTP on a non-loopback address, because a TLS-terminating proxy is in front.
    /// (`BEHIND_TLS_PROXY`)
    pub behind_proxy: bool,
}

/// The database (`[database]`).
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Database URL; default `sqlite://<data_dir>/notary.db`. `postgres://...` for production.
    /// (`DATABASE_URL`)
    pub url: Option<String>,
}

/// Where media files are stored (`[media]`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// The local folder; default `<data_dir>/media`. (`MEDIA_DIR`)
    pub dir: Option<PathBuf>,
    /// Where finished media are stored instead of `dir`: `s3://bucket/prefix` (an
    /// S3-compatible bucket; uploads in progress stay under `dir/partial`). (`MEDIA_URL`)
    pub url: Option<String>,
    /// The object store's settings, when `url` is set.
    pub s3: S3Config,
}

/// An S3-compatible object store (`[media.s3]`).
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Endpoint, e.g. `http://127.0.0.1:9000`; default AWS. (`S3_ENDPOINT`)
    pub endpoint: Option<String>,
    /// Region; default `us-east-1`. (`S3_REGION`)
    pub region: Option<String>,
    /// Access key id. (`S3_ACCESS_KEY_ID`)
    pub access_key_id: Option<String>,
    /// Secret access key. Never logged. (`S3_SECRET_ACCESS_KEY`)
    pub secret_access_key: Option<String>,
    /// Allow plain HTTP to the endpoint. (`S3_ALLOW_HTTP`)
    pub allow_http: bool,
}

/// Batching and the ledger (`[ledger]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerConfig {
    /// RPC address of this organisation's CometBFT node (e.g. `http://127.0.0.1:26657`): when
    /// set, batches are anchored on the consortium ledger there; when unset, on the embedded
    /// single-validator ledger under `<data_dir>/chain`. (`COMETBFT_RPC`)
    pub cometbft_rpc: Option<String>,
    /// A batch closes when it holds this many proofs... (`BATCH_MAX_LEAVES`)
    pub batch_max_leaves: usize,
    /// ...or when its oldest proof has waited this many milliseconds. (`BATCH_MAX_MS`)
    pub batch_max_ms: i64,
    /// When custody events wait uncommitted and no batch of proofs has closed for this many
    /// milliseconds, a batch of no proof closes to commit the custody log to the ledger.
    /// (`CUSTODY_ANCHOR_MS`)
    pub custody_anchor_ms: i64,
    /// Proofs waiting this many milliseconds for a complete bundle (anchored and, on the
    /// consortium ledger, covered by a cosigned checkpoint) make `/readyz` answer `degraded`
    /// and the notary warn with the cause. 0: never. (`ANCHORING_STALL_MS`)
    pub anchoring_stall_ms: i64,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            cometbft_rpc: None,
            batch_max_leaves: 1024,
            batch_max_ms: 1000,
            custody_anchor_ms: 5000,
            anchoring_stall_ms: 60_000,
        }
    }
}

/// Bounds on requests and rates (`[limits]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest JSON request body in bytes. (`MAX_BODY_BYTES`)
    pub max_body_bytes: usize,
    /// Most proofs in one submission. (`MAX_BATCH`)
    pub max_batch: usize,
    /// Largest media chunk in one upload request, in bytes. (`MAX_MEDIA_CHUNK_BYTES`)
    pub max_media_chunk_bytes: usize,
    /// Longest wait, in milliseconds, for the next piece of a request body (and for the
    /// whole body of an anonymous request): a stalled client is answered 408 and holds
    /// nothing others wait for. (`BODY_TIMEOUT_MS`)
    pub body_timeout_ms: u64,
    /// Requests each authenticated token may make per second (bursts of four times as many);
    /// 0: unlimited. (`TOKEN_REQUESTS_PER_SECOND`)
    pub token_requests_per_second: u32,
    /// Proofs each device may submit per second (bursts of ten times as many, so a phone
    /// back online sends its queue at once); 0: unlimited. (`DEVICE_PROOFS_PER_SECOND`)
    pub device_proofs_per_second: u32,
    /// Failed enrolment attempts (unknown, used or expired codes) allowed per client address
    /// per minute, after a burst of 5; 0: unlimited. (`ENROL_ATTEMPTS_PER_MINUTE`)
    pub enrol_attempts_per_minute: u32,
    /// Public certificate checks (`GET /v1/public/certificates/{number}`, the `/check` page)
    /// allowed per client address per minute, after a burst of 10; 0: unlimited.
    /// (`PUBLIC_CHECKS_PER_MINUTE`)
    pub public_checks_per_minute: u32,
    /// Evidence reads (views, downloads, bundles, certificates, thumbnails) each appraiser,
    /// court or admin token may make per day (refilled continuously); 0: unlimited.
    /// (`TOKEN_READS_PER_DAY`)
    pub token_reads_per_day: u32,
    /// Lifetime of enrolment codes, in seconds. (`ENROLMENT_CODE_TTL_SECONDS`)
    pub enrolment_code_ttl_seconds: i64,
    /// Lifetime of device API tokens, in seconds. (`DEVICE_TOKEN_TTL_SECONDS`)
    pub device_token_ttl_seconds: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024 * 1024,
            max_batch: 500,
            max_media_chunk_bytes: 8 * 1024 * 1024,
            body_timeout_ms: 30_000,
            token_requests_per_second: 50,
            device_proofs_per_second: 100,
            enrol_attempts_per_minute: 6,
            public_checks_per_minute: 30,
            token_reads_per_day: 20_000,
            enrolment_code_ttl_seconds: 7 * 24 * 3600,
            device_token_ttl_seconds: 365 * 24 * 3600,
        }
    }
}

/// Who the notary is (`[identity]`).
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// The notary's SM2 key file; default `<data_dir>/notary-key.json` (created if missing).
    /// (`KEY_FILE`)
    pub key_file: Option<PathBuf>,
    /// Administrator bearer token. If unset, one is generated at first start and written to
    /// `<data_dir>/admin-token` (mode 0600). Never logged. (`ADMIN_TOKEN`)
    pub admin_token: Option<String>,
    /// The name the service is known by, as certificates state it. (`CERTIFICATE_ISSUER`)
    pub certificate_issuer: String,
    /// `evidence_platform` (存证平台, the default: certificates are 存证证书) or
    /// `notary_office` (公证机构: only then do documents speak of 公证). (`OPERATOR_TYPE`)
    pub operator_type: OperatorType,
    /// The operator's registered legal name (法定名称). (`ISSUER_LEGAL_NAME`)
    pub legal_name: String,
    /// Its unified social credit code (统一社会信用代码, GB 32100-2015, checked). The default
    /// is a demonstration value, refused off loopback. (`ISSUER_CREDIT_CODE`)
    pub credit_code: String,
    /// Its blockchain information service filing number (区块链信息服务备案编号), if any.
    /// (`ISSUER_FILING_NUMBER`)
    pub filing_number: Option<String>,
    /// How a court reaches the operator (address, telephone). (`ISSUER_CONTACT`)
    pub contact: String,
    /// The address courts reach this notary at (`https://notary.example.cn`); certificates'
    /// QR codes open `<public_url>/verify`. Default: `http://<listen>`. (`PUBLIC_URL`)
    pub public_url: Option<String>,
    /// The judicial parties whose appraisal steps this notary accepts: a JSON list of
    /// `{"id", "role": "court" | "appraisal_institution", "public_key"}`, as courts pin them
    /// (`VERIFYING.md` §2). Unset: no appraisal is accepted. (`JUDICIAL_PARTIES_FILE`)
    pub judicial_parties_file: Option<PathBuf>,
}

/// The unified social credit code of the default configuration: a well-formed demonstration
/// value, for a laptop's notary only (refused off loopback).
pub const DEMO_CREDIT_CODE: &str = "91110108MA01TE000B";

impl IdentityConfig {
    /// The issuer's standing as certificates state it, checked; the message names the setting
    /// to fix.
    pub fn issuer_standing(&self) -> Result<IssuerStanding, String> {
        let standing = IssuerStanding {
            operator_type: self.operator_type,
            name: self.certificate_issuer.clone(),
            legal_name: self.legal_name.clone(),
            credit_code: self.credit_code.clone(),
            filing_number: self.filing_number.clone(),
            contact: self.contact.clone(),
        };
        standing.check().map_err(|e| {
            format!(
                "the issuer's standing ([identity] certificate_issuer, legal_name, credit_code, \
                 filing_number, contact; TIEZHENG_NOTARY_CERTIFICATE_ISSUER, _ISSUER_LEGAL_NAME, \
                 _ISSUER_CREDIT_CODE, _ISSUER_FILING_NUMBER, _ISSUER_CONTACT): {e}"
            )
        })?;
        Ok(standing)
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            key_file: None,
            admin_token: None,
            certificate_issuer: "铁证存证服务（演示） Tiezheng evidence service (demo)".into(),
            operator_type: OperatorType::EvidencePlatform,
            legal_name: "铁证示例科技有限公司（演示数据） Tiezheng Example Co. (demo data)".into(),
            credit_code: DEMO_CREDIT_CODE.into(),
            filing_number: None,
            contact: "演示环境，无联系人 demonstration only, no contact".into(),
            public_url: None,
            judicial_parties_file: None,
        }
    }
}

impl Default for NotaryConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8700".into(),
            data_dir: PathBuf::from("tiezheng-data"),
            workers: 0,
            metrics_listen: None,
            database: DatabaseConfig::default(),
            media: MediaConfig::default(),
            ledger: LedgerConfig::default(),
            limits: LimitsConfig::default(),
            identity: IdentityConfig::default(),
            tls: TlsConfig::default(),
        }
    }
}

impl fmt::Debug for NotaryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotaryConfig")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("workers", &self.workers)
            .field("metrics_listen", &self.metrics_listen)
            .field("database", &self.database)
            .field("media", &self.media)
            .field("ledger", &self.ledger)
            .field("limits", &self.limits)
            .field("identity", &self.identity)
            .field("tls", &self.tls)
            .finish()
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .finish()
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

impl fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("key_file", &self.key_file)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("certificate_issuer", &self.certificate_issuer)
            .field("operator_type", &self.operator_type)
            .field("legal_name", &self.legal_name)
            .field("credit_code", &self.credit_code)
            .field("filing_number", &self.filing_number)
            .field("contact", &self.contact)
            .field("public_url", &self.public_url)
            .field("judicial_parties_file", &self.judicial_parties_file)
            .finish()
    }
}

/// A URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = url.get(scheme + 3..at).unwrap_or("");
            let user = creds.split(':').next().unwrap_or("");
            format!(
                "{}{user}:***{}",
                url.get(..scheme + 3).unwrap_or(""),
                url.get(at..).unwrap_or("")
            )
        }
        _ => url.to_owned(),
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this struct.
    #[error("configuration file {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the field.
        message: String,
    },
    /// An environment variable has a bad value.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl NotaryConfig {
    /// Loads `file` (if given), then applies `TIEZHENG_NOTARY_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?
            }
            None => Self::default(),
        };
        for (name, value) in env {
            let Some(field) = name.strip_prefix("TIEZHENG_NOTARY_") else {
                continue;
            };
            cfg.set(field, value).map_err(|message| ConfigError::Env {
                name: name.clone(),
                message: message.to_owned(),
            })?;
        }
        Ok(cfg)
    }

    /// Applies one `TIEZHENG_NOTARY_<field>` variable.
    fn set(&mut self, field: &str, value: String) -> Result<(), &'static str> {
        let number = |v: &str| v.parse::<usize>().map_err(|_| "expected a whole number");
        let small = |v: &str| u32::try_from(number(v)?).map_err(|_| "too large");
        let int = |v: &str| Ok::<_, &'static str>(i64::try_from(number(v)?).unwrap_or(i64::MAX));
        let text = |v: String| Some(v).filter(|v| !v.is_empty());
        let flag = |v: &str| match v {
            "1" | "true" => Ok(true),
            "0" | "false" | "" => Ok(false),
            _ => Err("expected true or false"),
        };
        match field {
            "LISTEN" => self.listen = value,
            "DATA_DIR" => self.data_dir = PathBuf::from(value),
            "WORKERS" => self.workers = number(&value)?,
            "METRICS_LISTEN" => self.metrics_listen = text(value),
            "DATABASE_URL" => self.database.url = Some(value),
            "MEDIA_DIR" => self.media.dir = Some(PathBuf::from(value)),
            "MEDIA_URL" => self.media.url = text(value),
            "S3_ENDPOINT" => self.media.s3.endpoint = text(value),
            "S3_REGION" => self.media.s3.region = text(value),
            "S3_ACCESS_KEY_ID" => self.media.s3.access_key_id = Some(value),
            "S3_SECRET_ACCESS_KEY" => self.media.s3.secret_access_key = Some(value),
            "S3_ALLOW_HTTP" => self.media.s3.allow_http = flag(&value)?,
            "TLS_CERT_FILE" => self.tls.cert_file = text(value).map(PathBuf::from),
            "TLS_KEY_FILE" => self.tls.key_file = text(value).map(PathBuf::from),
            "BEHIND_TLS_PROXY" => self.tls.behind_proxy = flag(&value)?,
            "COMETBFT_RPC" => self.ledger.cometbft_rpc = text(value),
            "BATCH_MAX_LEAVES" => self.ledger.batch_max_leaves = number(&value)?.max(1),
            "BATCH_MAX_MS" => self.ledger.batch_max_ms = int(&value)?,
            "CUSTODY_ANCHOR_MS" => self.ledger.custody_anchor_ms = int(&value)?,
            "ANCHORING_STALL_MS" => self.ledger.anchoring_stall_ms = int(&value)?,
            "MAX_BODY_BYTES" => self.limits.max_body_bytes = number(&value)?,
            "MAX_BATCH" => self.limits.max_batch = number(&value)?,
            "MAX_MEDIA_CHUNK_BYTES" => self.limits.max_media_chunk_bytes = number(&value)?,
            "BODY_TIMEOUT_MS" => {
                self.limits.body_timeout_ms =
                    u64::try_from(number(&value)?.max(1)).unwrap_or(u64::MAX)
            }
            "TOKEN_REQUESTS_PER_SECOND" => self.limits.token_requests_per_second = small(&value)?,
            "DEVICE_PROOFS_PER_SECOND" => self.limits.device_proofs_per_second = small(&value)?,
            "ENROL_ATTEMPTS_PER_MINUTE" => self.limits.enrol_attempts_per_minute = small(&value)?,
            "PUBLIC_CHECKS_PER_MINUTE" => self.limits.public_checks_per_minute = small(&value)?,
            "TOKEN_READS_PER_DAY" => self.limits.token_reads_per_day = small(&value)?,
            "ENROLMENT_CODE_TTL_SECONDS" => self.limits.enrolment_code_ttl_seconds = int(&value)?,
            "DEVICE_TOKEN_TTL_SECONDS" => self.limits.device_token_ttl_seconds = int(&value)?,
            "KEY_FILE" => self.identity.key_file = Some(PathBuf::from(value)),
            "ADMIN_TOKEN" => self.identity.admin_token = Some(value),
            "CERTIFICATE_ISSUER" => self.identity.certificate_issuer = value,
            "OPERATOR_TYPE" => {
                self.identity.operator_type = match value.as_str() {
                    "evidence_platform" => OperatorType::EvidencePlatform,
                    "notary_office" => OperatorType::NotaryOffice,
                    _ => return Err("use evidence_platform or notary_office"),
                }
            }
            "ISSUER_LEGAL_NAME" => self.identity.legal_name = value,
            "ISSUER_CREDIT_CODE" => self.identity.credit_code = value,
            "ISSUER_FILING_NUMBER" => self.identity.filing_number = text(value),
            "ISSUER_CONTACT" => self.identity.contact = value,
            "PUBLIC_URL" => self.identity.public_url = text(value),
            "JUDICIAL_PARTIES_FILE" => {
                self.identity.judicial_parties_file = Some(PathBuf::from(value))
            }
            _ => return Err("unknown setting; see NotaryConfig for the names"),
        }
        Ok(())
    }

    /// The online verification page certificates point to: `<public_url>/verify` (on
    /// loopback without a public URL, the listen address: a laptop's own notary).
    pub fn verify_url(&self) -> String {
        let scheme = if self.tls.cert_file.is_some() {
            "https"
        } else {
            "http"
        };
        let base = self
            .identity
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{}", self.listen));
        format!("{}/verify", base.trim_end_matches('/'))
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database.url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("notary.db").display()
            )
        })
    }

    /// The media directory in effect.
    pub fn media_dir(&self) -> PathBuf {
        self.media
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("media"))
    }

    /// The media store these settings describe: the local folder, or a bucket when
    /// `media.url` is set.
    pub fn open_media(&self) -> Result<crate::media::MediaStore, crate::media::MediaError> {
        crate::media::MediaStore::open_with(&self.media_dir(), self.s3_settings().as_ref())
    }

    /// The object store for finished media, when `media.url` is set.
    pub fn s3_settings(&self) -> Option<crate::media::S3Settings> {
        let url = self.media.url.clone()?;
        let s3 = &self.media.s3;
        Some(crate::media::S3Settings {
            url,
            endpoint: s3.endpoint.clone(),
            region: s3.region.clone(),
            access_key_id: s3.access_key_id.clone(),
            secret_access_key: s3.secret_access_key.clone(),
            allow_http: s3.allow_http,
        })
    }

    /// The key file in effect.
    pub fn key_file(&self) -> PathBuf {
        self.identity
            .key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("notary-key.json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_and_secrets_stay_secret() {
        let env = vec![
            (
                "TIEZHENG_NOTARY_LISTEN".to_owned(),
                "127.0.0.1:0".to_owned(),
            ),
            (
                "TIEZHENG_NOTARY_ADMIN_TOKEN".to_owned(),
                "s3cret-admin".to_owned(),
            ),
            (
                "TIEZHENG_NOTARY_DATABASE_URL".to_owned(),
                "postgres://tz:pw@localhost/tz".to_owned(),
            ),
            ("PATH".to_owned(), "/bin".to_owned()),
        ];
        let cfg = NotaryConfig::load(None, env).unwrap();
        assert_eq!(cfg.listen, "127.0.0.1:0");
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("s3cret-admin") && !shown.contains(":pw@"),
            "{shown}"
        );
        let bad = NotaryConfig::load(
            None,
            vec![("TIEZHENG_NOTARY_MAX_BATCH".to_owned(), "many".to_owned())],
        );
        assert!(matches!(bad, Err(ConfigError::Env { .. })));
        let unknown = NotaryConfig::load(
            None,
            vec![("TIEZHENG_NOTARY_COLOUR".to_owned(), "red".to_owned())],
        );
        assert!(unknown.is_err());
    }

    #[test]
    fn a_file_in_sections_then_the_environment_over_it() {
        let dir = std::env::temp_dir().join(format!("tz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("notary.toml");
        std::fs::write(
            &file,
            r#"
listen = "0.0.0.0:8700"
[database]
url = "postgres://tz:pw@db/tz"
[media]
url = "s3://evidence"
[media.s3]
endpoint = "http://127.0.0.1:9000"
secret_access_key = "s3cret-key"
[ledger]
cometbft_rpc = "http://127.0.0.1:26657"
batch_max_ms = 250
[limits]
max_batch = 100
[identity]
public_url = "https://notary.example.cn"
"#,
        )
        .unwrap();
        let env = vec![("TIEZHENG_NOTARY_BATCH_MAX_MS".to_owned(), "500".to_owned())];
        let cfg = NotaryConfig::load(Some(&file), env).unwrap();
        assert_eq!(cfg.listen, "0.0.0.0:8700");
        assert_eq!(cfg.ledger.batch_max_ms, 500, "the environment wins");
        assert_eq!(cfg.ledger.batch_max_leaves, 1024, "defaults fill the rest");
        assert_eq!(cfg.limits.max_batch, 100);
        assert_eq!(cfg.verify_url(), "https://notary.example.cn/verify");
        assert_eq!(
            cfg.s3_settings().unwrap().endpoint.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("s3cret-key") && !shown.contains(":pw@"),
            "{shown}"
        );
        // A flat (old-style) or misspelt key is refused, naming it.
        std::fs::write(&file, "batch_max_ms = 250\n").unwrap();
        let e = NotaryConfig::load(Some(&file), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("batch_max_ms"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn s3_media_settings_from_the_environment() {
        assert!(NotaryConfig::default().s3_settings().is_none());
        let env = [
            ("MEDIA_URL", "s3://evidence/tz"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3_REGION", "cn-east-1"),
            ("S3_ACCESS_KEY_ID", "AK"),
            ("S3_SECRET_ACCESS_KEY", "s3cret-key"),
            ("S3_ALLOW_HTTP", "true"),
        ]
        .map(|(k, v)| (format!("TIEZHENG_NOTARY_{k}"), v.to_owned()));
        let cfg = NotaryConfig::load(None, env).unwrap();
        let s3 = cfg.s3_settings().unwrap();
        assert_eq!(s3.url, "s3://evidence/tz");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(s3.allow_http);
        assert!(!format!("{cfg:?}{s3:?}").contains("s3cret-key"));
        let bad = NotaryConfig::load(
            None,
            vec![(
                "TIEZHENG_NOTARY_S3_ALLOW_HTTP".to_owned(),
                "perhaps".to_owned(),
            )],
        );
        assert!(matches!(bad, Err(ConfigError::Env { .. })));
        let no_bucket = crate::media::MediaStore::open_s3(
            &std::env::temp_dir().join("tz-no-bucket"),
            &crate::media::S3Settings {
                url: "s3:///prefix".into(),
                ..Default::default()
            },
        );
        assert!(matches!(
            no_bucket,
            Err(crate::media::MediaError::Config(_))
        ));
    }
}
