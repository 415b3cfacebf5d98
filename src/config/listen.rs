//! The one parser of a listening address, for `--listen`, `CLAUDE_LB_LISTEN`, `settings.listen`,
//! `demo --listen` and `mock --listen` alike.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// An address and port (`127.0.0.1:8080`, `[::1]:8080`), `localhost:PORT`, `:PORT` or `PORT`;
/// the last three mean 127.0.0.1. The error says what was expected.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let loopback = |port: &str| {
        port.parse::<u16>()
            .ok()
            .map(|port| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
    };
    text.parse::<SocketAddr>()
        .ok()
        .or_else(|| loopback(text.strip_prefix("localhost:")?))
        .or_else(|| loopback(text.strip_prefix(':')?))
        .or_else(|| loopback(text))
        .ok_or_else(|| {
            format!(
                "expected an address and port such as \"127.0.0.1:8080\", \"localhost:8080\", \":8080\" or \"8080\", found {text:?}"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_the_same() {
        let local = "127.0.0.1:8080".parse::<SocketAddr>().unwrap();
        for text in [
            "127.0.0.1:8080",
            "localhost:8080",
            ":8080",
            "8080",
            " 8080 ",
        ] {
            assert_eq!(parse_listen(text), Ok(local), "{text}");
        }
        assert_eq!(
            parse_listen("[::1]:9000"),
            Ok("[::1]:9000".parse().unwrap())
        );
        assert_eq!(parse_listen("0").unwrap().port(), 0);
        for bad in ["", "localhost", "127.0.0.1", "99999", "host:80", ":x"] {
            let err = parse_listen(bad).unwrap_err();
            assert!(err.contains("expected an address and port"), "{bad}: {err}");
        }
    }
}
