//! The marker's signature: HMAC-SHA256 (RFC 2104, RustCrypto's `hmac` over
//! `sha2`) of the marker's signed fields, keyed by a key derived from the
//! `cursor-api-key`, a secret only the action holds, and cut to its first
//! 128 bits (hex). The format is the one 1.0.0 wrote, so its markers still
//! verify (`a_marker_signed_by_1_0_0_still_verifies`).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// The signature's length: the first 16 bytes of the HMAC (32 hex digits).
pub const SIG_BYTES: usize = 16;

fn mac(key: &[u8], msg: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(msg);
    mac
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
    pub fn derive(api_key: &kit::secret::Secret) -> Self {
        let derived = mac(
            api_key.expose().as_bytes(),
            b"cursor-agent-action marker signature v1",
        );
        Self(derived.finalize().into_bytes().into())
    }

    /// The signature of `data`: 128 bits, hex.
    pub fn sign(&self, data: &[u8]) -> String {
        mac(&self.0, data).finalize().into_bytes()[..SIG_BYTES]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `sig` (hex) is the signature of `data`; the bytes are
    /// compared in constant time (`verify_truncated_left`).
    pub fn verify(&self, data: &[u8], sig: &str) -> bool {
        let Some(bytes) = from_hex(sig).filter(|b| b.len() == SIG_BYTES) else {
            return false;
        };
        mac(&self.0, data).verify_truncated_left(&bytes).is_ok()
    }
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc4231_vectors() {
        let full = |key: &[u8], msg: &[u8]| hex(&mac(key, msg).finalize().into_bytes());
        // Test case 2.
        assert_eq!(
            full(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            full(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn signatures_depend_on_key_and_data() {
        let a = MarkerKey::derive(&kit::secret::Secret::new("key-a"));
        let b = MarkerKey::derive(&kit::secret::Secret::new("key-b"));
        let sig = a.sign(b"data");
        assert_eq!(sig.len(), 2 * SIG_BYTES);
        assert!(a.verify(b"data", &sig));
        assert!(a.verify(b"data", &sig.to_uppercase()), "hex in either case");
        assert!(!a.verify(b"datb", &sig));
        assert!(!b.verify(b"data", &sig));
        assert!(!a.verify(b"data", ""));
        assert!(!a.verify(b"data", &sig[..30]), "a shorter signature");
        assert!(!a.verify(b"data", &format!("{sig}00")), "a longer one");
        assert!(!a.verify(b"data", &format!("{}zz", &sig[..30])));
        assert!(!a.verify(b"data", "é"), "not hex, not ASCII");
        assert!(!format!("{a:?}").contains(&hex(&a.0)));
    }
}
