//! How the notary may be reached: TLS terminated by the notary itself (rustls, certificate chain
//! and key from PEM files), or plain HTTP only where nobody else can listen in: on a loopback
//! address, or behind a TLS-terminating proxy the operator names explicitly. Certificates carry
//! the notary's public address for good, so off loopback it must be configured, and https.

use std::path::Path;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::NotaryConfig;

/// Why the notary may not listen as configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A setting is missing or contradicts another; the message names it and what to do.
    #[error("{0}")]
    Setting(String),
    /// A PEM file could not be read or holds nothing usable.
    #[error("{what} {}: {reason}; give a PEM file ({hint})", path.display())]
    Pem {
        /// Which file (certificate chain or key).
        what: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
        /// What it should hold.
        hint: &'static str,
    },
    /// rustls refused the certificate and key.
    #[error("the TLS certificate and key do not work together: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Whether `listen` (`host:port`) is a loopback address, reachable from this machine only.
pub fn is_loopback(listen: &str) -> bool {
    let host = listen
        .rsplit_once(':')
        .map_or(listen, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Checks that the configuration may serve as given, and loads the TLS settings if any:
/// `Ok(None)` is plain HTTP (loopback, or behind a named proxy).
pub fn server_config(config: &NotaryConfig) -> Result<Option<rustls::ServerConfig>, TlsError> {
    let tls = &config.tls;
    let loopback = is_loopback(&config.listen);
    let rustls = match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => Some(load(cert, key)?),
        (None, None) => None,
        _ => {
            return Err(TlsError::Setting(
                "TLS needs both TIEZHENG_NOTARY_TLS_CERT_FILE and TIEZHENG_NOTARY_TLS_KEY_FILE \
                 ([tls] cert_file and key_file), or neither"
                    .into(),
            ));
        }
    };
    if rustls.is_none() && !loopback && !tls.behind_proxy {
        return Err(TlsError::Setting(format!(
            "refusing to serve plain HTTP on {}, which other machines can reach: tokens and \
             evidence would cross the network in clear. Give a certificate and key \
             (TIEZHENG_NOTARY_TLS_CERT_FILE, TIEZHENG_NOTARY_TLS_KEY_FILE), or set \
             TIEZHENG_NOTARY_BEHIND_TLS_PROXY=true when a TLS-terminating proxy is in front, or \
             listen on 127.0.0.1",
            config.listen
        )));
    }
    if !loopback {
        match config.identity.public_url.as_deref() {
            Some(url) if url.starts_with("https://") => {}
            Some(url) => {
                return Err(TlsError::Setting(format!(
                    "TIEZHENG_NOTARY_PUBLIC_URL is {url}: certificates carry it for good, so \
                     off loopback it must be the https:// address courts reach the notary at"
                )));
            }
            None => {
                return Err(TlsError::Setting(format!(
                    "set TIEZHENG_NOTARY_PUBLIC_URL ([identity] public_url) to the https:// \
                     address courts reach the notary at: certificates carry it for good, and \
                     {} is not an address anyone else can use",
                    config.listen
                )));
            }
        }
    }
    Ok(rustls)
}

fn load(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsError> {
    let pem = |what, path: &Path, reason: String, hint| TlsError::Pem {
        what,
        path: path.to_owned(),
        reason,
        hint,
    };
    let chain_hint = "the server certificate first, then its intermediates";
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem("TLS certificate chain", cert, e.to_string(), chain_hint))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem("TLS certificate chain", cert, e.to_string(), chain_hint))?;
    if chain.is_empty() {
        return Err(pem(
            "TLS certificate chain",
            cert,
            "no CERTIFICATE block".into(),
            chain_hint,
        ));
    }
    let key_hint = "one PKCS#8, PKCS#1 or SEC1 private key, unencrypted";
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| pem("TLS private key", key, e.to_string(), key_hint))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, private)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses() {
        for l in ["127.0.0.1:8700", "localhost:1", "[::1]:8700", "127.0.0.9:0"] {
            assert!(is_loopback(l), "{l}");
        }
        for l in [
            "0.0.0.0:8700",
            "[::]:8700",
            "10.0.0.5:443",
            "notary.example.cn:443",
        ] {
            assert!(!is_loopback(l), "{l}");
        }
    }

    #[test]
    fn plain_http_off_loopback_is_refused_unless_behind_a_proxy() {
        let mut c = NotaryConfig {
            listen: "0.0.0.0:8700".into(),
            ..NotaryConfig::default()
        };
        let refused = server_config(&c).map(|_| ()).unwrap_err().to_string();
        assert!(refused.contains("BEHIND_TLS_PROXY"), "{refused}");
        c.tls.behind_proxy = true;
        let refused = server_config(&c).map(|_| ()).unwrap_err().to_string();
        assert!(refused.contains("PUBLIC_URL"), "{refused}");
        c.identity.public_url = Some("http://notary.example.cn".into());
        assert!(server_config(&c).is_err());
        c.identity.public_url = Some("https://notary.example.cn".into());
        assert!(matches!(server_config(&c), Ok(None)));
        c.tls.cert_file = Some("cert.pem".into());
        let refused = server_config(&c).map(|_| ()).unwrap_err().to_string();
        assert!(refused.contains("both"), "{refused}");
    }
}
