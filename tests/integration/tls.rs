//! https endpoints are verified against the system certificate store, which
//! is loaded on the first TLS handshake (not at start-up): an unknown
//! certificate is refused, and one the store trusts (`SSL_CERT_FILE`) works.

use crate::support::*;
use kit::clock::Clock;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sim::Scenario;
use std::path::Path;
use std::sync::Arc;

const TLS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");

/// Terminates TLS with the test certificate and forwards to `upstream`.
async fn tls_proxy(upstream: String) -> String {
    let certs = CertificateDer::pem_file_iter(Path::new(TLS_DIR).join("cert.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(Path::new(TLS_DIR).join("key.pem")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = upstream.trim_start_matches("http://").to_string();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    format!("https://localhost:{port}")
}

async fn launch_over_https(trust: bool) -> (Ran, usize) {
    let sims = sims_on(Clock::real()).await;
    sims.cursor.set_default_scenario(Scenario::lasting(5, 5));
    let https = tls_proxy(sims.cursor_url()).await;
    let mut t = ActionTest::new()
        .event("workflow_dispatch", "workflow_dispatch.json")
        .input("cursor-api-key", KEY)
        .input("api-url", &https)
        .input("prompt", "x")
        .input("wait", "false");
    // Without SSL_CERT_FILE: the system store, which cannot know the test CA.
    if trust {
        t = t.env("SSL_CERT_FILE", &format!("{TLS_DIR}/ca.pem"));
    }
    let ran = t.run_beside().await;
    let created = sims.cursor.agents_created();
    (ran, created)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_certificate_is_refused() {
    let (ran, created) = launch_over_https(false).await;
    ran.status(1);
    assert_eq!(created, 0, "nothing reached the API");
    let error = ran.commands("error")[0].to_string();
    assert!(error.contains("TLS certificate is not trusted"), "{error}");
    // Permanent: refused at once, not retried.
    ran.stdout_lacks("Launch not accepted yet");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_the_store_trusts_is_accepted() {
    let (ran, created) = launch_over_https(true).await;
    ran.success();
    assert_eq!(ran.output("outcome"), "launched");
    assert_eq!(created, 1);
}
