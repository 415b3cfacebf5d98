//! A secret value whose `Debug`, `Display` and serialisation never show it, and the digest of
//! a client key, which is all claude-lb keeps of one.

use std::fmt;

use subtle::ConstantTimeEq;

/// A credential. Read it only with [`Secret::expose`], at the moment it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    pub fn new(value: impl Into<Box<str>>) -> Self {
        Self(value.into())
    }

    /// The value itself: call this only where it is sent upstream.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(*****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("*****")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("*****")
    }
}

/// The SHA-256 of a client key: what `key_sha256` holds and what a presented key is compared
/// with. Comparing digests, in constant time, tells an attacker nothing about how much of a
/// key was right; its `Debug` never shows it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest([u8; 32]);

impl KeyDigest {
    /// The digest of a key as presented.
    pub fn of(key: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, key);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        Self(out)
    }

    /// A digest written as 64 hexadecimal digits (either case), or `None`.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let nibble = |b: u8| {
            char::from(b)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        };
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        Some(Self(out))
    }

    /// The digest as 64 lowercase hexadecimal digits, as `key_sha256` is written.
    pub fn to_hex(self) -> String {
        use std::fmt::Write as _;
        self.0.iter().fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
    }

    /// Equality whose time does not depend on where the digests differ.
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyDigest(*****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_round_trips_through_hex_and_matches_sha256() {
        // The SHA-256 of "test", as `printf test | sha256sum` prints it.
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let digest = KeyDigest::of(b"test");
        assert_eq!(digest.to_hex(), hex);
        assert_eq!(KeyDigest::from_hex(hex), Some(digest));
        assert_eq!(KeyDigest::from_hex(&hex.to_uppercase()), Some(digest));
        assert!(digest.ct_eq(&KeyDigest::of(b"test")));
        assert!(!digest.ct_eq(&KeyDigest::of(b"tesu")));
        for bad in [
            "",
            "9f86",
            &hex[..63],
            &format!("{}g", &hex[..63]),
            &format!("{hex}0"),
        ] {
            assert_eq!(KeyDigest::from_hex(bad), None, "{bad:?}");
        }
        assert!(!format!("{digest:?}").contains("9f86"));
    }

    #[test]
    fn never_shows_the_value() {
        let secret = Secret::new("sk-ant-very-secret");
        assert!(!format!("{secret:?}").contains("very-secret"));
        assert!(!format!("{secret}").contains("very-secret"));
        assert!(
            !serde_json::to_string(&secret)
                .unwrap()
                .contains("very-secret")
        );
        assert_eq!(secret.expose(), "sk-ant-very-secret");
    }
}
