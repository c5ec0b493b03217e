//! The notary's configuration: one typed struct, from an optional TOML file and then
//! `TIEZHENG_NOTARY_<FIELD>` environment variables, with defaults that work on a laptop
//! (SQLite and a media store under `./tiezheng-data`, listening on 127.0.0.1).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Notary settings.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotaryConfig {
    /// Address to listen on; port 0 picks a free port (printed at start).
    pub listen: String,
    /// Directory for the SQLite database, the media store and the notary key.
    pub data_dir: PathBuf,
    /// Database URL; default `sqlite://<data_dir>/notary.db`. `postgres://...` for production.
    pub database_url: Option<String>,
    /// Where media files are stored; default `<data_dir>/media`.
    pub media_dir: Option<PathBuf>,
    /// Where finished media are stored instead of `media_dir`: `s3://bucket/prefix` (an
    /// S3-compatible bucket; uploads in progress stay under `media_dir/partial`).
    pub media_url: Option<String>,
    /// S3 endpoint, e.g. `http://127.0.0.1:9000`; default AWS.
    pub s3_endpoint: Option<String>,
    /// S3 region; default `us-east-1`.
    pub s3_region: Option<String>,
    /// S3 access key id.
    pub s3_access_key_id: Option<String>,
    /// S3 secret access key. Never logged.
    pub s3_secret_access_key: Option<String>,
    /// Allow plain HTTP to the S3 endpoint.
    pub s3_allow_http: bool,
    /// The notary's SM2 key file; default `<data_dir>/notary-key.json` (created if missing).
    pub key_file: Option<PathBuf>,
    /// Administrator bearer token. If unset, one is generated at first start and written to
    /// `<data_dir>/admin-token` (mode 0600). Never logged.
    pub admin_token: Option<String>,
    /// Largest JSON request body in bytes.
    pub max_body_bytes: usize,
    /// Most proofs in one submission.
    pub max_batch: usize,
    /// Largest media chunk in one upload request, in bytes.
    pub max_media_chunk_bytes: usize,
    /// Lifetime of enrolment codes, in seconds.
    pub enrolment_code_ttl_seconds: i64,
    /// Lifetime of device API tokens, in seconds.
    pub device_token_ttl_seconds: i64,
    /// Longest wait, in milliseconds, for the next piece of a request body (and for the
    /// whole body of an anonymous request): a stalled client is answered 408 and holds
    /// nothing others wait for.
    pub body_timeout_ms: u64,
    /// Requests each authenticated token may make per second (bursts of four times as many);
    /// 0: unlimited.
    pub token_requests_per_second: u32,
    /// Proofs each device may submit per second (bursts of ten times as many, so a phone
    /// back online sends its queue at once); 0: unlimited.
    pub device_proofs_per_second: u32,
    /// Failed enrolment attempts (unknown, used or expired codes) allowed per client address
    /// per minute, after a burst of 5; 0: unlimited.
    pub enrol_attempts_per_minute: u32,
    /// Worker threads for HTTP (0: one per core).
    pub workers: usize,
    /// A batch closes when it holds this many proofs...
    pub batch_max_leaves: usize,
    /// ...or when its oldest proof has waited this many milliseconds.
    pub batch_max_ms: i64,
    /// Proofs waiting this many milliseconds for a complete bundle (anchored and, on the
    /// consortium ledger, covered by a cosigned checkpoint) make `/readyz` answer `degraded`
    /// and the notary warn with the cause. 0: never.
    pub anchoring_stall_ms: i64,
    /// RPC address of this organisation's CometBFT node (e.g. `http://127.0.0.1:26657`): when
    /// set, batches are anchored on the consortium ledger there; when unset, on the embedded
    /// single-validator ledger under `<data_dir>/chain`.
    pub cometbft_rpc: Option<String>,
    /// The notary's name as certificates state it (the issuer).
    pub certificate_issuer: String,
    /// The address courts reach this notary at (`https://notary.example.cn`); certificates'
    /// QR codes open `<public_url>/verify`. Default: `http://<listen>`.
    pub public_url: Option<String>,
}

impl Default for NotaryConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8700".into(),
            data_dir: PathBuf::from("tiezheng-data"),
            database_url: None,
            media_dir: None,
            media_url: None,
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            key_file: None,
            admin_token: None,
            max_body_bytes: 16 * 1024 * 1024,
            max_batch: 500,
            max_media_chunk_bytes: 8 * 1024 * 1024,
            enrolment_code_ttl_seconds: 7 * 24 * 3600,
            device_token_ttl_seconds: 365 * 24 * 3600,
            body_timeout_ms: 30_000,
            token_requests_per_second: 50,
            device_proofs_per_second: 100,
            enrol_attempts_per_minute: 6,
            workers: 0,
            batch_max_leaves: 1024,
            batch_max_ms: 1000,
            anchoring_stall_ms: 60_000,
            cometbft_rpc: None,
            certificate_issuer: "铁证公证服务 Tiezheng notary".into(),
            public_url: None,
        }
    }
}

impl fmt::Debug for NotaryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotaryConfig")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("media_dir", &self.media_dir)
            .field("media_url", &self.media_url)
            .field("s3_endpoint", &self.s3_endpoint)
            .field(
                "s3_secret_access_key",
                &self.s3_secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("key_file", &self.key_file)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_batch", &self.max_batch)
            .field("max_media_chunk_bytes", &self.max_media_chunk_bytes)
            .field("cometbft_rpc", &self.cometbft_rpc)
            .finish_non_exhaustive()
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
            let bad = |message: &str| ConfigError::Env {
                name: name.clone(),
                message: message.to_owned(),
            };
            let number = |v: &str| {
                v.parse::<usize>()
                    .map_err(|_| bad("expected a whole number"))
            };
            match field {
                "LISTEN" => cfg.listen = value,
                "DATA_DIR" => cfg.data_dir = PathBuf::from(value),
                "DATABASE_URL" => cfg.database_url = Some(value),
                "MEDIA_DIR" => cfg.media_dir = Some(PathBuf::from(value)),
                "MEDIA_URL" => cfg.media_url = Some(value).filter(|v| !v.is_empty()),
                "S3_ENDPOINT" => cfg.s3_endpoint = Some(value).filter(|v| !v.is_empty()),
                "S3_REGION" => cfg.s3_region = Some(value).filter(|v| !v.is_empty()),
                "S3_ACCESS_KEY_ID" => cfg.s3_access_key_id = Some(value),
                "S3_SECRET_ACCESS_KEY" => cfg.s3_secret_access_key = Some(value),
                "S3_ALLOW_HTTP" => {
                    cfg.s3_allow_http = match value.as_str() {
                        "1" | "true" => true,
                        "0" | "false" | "" => false,
                        _ => return Err(bad("expected true or false")),
                    }
                }
                "KEY_FILE" => cfg.key_file = Some(PathBuf::from(value)),
                "ADMIN_TOKEN" => cfg.admin_token = Some(value),
                "COMETBFT_RPC" => cfg.cometbft_rpc = Some(value).filter(|v| !v.is_empty()),
                "CERTIFICATE_ISSUER" => cfg.certificate_issuer = value,
                "PUBLIC_URL" => cfg.public_url = Some(value).filter(|v| !v.is_empty()),
                "MAX_BODY_BYTES" => cfg.max_body_bytes = number(&value)?,
                "MAX_BATCH" => cfg.max_batch = number(&value)?,
                "MAX_MEDIA_CHUNK_BYTES" => cfg.max_media_chunk_bytes = number(&value)?,
                "WORKERS" => cfg.workers = number(&value)?,
                "TOKEN_REQUESTS_PER_SECOND" => {
                    cfg.token_requests_per_second =
                        u32::try_from(number(&value)?).map_err(|_| bad("too large"))?;
                }
                "DEVICE_PROOFS_PER_SECOND" => {
                    cfg.device_proofs_per_second =
                        u32::try_from(number(&value)?).map_err(|_| bad("too large"))?;
                }
                "ENROL_ATTEMPTS_PER_MINUTE" => {
                    cfg.enrol_attempts_per_minute =
                        u32::try_from(number(&value)?).map_err(|_| bad("too large"))?;
                }
                "BODY_TIMEOUT_MS" => {
                    cfg.body_timeout_ms = u64::try_from(number(&value)?.max(1)).unwrap_or(u64::MAX)
                }
                "BATCH_MAX_LEAVES" => cfg.batch_max_leaves = number(&value)?.max(1),
                "ANCHORING_STALL_MS" => {
                    cfg.anchoring_stall_ms = i64::try_from(number(&value)?).unwrap_or(i64::MAX)
                }
                "BATCH_MAX_MS" => {
                    cfg.batch_max_ms = i64::try_from(number(&value)?).unwrap_or(i64::MAX)
                }
                _ => return Err(bad("unknown setting; see NotaryConfig for the names")),
            }
        }
        Ok(cfg)
    }

    /// The online verification page certificates point to: `<public_url>/verify`.
    pub fn verify_url(&self) -> String {
        let base = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        format!("{}/verify", base.trim_end_matches('/'))
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("notary.db").display()
            )
        })
    }

    /// The media directory in effect.
    pub fn media_dir(&self) -> PathBuf {
        self.media_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("media"))
    }

    /// The media store these settings describe: the local folder, or a bucket when
    /// `media_url` is set.
    pub fn open_media(&self) -> Result<crate::media::MediaStore, crate::media::MediaError> {
        crate::media::MediaStore::open_with(&self.media_dir(), self.s3_settings().as_ref())
    }

    /// The object store for finished media, when `media_url` is set.
    pub fn s3_settings(&self) -> Option<crate::media::S3Settings> {
        let url = self.media_url.clone()?;
        Some(crate::media::S3Settings {
            url,
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
            allow_http: self.s3_allow_http,
        })
    }

    /// The key file in effect.
    pub fn key_file(&self) -> PathBuf {
        self.key_file
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
