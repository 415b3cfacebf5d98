//! Integration tests: the real library and binary against in-process mock providers.
mod mock; // the mock provider: scripted replies, recording, simulated providers
