//! Small pure number helpers used in more than one place: whole milliseconds, the
//! splitmix64 mixer behind request ids and the mock's seeded faults, and hexadecimal digits.

use std::time::Duration;

/// Whole milliseconds (saturating at `u64::MAX`), for log fields, footers and reports.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The increment of splitmix64's sequence (2^64 divided by the golden ratio).
pub const SPLITMIX_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64 (Steele, Lea and Flood): one step of the sequence from `seed`, whose output has
/// every input bit reach every output bit. Not for secrets; enough for spread-out ids and a
/// reproducible fault plan.
pub fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(SPLITMIX_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The 16 lowercase hexadecimal digits of `n`, written without the formatting machinery (a
/// request id is made for every request).
pub fn hex16(n: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for (i, digit) in out.iter_mut().enumerate() {
        *digit = DIGITS[usize::try_from((n >> (60 - 4 * i)) & 0xf).unwrap_or(0)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex16_writes_what_format_writes() {
        for n in [0, 1, 0xabc, u64::MAX, splitmix64(7), splitmix64(8) >> 3] {
            assert_eq!(hex16(n), format!("{n:016x}").as_bytes(), "{n}");
        }
    }

    #[test]
    fn millis_truncates_and_saturates() {
        assert_eq!(millis(Duration::from_micros(1_999)), 1);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The first outputs of the reference generator seeded with 1234567.
        let mut state: u64 = 1_234_567;
        let mut next = || {
            let out = splitmix64(state);
            state = state.wrapping_add(SPLITMIX_GAMMA);
            out
        };
        assert_eq!(next(), 6_457_827_717_110_365_317);
        assert_eq!(next(), 3_203_168_211_198_807_973);
    }
}
