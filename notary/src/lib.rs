/*!
The Tiezheng notary: the service officers' phones talk to.

It enrols devices (one-time code plus proof of possession of the device's SM2 key, answered
with an SM2-signed device certificate), verifies each incoming proof with
[`tiezheng_protocol`] (canonical form, SM2 signature, enrolled and unrevoked device, sequence
and previous-manifest link), stores it durably and only then answers with an SM2-signed
[receipt](tiezheng_protocol::notary::Receipt). Media arrive by resumable upload into a
write-once, content-addressed store and are kept only if both digests match the proof. Every
event on an item is appended to a hash-chained custody log; reading evidence is itself an
event. Batching and anchoring on the consortium ledger (`tiezheng-chain`) build on this.

Run it with [`run`] (or `tiezheng serve`): SQLite and a local media store under
`./tiezheng-data` by default, PostgreSQL with `TIEZHENG_NOTARY_DATABASE_URL=postgres://...`.
*/
#![forbid(unsafe_code)]

pub mod anchoring;
pub mod api;
pub mod audit;
pub mod config;
pub mod error;
pub mod error_codes;
pub mod keys;
pub mod liveness;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod private;
pub mod renditions;
pub mod sequencer;
pub mod store;
pub mod throttle;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

pub use config::NotaryConfig;
pub use tiezheng_protocol as protocol;

use crate::api::{AppState, Role};

/// Why the notary could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The data directory or media store failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being prepared.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// The key file failed.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// The database failed.
    #[error("{0} ({1})")]
    Store(store::StoreError, String),
    /// A setting cannot be used as given; the message names it and what to do.
    #[error("{0}")]
    Config(String),
    /// The notary may not listen as configured (plain HTTP off loopback, no public URL, a
    /// certificate that cannot be used).
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// A notary bound to its port and ready to run.
pub struct Notary {
    /// The address it listens on (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// `https` when the notary terminates TLS, else `http`.
    pub scheme: &'static str,
    /// The notary's SM2 key ID (hex): the fingerprint devices pin at enrolment.
    pub key_id: String,
    /// Where the generated admin token was written, if one was generated.
    pub admin_token_file: Option<std::path::PathBuf>,
    /// The separate metrics listener's address, when one is configured.
    pub metrics_addr: Option<SocketAddr>,
    server: Server,
    metrics_server: Option<Server>,
}

impl std::fmt::Debug for Notary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notary")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Notary {
    /// Opens storage, loads or creates the notary key, bootstraps the admin token and binds.
    pub async fn build(config: NotaryConfig) -> Result<Self, StartError> {
        let io = |what: String| move |source| StartError::Io { what, source };
        let tls = tls::server_config(&config)?;
        // Every certificate states the issuer's standing for good: checked before serving,
        // and the demonstration values only on a laptop.
        let standing = config
            .identity
            .issuer_standing()
            .map_err(StartError::Config)?;
        if standing.credit_code == config::DEMO_CREDIT_CODE && !tls::is_loopback(&config.listen) {
            return Err(StartError::Config(format!(
                "refusing to issue certificates with the demonstration credit code {} on {}: set \
                 TIEZHENG_NOTARY_ISSUER_CREDIT_CODE, _ISSUER_LEGAL_NAME, _CERTIFICATE_ISSUER, \
                 _ISSUER_CONTACT (and _OPERATOR_TYPE, _ISSUER_FILING_NUMBER) to the operator's own",
                config::DEMO_CREDIT_CODE,
                config.listen
            )));
        }
        make_private(&config.data_dir, "data directory")?;
        if config.media.url.is_none() && !config.media_dir().starts_with(&config.data_dir) {
            make_private(&config.media_dir(), "media directory")?;
        }
        if config.database.url.is_none() {
            // SQLite gives its log files the database file's mode: create it 0600 first.
            let db = config.data_dir.join("notary.db");
            if !db.exists() {
                keys::write_private(&db, b"")
                    .map_err(io(format!("creating the database {}", db.display())))?;
            }
        }
        let key = keys::load_or_create(&config.key_file())?;
        let url = config.database_url();
        let store = store::Store::connect(&url)
            .await
            .map_err(|e| StartError::Store(e, config::redact_url(&url)))?;
        let media = config.open_media().map_err(|e| StartError::Io {
            what: format!("opening media store {}", config.media_dir().display()),
            source: std::io::Error::other(e),
        })?;

        let admin_token_file = bootstrap_admin(&config, &store).await?;

        let anchoring = match &config.ledger.cometbft_rpc {
            Some(rpc) => anchoring::Anchoring::cometbft(rpc).map_err(|e| StartError::Io {
                what: "setting up the CometBFT ledger client".into(),
                source: std::io::Error::other(e),
            })?,
            None => {
                let member_key = keys::load_or_create(&config.data_dir.join("member-key.json"))?;
                anchoring::Anchoring::open(&config.data_dir.join("chain"), &key, member_key)
                    .map_err(|e| StartError::Io {
                        what: "opening the embedded ledger".into(),
                        source: std::io::Error::other(e),
                    })?
            }
        };
        let sequencer = sequencer::Sequencer::start(store.clone(), key.clone());
        let state = Arc::new(AppState {
            anchoring,
            store,
            key,
            metrics: metrics::Metrics::default(),
            liveness: liveness::Liveness::default(),
            media,
            sequencer,
            throttle: throttle::Throttle::new(&config),
            renditions: renditions::Renditions::open(config.data_dir.join("renditions"))
                .map_err(io("opening the renditions folder".into()))?,
            config: config.clone(),
        });
        let data = web::Data::new(state.clone());
        let checkpoints = state.store.clone();
        actix_web::rt::spawn(async move {
            // The SQLite write-ahead log is copied into the database file here, twice a
            // second, never by intake's commits.
            let mut every = actix_web::rt::time::interval(std::time::Duration::from_millis(500));
            loop {
                every.tick().await;
                if let Err(e) = checkpoints.checkpoint().await {
                    tracing::warn!(error = %e, "checkpointing the SQLite log failed; will retry");
                }
            }
        });
        let repeats = state.store.clone();
        actix_web::rt::spawn(async move {
            // Reads counted in a minute that is over are chained as summary events.
            let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(5));
            loop {
                every.tick().await;
                if let Err(e) = repeats.flush_custody_repeats(api::now_ms()).await {
                    tracing::warn!(error = %e, "chaining counted reads failed; will retry");
                }
            }
        });
        let background = state.clone();
        actix_web::rt::spawn(async move {
            let mut every = actix_web::rt::time::interval(std::time::Duration::from_millis(100));
            // The same failure (a ledger outage, say) is logged once, then every 30 s.
            let mut last_warning: Option<(String, std::time::Instant)> = None;
            loop {
                every.tick().await;
                let s = &background;
                let result = s
                    .anchoring
                    .tick(
                        &s.store,
                        &s.key,
                        s.config.ledger.batch_max_leaves,
                        s.config.ledger.batch_max_ms,
                        s.config.ledger.custody_anchor_ms,
                        &s.metrics,
                    )
                    .await;
                s.liveness.ticked(&result);
                let now = api::now_ms();
                if s.liveness.due(now) {
                    if let Some(h) = s.anchoring.chain_height().await {
                        s.liveness.chain_height(h, now);
                    }
                    s.liveness
                        .assess(
                            &s.store,
                            s.anchoring.mode() == "consortium",
                            now,
                            s.config.ledger.anchoring_stall_ms,
                            s.metrics.last_anchor_ms(),
                        )
                        .await;
                }
                if let Err(e) = result {
                    let e = e.to_string();
                    let repeat = last_warning.as_ref().is_some_and(|(m, at)| {
                        *m == e && at.elapsed() < std::time::Duration::from_secs(30)
                    });
                    if !repeat {
                        tracing::warn!(error = %e, "batching or anchoring failed; will retry");
                        last_warning = Some((e, std::time::Instant::now()));
                    }
                } else {
                    last_warning = None;
                }
            }
        });
        let workers = if config.workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            config.workers
        };
        let server = HttpServer::new(move || {
            let metrics_state = data.clone();
            App::new()
                .app_data(data.clone())
                .wrap_fn(move |req, srv| {
                    use actix_web::dev::Service as _;
                    let request_id = hex::encode(
                        tiezheng_protocol::Hash32::sm3(
                            format!("{:?}{}", std::time::SystemTime::now(), req.path()).as_bytes(),
                        )
                        .as_bytes()
                        .get(..8)
                        .unwrap_or_default(),
                    );
                    let method = req.method().to_string();
                    let path = req.path().to_owned();
                    let started = std::time::Instant::now();
                    let state = metrics_state.clone();
                    let fut = srv.call(req);
                    async move {
                        let mut res = error::json_errors(fut.await?);
                        let status = res.status().as_u16();
                        state.metrics.response(status);
                        security_headers(res.headers_mut());
                        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&request_id) {
                            res.headers_mut().insert(
                                actix_web::http::header::HeaderName::from_static("x-request-id"),
                                v,
                            );
                        }
                        tracing::info!(
                            request_id,
                            method,
                            path,
                            status,
                            ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                            "request"
                        );
                        Ok(res)
                    }
                })
                .configure(api::routes)
                .configure(api::portal::routes)
                .default_service(web::to(api::not_found))
        })
        .workers(workers)
        .shutdown_timeout(5);
        let server = match tls {
            Some(tls) => server.bind_rustls_0_23(&config.listen, tls),
            None => server.bind(&config.listen),
        }
        .map_err(io(format!("binding {}", config.listen)))?;
        let addr = server
            .addrs()
            .first()
            .copied()
            .ok_or_else(|| StartError::Io {
                what: "binding".into(),
                source: std::io::Error::other("no address"),
            })?;
        let (metrics_addr, metrics_server) = match &config.metrics_listen {
            Some(listen) => {
                let state = state.clone();
                let server = HttpServer::new(move || {
                    let state = state.clone();
                    App::new().service(web::resource("/metrics").get(move || {
                        let state = state.clone();
                        async move { api::metrics_text(&state).await }
                    }))
                })
                .workers(1)
                .shutdown_timeout(1)
                .bind(listen)
                .map_err(io(format!("binding the metrics listener {listen}")))?;
                (server.addrs().first().copied(), Some(server.run()))
            }
            None => (None, None),
        };
        Ok(Self {
            addr,
            scheme: if config.tls.cert_file.is_some() {
                "https"
            } else {
                "http"
            },
            admin_token_file,
            key_id: state.key.public_key().key_id().to_hex(),
            metrics_addr,
            server: server.run(),
            metrics_server,
        })
    }

    /// Runs until the process is stopped (SIGINT/SIGTERM end it gracefully).
    pub async fn run(self) -> std::io::Result<()> {
        if let Some(metrics) = self.metrics_server {
            let main = self.server.handle();
            actix_web::rt::spawn(async move {
                if let Err(e) = metrics.await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
                main.stop(true).await;
            });
        }
        self.server.await
    }
}

/// Headers on every answer: `X-Content-Type-Options: nosniff`, and `Cache-Control: no-store`
/// unless the handler chose its caching (the portal's static files): no API answer (tokens,
/// evidence, certificates) is kept by a browser or a proxy.
fn security_headers(headers: &mut actix_web::http::header::HeaderMap) {
    use actix_web::http::header::{CACHE_CONTROL, HeaderValue, X_CONTENT_TYPE_OPTIONS};
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Creates `dir` private (0700), or tightens an existing one that other local users can read
/// (saying so); refuses to start when it cannot.
fn make_private(dir: &std::path::Path, what: &str) -> Result<(), StartError> {
    match private::prepare(dir) {
        Ok(private::Prepared::Private) => Ok(()),
        Ok(private::Prepared::Tightened(n)) => {
            tracing::warn!(
                dir = %dir.display(),
                entries = n,
                "the {what} was readable by other local users; made it private (directories 0700, files 0600, media 0400)"
            );
            Ok(())
        }
        Err(source) => Err(StartError::Io {
            what: format!(
                "the {what} {} is open to other local users and could not be made private \
                 (run the notary as its owner, or `chmod -R go-rwx` it)",
                dir.display()
            ),
            source,
        }),
    }
}

/// The bootstrap administrator token: the configured one (refused when weak) or the one in
/// `<data_dir>/admin-token` (generated at first start, and then its path is returned). Every
/// earlier bootstrap token is revoked, so that restarting with a new token rotates it.
async fn bootstrap_admin(
    config: &NotaryConfig,
    store: &store::Store,
) -> Result<Option<std::path::PathBuf>, StartError> {
    let mut written = None;
    let admin = match &config.identity.admin_token {
        Some(t) => {
            api::check_token_strength(t).map_err(|why| {
                StartError::Config(format!(
                    "TIEZHENG_NOTARY_ADMIN_TOKEN (identity.admin_token) {why}; use at least {} \
                     characters of A-Z a-z 0-9 - _ . ~ (for example `openssl rand -hex 24`), \
                     or leave it unset and the notary writes one to {}",
                    api::MIN_TOKEN_CHARS,
                    config.data_dir.join("admin-token").display()
                ))
            })?;
            t.clone()
        }
        None => {
            let path = config.data_dir.join("admin-token");
            match std::fs::read_to_string(&path) {
                Ok(t) => t.trim().to_owned(),
                Err(_) => {
                    let (token, _) = api::new_token(Role::Admin, "admin", 0);
                    keys::write_private(&path, format!("{token}\n").as_bytes()).map_err(
                        |source| StartError::Io {
                            what: format!("writing {}", path.display()),
                            source,
                        },
                    )?;
                    written = Some(path);
                    token
                }
            }
        }
    };
    let (_, mut row) = api::new_token(Role::Admin, api::BOOTSTRAP_SUBJECT, i64::MAX);
    row.token_sm3 = tiezheng_protocol::Hash32::sm3(admin.as_bytes()).to_hex();
    row.token_id = format!("{}{}", api::BOOTSTRAP_PREFIX, &row.token_sm3[..8]);
    let revoked = store
        .rotate_bootstrap_token(&row, api::BOOTSTRAP_PREFIX, api::now_ms())
        .await
        .map_err(|e| StartError::Store(e, "bootstrapping the admin token".into()))?;
    for token_id in revoked {
        tracing::warn!(
            token_id,
            "revoked the earlier bootstrap administrator token (a new one is configured)"
        );
    }
    Ok(written)
}

/// Runs a notary with `config` on a new actix system until stopped; `on_ready` is called with
/// the bound address first (the CLI prints it).
pub fn run(config: NotaryConfig, on_ready: impl FnOnce(&Notary)) -> Result<(), StartError> {
    actix_web::rt::System::new().block_on(async move {
        let notary = Notary::build(config).await?;
        on_ready(&notary);
        notary.run().await.map_err(|source| StartError::Io {
            what: "serving".into(),
            source,
        })
    })
}
