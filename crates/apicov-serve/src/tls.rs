//! TLS for `apicov serve` (rustls with ring) and client-certificate checks.
//!
//! With `--client-ca` the handshake asks for a client certificate but does
//! not fail without one or with one from another CA: the chain is checked
//! after the handshake ([`ClientCerts::check`]) so the request can be
//! answered 401 (no certificate) or 403 (not signed by the CA), which the
//! apiserver logs, instead of a bare TLS alert. Possession of the key is
//! still proven in the handshake (the CertificateVerify signature is checked
//! by the webpki verifier), and no request is served unless the chain
//! checked out.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};

use apicov_core::error::{Error, Result};

/// How a connection's client certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertState {
    /// No `--client-ca`: certificates are not asked for.
    NotRequired,
    /// Chains to the client CA.
    Verified,
    /// None presented.
    Missing,
    /// Presented but not valid for the client CA (another CA, expired, …).
    Rejected,
}

fn tls_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Source {
        source_name: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Every certificate of a PEM file (at least one).
fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| tls_error(path, e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_error(path, e))?;
    if certs.is_empty() {
        return Err(tls_error(path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

/// The client-CA check, run again after the handshake.
#[derive(Debug, Clone)]
pub struct ClientCerts {
    strict: Arc<dyn ClientCertVerifier>,
}

impl ClientCerts {
    /// Where the connection's certificates (if any) stand.
    pub fn check(&self, presented: Option<&[CertificateDer<'_>]>) -> CertState {
        match presented {
            Some([end_entity, intermediates @ ..]) => {
                match self
                    .strict
                    .verify_client_cert(end_entity, intermediates, UnixTime::now())
                {
                    Ok(_) => CertState::Verified,
                    Err(_) => CertState::Rejected,
                }
            }
            _ => CertState::Missing,
        }
    }
}

/// Asks for a certificate and lets the handshake finish whatever comes; the
/// chain is judged afterwards by [`ClientCerts::check`].
#[derive(Debug)]
struct DeferredVerifier {
    strict: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for DeferredVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.strict.root_hint_subjects()
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.strict.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.strict.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.strict.supported_verify_schemes()
    }
}

/// The server's TLS set-up: the rustls config, and the client-CA check when
/// `client_ca` is given.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<(Arc<rustls::ServerConfig>, Option<ClientCerts>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = load_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| tls_error(key, e))?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(cert, e))?;
    let (builder, client_certs) = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in load_certs(ca)? {
                roots.add(c).map_err(|e| tls_error(ca, e))?;
            }
            let strict = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| tls_error(ca, e))?;
            let deferred = Arc::new(DeferredVerifier {
                strict: strict.clone(),
            });
            (
                builder.with_client_cert_verifier(deferred),
                Some(ClientCerts { strict }),
            )
        }
        None => (builder.with_no_client_auth(), None),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| tls_error(cert, e))?;
    // HTTP/1.1 only (the server is built on hyper's http1; the apiserver's
    // Go client falls back to it).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), client_certs))
}
