//! The start-up guard of a serving hub (see [`maillage_app::gate`]): which gate it starts
//! with, and when a peer's word opens it.

use std::sync::Arc;
use std::time::Duration;

use maillage_app::datadir::ServeConfig;
use maillage_app::node::Node;
use maillage_core::Role;
use maillage_sync::{PeerConfig, Replica};

/// How long a command waits for a peer to confirm this node's own feed before it is refused.
const AUTHORING_PATIENCE: Duration = Duration::from_secs(15);

/// The gate in front of signing (see [`maillage_app::gate`]): open at once without peers or
/// with `--offline`; else closed until a peer confirms this node's own feed.
pub fn authoring_gate(
    node: &Node,
    config: &ServeConfig,
    peers: &[PeerConfig],
) -> Arc<maillage_app::gate::AuthoringGate> {
    use maillage_app::gate::AuthoringGate;
    if node.member().is_ok_and(|m| m.role != Role::Hub) {
        return Arc::new(AuthoringGate::open_for("an observer signs nothing"));
    }
    let restored = maillage_app::backup::restored(&node.data_dir)
        .ok()
        .flatten();
    if peers.is_empty() && restored.is_none() {
        return Arc::new(AuthoringGate::open_for("no peer to compare with"));
    }
    if config.offline {
        tracing::warn!(
            "--offline: this node signs without first comparing its own feed with a peer's; if its data dir is a stale copy (a backup), what it signs forks its feed"
        );
        return Arc::new(AuthoringGate::open_for("--offline"));
    }
    if let (Some(marker), true) = (&restored, peers.is_empty()) {
        let (source, taken) = (&marker.source, crate::lang::paris_time(marker.taken_at_ms));
        return Arc::new(AuthoringGate::closed(
            maillage_core::tr!(
                "ce répertoire de données est une sauvegarde restaurée (prise de {source} le {taken}) et aucun pair n'est configuré pour lui dire jusqu'où va son propre flux : ajoutez ses pairs (--peer ou node.toml), ou redémarrez avec `maillage serve --offline` pour signer quand même (journalisé)",
                "this data dir is a restored backup (taken from {source} on {taken}) and no peer is configured to tell it how far its own feed goes: add its peers (--peer or node.toml), or restart with `maillage serve --offline` to sign anyway (logged)"
            ),
            Duration::ZERO,
        ));
    }
    Arc::new(AuthoringGate::closed(
        {
            let (secs, n) = (AUTHORING_PATIENCE.as_secs(), peers.len());
            maillage_core::tr!(
                "ce nœud n'a pas encore appris d'un pair jusqu'où va son propre flux (il a démarré il y a moins de {secs} s, ou aucun de ses {n} pairs ne répond) : il ne signe rien d'ici là, pour qu'un nœud démarré depuis une copie périmée de son répertoire de données ne signe jamais deux fois une position de son flux. `maillage status` montre les liens ; redémarrez avec `maillage serve --offline` pour signer sans pair (journalisé)",
                "this node has not yet heard from a peer how far its own feed goes (it started less than {secs} s ago, or no peer of {n} answers): it signs nothing until then, so that a node started from a stale copy of its data dir never signs a position of its feed twice. `maillage status` shows the links; restart with `maillage serve --offline` to sign without a peer (logged)"
            )
        },
        AUTHORING_PATIENCE,
    ))
}

/// Why this node may sign, if a peer that answered the handshake and sent its frontier holds
/// this node's own feed no further than this node does.
pub fn own_feed_confirmed(replica: &Replica) -> Option<String> {
    let me = replica.id();
    let own = replica.store.head(&me).map_or(0, |h| h.seq);
    replica.peers().into_iter().find_map(|(name, peer)| {
        let heard = peer.key.is_some() && matches!(peer.state.as_str(), "catching-up" | "live");
        let theirs = peer.heads.get(&me).copied().unwrap_or(0);
        maillage_app::gate::confirms(heard, own, theirs).then(|| {
            format!(
                "peer {name} holds this node's feed up to seq {theirs}; this node holds seq {own}"
            )
        })
    })
}
