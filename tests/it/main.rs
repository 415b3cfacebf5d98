//! Integration tests: the real library and binary against in-process mock providers.
