//! The maillage application: what a hub's node does, as typed commands and queries.
//!
//! Front ends (the CLI, the daemon's admin socket and read API, the dashboard, the demo, the
//! benchmarks and the simulator) all come through here; nothing here knows about them.
//!
//! - [`node::Node`]: a data dir opened — key, charter, store, and the views folded from the
//!   store. Every event this node signs goes through [`node::Node::sign`], which judges it
//!   with the core's own rules against the views first ([`maillage_core::Ledger::evaluate`]):
//!   an honest node never signs what its own views reject.
//! - [`App`]: a node plus what the world lends it (the clock; for a serving node, the
//!   federation's links), answering [`request::Request`]s with [`request::Response`]s or an
//!   [`error::AppError`] of a stable kind.
//! - [`policy`]: the owner side of a voucher (answering claims, admitting transfers), one
//!   policy for the daemon and the simulator.

pub mod amend;
mod app;
pub mod backup;
pub mod clock;
mod commands;
pub mod datadir;
pub mod error;
pub mod export;
pub mod export_datapackage;
pub mod export_events;
pub mod export_parquet;
pub mod export_schema;
pub mod federation;
pub mod gate;
pub mod indicators;
mod locks;
pub mod logfile;
pub mod network;
pub mod node;
pub mod policy;
pub mod queries;
pub mod request;
pub mod resolve;
pub mod stats;
mod venue_edit;
pub mod venues;
pub mod views;
pub mod views_file;

pub use app::App;
pub use commands::new_person;
pub use error::{AppError, ErrorKind};
