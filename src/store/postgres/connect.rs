//! Connecting: TLS as the URL asks (see `config::database`), a connect timeout when the URL
//! has none, and every way a connection can fail turned into one line that names the host
//! and never the password.

use std::sync::Arc;
use std::time::Duration;

use postgres::Client;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::{PostgresUrl, TlsVerify};
use crate::store::StoreError;

/// How long a connection attempt may take when the URL sets no `connect_timeout`: an
/// unreachable server should fail a run in seconds, not at the TCP stack's minutes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection settings and TLS connector for `url`.
pub(super) fn settings(
    url: &PostgresUrl,
) -> Result<(postgres::Config, MakeRustlsConnect), StoreError> {
    let mut config = url.config().clone();
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("security-scanner");
    }
    Ok((config, tls(url)?))
}

/// Opens one connection to `url`.
pub(super) fn connect(url: &PostgresUrl) -> Result<Client, StoreError> {
    let (config, tls) = settings(url)?;
    config.connect(tls).map_err(|e| unavailable(url, &e))
}

/// A connection failure as [`StoreError::Unavailable`]: the server's own message when it gave
/// one (wrong password, no such database), else what went wrong on the way.
pub(super) fn unavailable(url: &PostgresUrl, e: &postgres::Error) -> StoreError {
    StoreError::Unavailable {
        host: url.host(),
        reason: reason(e),
    }
}

/// One line about `e`, without the URL.
pub(super) fn reason(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let line = s.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = s.source();
    }
    text.replace('\n', " ")
}

fn tls(url: &PostgresUrl) -> Result<MakeRustlsConnect, StoreError> {
    let bad = |reason: String| StoreError::Unavailable {
        host: url.host(),
        reason,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    match url.root_cert() {
        Some(file) => {
            let certs = CertificateDer::pem_file_iter(file)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| bad(format!("sslrootcert {}: {e}", file.display())))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(bad(format!(
                    "sslrootcert {} holds no certificate",
                    file.display()
                )));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| bad(format!("TLS set-up: {e}")))?;
    let verifier = Arc::new(Verifier {
        webpki,
        provider: provider.clone(),
        verify: url.verify(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS set-up: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// libpq's certificate rules over rustls: handshake signatures are always checked (the
/// server must hold the key of the certificate it shows); the certificate itself as much as
/// [`TlsVerify`] says.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
    verify: TlsVerify,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.verify {
            TlsVerify::None => Ok(ServerCertVerified::assertion()),
            TlsVerify::Full => {
                self.webpki
                    .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            }
            TlsVerify::Chain => match self.webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp,
                now,
            ) {
                Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. },
                )) => Ok(ServerCertVerified::assertion()),
                other => other,
            },
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
