//! Which certificate authorities a provider's TLS certificate may be signed by.
//!
//! Every provider connection trusts the web PKI roots built into the binary (Mozilla's set), so
//! a container without a system CA bundle reaches `api.anthropic.com` as a desktop does. A relay
//! behind an organisation's own CA (or a TLS-inspecting proxy's) is trusted by naming a PEM file
//! of further authorities in `SSL_CERT_FILE`: those are trusted in addition to the built-in
//! roots, by the Messages client and by the probes' client alike. The same variable names the
//! roots of a `rediss://` shared state, so an operator sets it once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, TrustAnchor};

use crate::env;

/// The authorities trusted beyond the built-in roots, read and checked once when a client is
/// built.
#[derive(Clone, Debug, Default)]
pub struct ExtraRoots {
    /// As the file holds them, for `reqwest`.
    certificates: Arc<[CertificateDer<'static>]>,
    /// The same, as rustls trusts them.
    anchors: Arc<[TrustAnchor<'static>]>,
}

/// Why the file of extra authorities cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{var} names {file}, which cannot be read: {source}")]
    Read {
        var: &'static str,
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{var} names {file}, which holds no PEM certificate (`-----BEGIN CERTIFICATE-----`): it should hold the certificate authorities providers' certificates are signed by"
    )]
    Empty { var: &'static str, file: PathBuf },
    #[error("{var} names {file}, whose certificate number {index} is not valid PEM: {reason}")]
    Pem {
        var: &'static str,
        file: PathBuf,
        index: usize,
        reason: String,
    },
    #[error(
        "{var} names {file}, whose certificate number {index} cannot be a trust anchor: {reason}"
    )]
    Anchor {
        var: &'static str,
        file: PathBuf,
        index: usize,
        reason: String,
    },
}

impl ExtraRoots {
    /// The file `SSL_CERT_FILE` names, through `env` (none when it is unset or empty).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, TrustError> {
        match env(env::SSL_CERT_FILE).filter(|v| !v.is_empty()) {
            Some(file) => Self::from_file(Path::new(&file)),
            None => Ok(Self::default()),
        }
    }

    /// Every certificate in a PEM file; other PEM sections (a key) are skipped.
    fn from_file(file: &Path) -> Result<Self, TrustError> {
        let var = env::SSL_CERT_FILE;
        let pem = std::fs::read(file).map_err(|source| TrustError::Read {
            var,
            file: file.to_owned(),
            source,
        })?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .enumerate()
            .map(|(i, c)| {
                c.map_err(|e| TrustError::Pem {
                    var,
                    file: file.to_owned(),
                    index: i + 1,
                    reason: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if certificates.is_empty() {
            return Err(TrustError::Empty {
                var,
                file: file.to_owned(),
            });
        }
        let mut anchors = rustls::RootCertStore::empty();
        for (i, certificate) in certificates.iter().enumerate() {
            anchors
                .add(certificate.clone())
                .map_err(|e| TrustError::Anchor {
                    var,
                    file: file.to_owned(),
                    index: i + 1,
                    reason: e.to_string(),
                })?;
        }
        Ok(Self {
            certificates: certificates.into(),
            anchors: anchors.roots.into(),
        })
    }

    /// The built-in roots and these.
    pub(super) fn store(&self) -> rustls::RootCertStore {
        let mut store = rustls::RootCertStore::empty();
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        store.roots.extend(self.anchors.iter().cloned());
        store
    }

    /// These, for `reqwest` (which adds them to the same built-in roots).
    pub(super) fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    fn load(contents: &[u8]) -> Result<ExtraRoots, TrustError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, contents).unwrap();
        let path = file.to_str().unwrap().to_owned();
        ExtraRoots::from_env(&move |name| (name == env::SSL_CERT_FILE).then(|| path.clone()))
    }

    #[test]
    fn unset_or_empty_adds_nothing() {
        for value in [None, Some(String::new())] {
            let roots = ExtraRoots::from_env(&|_| value.clone()).unwrap();
            assert!(roots.certificates().is_empty());
            assert_eq!(roots.store().len(), webpki_roots::TLS_SERVER_ROOTS.len());
        }
    }

    #[test]
    fn every_certificate_of_a_bundle_is_added_to_the_built_in_roots() {
        let bundle = format!("{}\n# a comment between\n{}", ca_pem(), ca_pem());
        let roots = load(bundle.as_bytes()).unwrap();
        assert_eq!(roots.certificates().len(), 2);
        assert_eq!(
            roots.store().len(),
            webpki_roots::TLS_SERVER_ROOTS.len() + 2
        );
    }

    #[test]
    fn a_file_that_cannot_serve_says_which_and_why() {
        let missing = ExtraRoots::from_env(&|_| Some("/nonexistent/ca.pem".to_owned()))
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("SSL_CERT_FILE names /nonexistent/ca.pem, which cannot be read"),
            "{missing}"
        );

        let key_only = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let empty = load(key_only.as_bytes()).unwrap_err().to_string();
        assert!(empty.contains("holds no PEM certificate"), "{empty}");

        let broken = format!("{}-----BEGIN CERTIFICATE-----\nnot base64!\n", ca_pem());
        let pem = load(broken.as_bytes()).unwrap_err().to_string();
        assert!(
            pem.contains("certificate number 2 is not valid PEM"),
            "{pem}"
        );

        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let anchor = load(garbage.as_bytes()).unwrap_err().to_string();
        assert!(
            anchor.contains("certificate number 1 cannot be a trust anchor"),
            "{anchor}"
        );
    }
}
