//! The server's HTTP tests on PostgreSQL: the same sources as the `it` target (`tests/it/main.rs`, which
//! picks the backend by this target's name), built as a second binary without Cargo compiling one file
//! into two targets.

#[path = "it/main.rs"]
mod it;
