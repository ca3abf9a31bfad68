//! Helpers shared by the benchmark binaries: argument parsing, loopback checks, statistics,
//! process resource figures and HS256 tokens.

pub mod args;
pub mod jwt;
pub mod stats;
pub mod sys;
