//! The `maillage` node: command line, data directory, and the operations a hub runs.
//!
//! The binary (`src/main.rs`) only parses arguments and sets up logging; everything it runs is
//! here, so tests call the same functions.

#[macro_use]
pub mod output;

pub mod admin;
pub mod bench;
pub mod bench_replicate;
pub mod cli;
pub mod datadir;
pub mod demo;
pub mod domain;
pub mod export;
pub mod federation;
pub mod files;
pub mod logfile;
pub mod node;
pub mod query;
pub mod serve;
pub mod stats;
pub mod venues;
pub mod web;
pub mod workload;
