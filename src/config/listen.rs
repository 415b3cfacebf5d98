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

/// Why `serve` must not listen on `addr`, or `None` when it may: an address other machines can
/// reach needs `clients:` (or the explicit `allow_unauthenticated_public: true`), or anyone who
/// reaches it spends the providers' keys.
pub fn public_listen_refusal(
    addr: SocketAddr,
    has_clients: bool,
    allow_public: bool,
) -> Option<String> {
    if addr.ip().is_loopback() || has_clients || allow_public {
        return None;
    }
    Some(format!(
        "{addr} accepts connections from other machines, and no `clients:` are configured, so \
         anyone who can reach it would spend the providers' keys; add a client key \
         (`claude-lb clients add NAME`), listen on 127.0.0.1, or set \
         `settings.allow_unauthenticated_public: true` if the network around it is trusted"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_public_address_without_clients_is_refused() {
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        let refusal = public_listen_refusal(public, false, false).unwrap();
        assert!(refusal.contains("clients add"), "{refusal}");
        assert!(
            refusal.contains("allow_unauthenticated_public"),
            "{refusal}"
        );
        assert_eq!(public_listen_refusal(public, true, false), None);
        assert_eq!(public_listen_refusal(public, false, true), None);
        assert_eq!(public_listen_refusal(local, false, false), None);
        assert_eq!(public_listen_refusal(v6, false, false), None);
    }

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
