//! Helpers shared by the benchmark binaries: argument parsing, loopback checks, statistics,
//! process resource figures, HS256 tokens and the HTTP measuring loop.

pub mod args;
pub mod jwt;
pub mod pool;
pub mod stats;
pub mod sys;
