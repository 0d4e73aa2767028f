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

/// The platform's certificate verifier, created on the first TLS handshake.
/// Creating it reads the whole system certificate store (milliseconds of
/// file I/O on every start, measured in `benches/runner.rs`), which a run
/// against plain-http endpoints (a proxy, the simulator) never needs.
/// Signatures are checked with the provider's algorithms, as the platform
/// verifier itself does, so only certificate checks wait for the store.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    inner: std::sync::OnceLock<Result<rustls_platform_verifier::Verifier, String>>,
}

impl LazyVerifier {
    fn inner(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.inner
            .get_or_init(|| {
                rustls_platform_verifier::Verifier::new(self.provider.clone())
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| {
                rustls::Error::General(format!("cannot load the system certificates: {e}"))
            })
    }
}

impl rustls::client::danger::ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.inner()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn tls_config() -> Result<rustls::ClientConfig, HttpSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = LazyVerifier {
        provider: provider.clone(),
        inner: std::sync::OnceLock::new(),
    };
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
    builder(env)?
        .build()
        .map_err(|e| HttpSetupError::Client(e.to_string()))
}

/// [`client`] that never follows a redirect: for a download whose redirect
/// must be seen (GitHub's job logs answer a short-lived storage URL that is
/// fetched without the token, and asked for again when it has expired).
pub fn client_without_redirects(env: &Env) -> Result<reqwest::Client, HttpSetupError> {
    builder(env)?
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| HttpSetupError::Client(e.to_string()))
}

/// The shared client's settings: TLS, timeouts, user agent and proxies.
fn builder(env: &Env) -> Result<reqwest::ClientBuilder, HttpSetupError> {
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
    Ok(builder)
}

/// The proxy a request goes through: the variable that set it and its
/// `host:port` (never its credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRoute {
    pub variable: &'static str,
    pub host: String,
}

/// Whether `NO_PROXY` (comma-separated hosts or domains, `*` for all)
/// exempts `host`.
fn exempt(no_proxy: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    no_proxy.split(',').map(str::trim).any(|entry| {
        let entry = entry.to_ascii_lowercase();
        let entry = entry.split(':').next().unwrap_or_default();
        let domain = entry.trim_start_matches("*.").trim_start_matches('.');
        entry == "*"
            || (!domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}"))))
    })
}

/// The proxy [`client`] sends a request for `url` through, if any, so that
/// an unreachable proxy is named as such rather than as the API.
pub fn proxy_for(env: &Env, url: &str) -> Option<ProxyRoute> {
    let url = url::Url::parse(url).ok()?;
    let names: &[&'static str] = match url.scheme() {
        "https" => &["HTTPS_PROXY", "https_proxy"],
        "http" => &["HTTP_PROXY", "http_proxy"],
        _ => return None,
    };
    let (variable, proxy) = first(env, names)?;
    if let (Some((_, no_proxy)), Some(host)) =
        (first(env, &["NO_PROXY", "no_proxy"]), url.host_str())
        && exempt(&no_proxy, host)
    {
        return None;
    }
    let parsed = url::Url::parse(&proxy)
        .or_else(|_| url::Url::parse(&format!("http://{proxy}")))
        .ok()?;
    let host = match (parsed.host_str(), parsed.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return None,
    };
    Some(ProxyRoute { variable, host })
}

/// An error and its sources, on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = inner.source();
    }
    message
}

/// The certificate complaint in a connection error, if it is one: such
/// errors are permanent (retrying cannot make a certificate trusted).
pub fn certificate_problem(chain: &str) -> Option<String> {
    let at = chain
        .find("invalid peer certificate")
        .or_else(|| chain.find("cannot load the system certificates"))?;
    Some(chain[at..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_of_a_request_is_named_without_credentials() {
        let env = Env::from_pairs([
            ("HTTPS_PROXY", "http://user:secret@proxy.corp:3128"),
            ("NO_PROXY", "internal.example, .ghe.corp"),
        ]);
        let route = proxy_for(&env, "https://api.cursor.com/v0/agents").unwrap();
        assert_eq!(route.variable, "HTTPS_PROXY");
        assert_eq!(route.host, "proxy.corp:3128");
        assert_eq!(proxy_for(&env, "https://internal.example/x"), None);
        assert_eq!(proxy_for(&env, "https://api.ghe.corp/x"), None);
        assert_eq!(
            proxy_for(&env, "http://api.cursor.com/x"),
            None,
            "no HTTP_PROXY"
        );
    }
}
