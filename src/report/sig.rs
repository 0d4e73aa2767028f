//! The marker's signature: HMAC-SHA256 (RFC 2104) over the marker's fields,
//! keyed by a key derived from the `cursor-api-key`, a secret only the
//! action holds. A sweep edits only comments whose marker verifies, so a
//! copy of a marker in anyone else's comment (with no, a stale or a wrong
//! `sig`) is never touched. Written over `sha2` (no new dependency).

use sha2::{Digest, Sha256};
use std::fmt;

const BLOCK: usize = 64;

/// HMAC-SHA256 of `msg` under `key`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// The key markers are signed with, derived from the Cursor API key (never
/// the key itself, and never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct MarkerKey([u8; 32]);

impl fmt::Debug for MarkerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MarkerKey(***)")
    }
}

impl MarkerKey {
    pub fn derive(api_key: &crate::secret::Secret) -> Self {
        Self(hmac_sha256(
            api_key.expose().as_bytes(),
            b"cursor-agent-action marker signature v1",
        ))
    }

    /// The signature of `data`: 128 bits, hex.
    pub fn sign(&self, data: &[u8]) -> String {
        hmac_sha256(&self.0, data)[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `sig` is the signature of `data` (compared in constant time).
    pub fn verify(&self, data: &[u8], sig: &str) -> bool {
        let want = self.sign(data);
        want.len() == sig.len()
            && want
                .bytes()
                .zip(sig.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc4231_vectors() {
        // Test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn signatures_depend_on_key_and_data() {
        let a = MarkerKey::derive(&crate::secret::Secret::new("key-a"));
        let b = MarkerKey::derive(&crate::secret::Secret::new("key-b"));
        let sig = a.sign(b"data");
        assert!(a.verify(b"data", &sig));
        assert!(!a.verify(b"datb", &sig));
        assert!(!b.verify(b"data", &sig));
        assert!(!a.verify(b"data", ""));
        assert!(!format!("{a:?}").contains(&hex(&a.0)));
    }
}
