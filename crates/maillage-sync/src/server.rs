//! Serving: the `Federation` service with its message limits, and a TCP incoming stream with
//! TCP_NODELAY (tonic's `Server::tcp_nodelay` does not apply to `serve_with_incoming`).

use std::sync::Arc;

use maillage_proto::v1::federation_server::FederationServer;
use tonic::transport::server::TcpIncoming;

use crate::replica::{MESSAGE_BYTES_MAX, Replica};
use crate::service::FederationService;

/// The `Federation` service for `replica`, refusing messages over [`MESSAGE_BYTES_MAX`].
pub fn federation_server(replica: Arc<Replica>) -> FederationServer<FederationService> {
    FederationServer::new(FederationService::new(replica))
        .max_decoding_message_size(MESSAGE_BYTES_MAX)
        .max_encoding_message_size(MESSAGE_BYTES_MAX)
}

/// Accepted connections of `listener`, with TCP_NODELAY set on each.
pub fn incoming(listener: tokio::net::TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}
