//! What the simulator tests share: the key the simulators accept, the one
//! HTTP client, and a v0 client.

use kit::clock::Clock;
use kit::env::Env;

pub const KEY: &str = "crsr_0123456789abcdef0123456789abcdef";

/// The action's HTTP client, with no proxies.
pub fn http() -> reqwest::Client {
    kit::http::client(&Env::from_pairs::<&str, &str>([])).unwrap()
}

/// Sends `request` and reads its JSON answer (for the simulators' control
/// and inspection endpoints).
pub async fn json_of<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    request.send().await.unwrap().json().await.unwrap()
}

/// A Cursor client for `url` with `key`, on `clock`.
pub fn cursor_client(url: &str, key: &str, clock: Clock) -> cursor_api::CursorClient {
    cursor_api::CursorClient::new(
        http(),
        &url::Url::parse(url).unwrap(),
        &kit::secret::Secret::new(key),
        cursor_api::AuthScheme::Basic,
        clock,
    )
}
