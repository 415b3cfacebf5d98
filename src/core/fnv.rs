//! FNV-1a, 64 bits: a short, stable hash for small keys that no client chooses (the pool's
//! provider origins) and for telling answers apart (a translated message's id when the
//! provider gave none). Not for anything an attacker could aim collisions at.

/// The hasher, usable as a `HashMap`'s (`BuildHasherDefault<Fnv>`) or on its own.
#[derive(Clone, Copy, Debug)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The hash of `bytes`.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut fnv = Fnv::default();
    std::hash::Hasher::write(&mut fnv, bytes);
    std::hash::Hasher::finish(&fnv)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_values() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(super::hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::hash(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
