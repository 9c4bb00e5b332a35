//! Replication between the nodes of a maillage federation (docs/protocol.md §6).
//!
//! - [`handshake`]: both sides sign a transcript binding the FederationId, both keys and both
//!   fresh challenges; sessions are bounded and expire. Sans-IO.
//! - [`plan`]: what to pull from a peer, from the two frontiers (including the re-pull that
//!   turns a disagreeing head into a fork proof). Sans-IO.
//! - [`replica`]: the ingest path (parallel strict verification, one store call per batch,
//!   events handed to the node in store order), peer bookkeeping, bounded rejection list.
//! - [`service`]: the tonic `Federation` service (handshake, frontier, pull with live follow
//!   and heartbeats, fork gossip, the owner-side transfer call).
//! - [`client`]: an authenticated [`client::PeerClient`] and the self-healing link loop, over
//!   an injectable [`client::Connector`] (TCP in the node, an in-process network in
//!   simulations).
//! - [`sources`]: which link each feed is pulled from (one source per feed, so each event
//!   arrives about once), and when a stalled source is left behind. Sans-IO.
//! - [`loglimit`]: warnings about what peers send, rate-limited per source.
//! - [`server`]: serving the service over an injectable incoming stream.

pub mod client;
pub mod handshake;
pub mod loglimit;
pub mod plan;
pub mod replica;
pub mod server;
pub mod service;
pub mod sources;
pub mod wire;

pub use client::{Connector, LinkError, PeerClient, PeerConfig, TcpConnector, handshake, run_link};
pub use replica::{
    Checked, DisputeGate, Heard, Host, Incompatible, IngestReport, PeerState, Rejection,
    RejectionClass, Replica, ReplicaConfig, ReplicaCounters, UnsupportedEvents,
};
pub use service::FederationService;
