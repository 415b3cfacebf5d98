//! Integration tests: the real library and binary against in-process mock providers.

mod translate; // Streaming translation under grammar-aware fuzzing (the cargo-fuzz body).
