//! The `maillage` binary's front ends: the command line, the daemon (`maillage serve`: gRPC
//! services for peers and clients, the operator's command socket, the HTTP dashboard and
//! metrics), the demo and the benchmarks. What a node does is in `maillage-app`; this crate
//! parses, renders and serves.
//!
//! The binary (`src/main.rs`) only parses arguments and sets up logging; everything it runs is
//! here, so tests call the same functions.

#[macro_use]
pub mod output;

pub mod admin;
pub mod args;
pub mod bench;
pub mod bench_cli;
pub mod bench_export;
pub mod bench_replicate;
pub mod bench_scale;
pub mod bench_signatures;
pub mod command;
pub mod config;
pub mod demo;
pub mod export;
pub mod files;
pub mod guard;
pub mod init;
pub mod lang;
pub mod query;
pub mod render;
pub mod run;
pub mod serve;
pub mod status;
pub mod web;
pub mod workload;
