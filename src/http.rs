//! The one HTTP client both APIs share: rustls with the ring provider, the
//! platform's certificate verifier (loaded lazily, on the first TLS
//! handshake), and proxies taken from the given environment, not the
//! process's.

use crate::env::Env;
use std::sync::Arc;
use std::time::Duration;

pub const USER_AGENT: &str = concat!("cursor-agent-action/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    #[error("could not set up TLS: {0}")]
    Tls(String),
    #[error("{variable} is not a usable proxy URL: {message}")]
    Proxy {
        variable: &'static str,
        message: String,
    },
    #[error("could not build the HTTP client: {0}")]
    Client(String),
}

fn tls_config() -> Result<rustls::ClientConfig, HttpSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| HttpSetupError::Tls(e.to_string()))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpSetupError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(config)
}

/// The first set variable among `names`, with its name.
fn first(env: &Env, names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|n| env.get(n).map(|v| (*n, v)))
}

/// Builds the shared client. Proxies: `HTTPS_PROXY`/`https_proxy` for https,
/// `HTTP_PROXY`/`http_proxy` for http, both honouring `NO_PROXY`/`no_proxy`.
pub fn client(env: &Env) -> Result<reqwest::Client, HttpSetupError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(50))
        .tls_backend_preconfigured(tls_config()?)
        .no_proxy();
    let no_proxy =
        first(env, &["NO_PROXY", "no_proxy"]).and_then(|(_, v)| reqwest::NoProxy::from_string(&v));
    type MakeProxy = fn(String) -> reqwest::Result<reqwest::Proxy>;
    let schemes: [(&[&'static str], MakeProxy); 2] = [
        (&["HTTPS_PROXY", "https_proxy"], |u| {
            reqwest::Proxy::https(u)
        }),
        (&["HTTP_PROXY", "http_proxy"], |u| reqwest::Proxy::http(u)),
    ];
    for (names, make) in schemes {
        if let Some((variable, url)) = first(env, names) {
            // The URL may hold proxy credentials: never echo it.
            let proxy = make(url).map_err(|_| HttpSetupError::Proxy {
                variable,
                message: "expected scheme://[user:password@]host:port".into(),
            })?;
            builder = builder.proxy(proxy.no_proxy(no_proxy.clone()));
        }
    }
    builder
        .build()
        .map_err(|e| HttpSetupError::Client(e.to_string()))
}
