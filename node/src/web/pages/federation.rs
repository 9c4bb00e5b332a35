//! `/federation`: replication health (`maillage status`): this node, its peers with their state
//! and lag, the feeds it holds, forks, events refused from peers.

use maillage_core::pb;
use maud::{Markup, html};

use super::{Nav, Page, PageHead, int, layout, tile};
use crate::lang::{Lang, current, t};
use maillage_core::tr;

/// How often the page reloads itself, in seconds.
const REFRESH_SECONDS: u32 = 15;

/// "il y a 3 s" from two Unix times in milliseconds.
fn ago(now_ms: u64, then_ms: u64) -> String {
    if then_ms == 0 {
        return t("jamais", "never").into();
    }
    let s = now_ms.saturating_sub(then_ms) / 1000;
    let (n, unit) = match s {
        0..=59 => (s, "s"),
        60..=3599 => (s / 60, "min"),
        3600..=86_399 => (s / 3600, "h"),
        _ => (s / 86_400, t("j", "d")),
    };
    tr!("il y a {n}\u{A0}{unit}", "{n}\u{A0}{unit} ago")
}

/// A duration in milliseconds, in its two largest units ("1 min 30 s").
fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}\u{A0}s"),
        60..=3599 => format!("{}\u{A0}min {}\u{A0}s", s / 60, s % 60),
        3600..=86_399 => format!("{}\u{A0}h {}\u{A0}min", s / 3600, s / 60 % 60),
        _ => format!(
            "{}\u{A0}{} {}\u{A0}h",
            s / 86_400,
            t("j", "d"),
            s / 3600 % 24
        ),
    }
}

/// A peer link's state in the page's language: a word or two for the badge, then a sentence.
fn state_words(state: &str) -> (&str, &str) {
    if current() == Lang::En {
        return match state {
            "live" => ("live", "up to date, live"),
            "catching-up" => ("catching up", "catching up"),
            "connecting" => ("connecting", "connecting"),
            "backing-off" => ("failing", "failing, will retry"),
            "incompatible-protocol" => (
                "incompatible",
                "incompatible protocol version: update maillage",
            ),
            "stopped" => ("stopped", "stopped"),
            "pulling-from-us" => ("incoming", "pulls our events"),
            other => (other, other),
        };
    }
    match state {
        "live" => ("en direct", "à jour, en direct"),
        "catching-up" => ("rattrapage", "rattrapage"),
        "connecting" => ("connexion", "connexion"),
        "backing-off" => ("en échec", "en échec, nouvel essai"),
        "incompatible-protocol" => (
            "incompatible",
            "version de protocole incompatible : mettre maillage à jour",
        ),
        "stopped" => ("arrêté", "arrêté"),
        "pulling-from-us" => ("entrant", "tire nos événements"),
        other => (other, other),
    }
}

/// The first four bytes of a key, in hex.
fn short_hex(key: &[u8]) -> String {
    hex::encode(&key[..key.len().min(4)])
}

/// The tile of live links, with the peers that pull from this node.
fn peers_tile(status: &pb::StatusResponse) -> Markup {
    // Links this node dials, and peers that dial in to pull from it.
    let pulling = status
        .peers
        .iter()
        .filter(|p| p.state == "pulling-from-us")
        .count();
    let links = status.peers.len() - pulling;
    let live = status.peers.iter().filter(|p| p.state == "live").count();
    let label = match (pulling, current()) {
        (0, _) => t(
            "liens vers les pairs à jour en direct",
            "links to peers up to date, live",
        )
        .to_owned(),
        (_, Lang::Fr) => format!(
            "liens vers les pairs à jour en direct ; {pulling} pair{} tire{} nos événements",
            if pulling > 1 { "s" } else { "" },
            if pulling > 1 { "nt" } else { "" }
        ),
        (_, Lang::En) => format!(
            "links to peers up to date, live; {pulling} peer{} pull{} our events",
            if pulling > 1 { "s" } else { "" },
            if pulling > 1 { "" } else { "s" }
        ),
    };
    tile("peers-live", &format!("{live}\u{A0}/\u{A0}{links}"), &label)
}

/// The table of peers, or a sentence when there is none.
fn peers_table(
    status: &pb::StatusResponse,
    now_ms: u64,
    feed_name: &dyn Fn(&[u8]) -> String,
) -> Markup {
    if status.peers.is_empty() {
        return html! {
            p class="muted" id="peers" {
                (t(
                    "Aucun pair : ce nœud n'a pas de lien configuré et personne ne tire ses \
                     événements.",
                    "No peer: this node has no link configured and no one pulls its events.",
                ))
            }
        };
    }
    html! {
        div class="card" {
            table id="peers" {
                thead {
                    tr {
                        th { (t("Pair", "Peer")) }
                        th { (t("Nœud", "Node")) }
                        th { (t("État", "State")) }
                        th class="num" { (t("Retard", "Lag")) }
                        th class="num" { (t("Reçus", "Received")) }
                        th class="num" { (t("Refusés", "Refused")) }
                        th { (t("Dernier contact", "Last contact")) }
                        th { (t("Dernière erreur", "Last error")) }
                    }
                }
                tbody {
                    @for peer in &status.peers {
                        @let lag: u64 = peer.lags.iter().fold(0u64, |sum, l| sum.saturating_add(l.lag));
                        // The state names a CSS class: only the characters a class name needs.
                        @let state_class: String = peer
                            .state
                            .chars()
                            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                            .collect();
                        tr {
                            td class="mono" {
                                @if peer.state == "pulling-from-us" {
                                    span class="small muted" { (t("connexion entrante", "incoming connection")) }
                                    br;
                                }
                                (peer.address)
                            }
                            td { (peer.name) }
                            td {
                                @let (badge, sentence) = state_words(&peer.state);
                                span class={ "badge " (state_class) } title=(peer.state) { (badge) }
                                " "
                                span class="small muted" { (sentence) }
                            }
                            td class="num" {
                                (int(lag))
                                @if !peer.lags.is_empty() {
                                    br;
                                    span class="small muted" {
                                        @for (i, l) in peer.lags.iter().enumerate() {
                                            @if i > 0 { ", " }
                                            (feed_name(&l.author)) (t(" : ", ": ")) (int(l.lag))
                                        }
                                    }
                                }
                            }
                            td class="num" { (int(peer.events_received)) }
                            td class="num" { (int(peer.events_rejected)) }
                            td { (ago(now_ms, peer.last_contact_ms)) }
                            td class="small" {
                                (peer.last_error)
                                @for u in &peer.unsupported {
                                    br;
                                    (u.message)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The table of the feeds this node holds, and the forks found among them.
fn feeds_table(status: &pb::StatusResponse) -> Markup {
    let frozen: Vec<&pb::FeedStatus> = status.feeds.iter().filter(|f| f.frozen).collect();
    html! {
        h2 { (t("Flux détenus", "Feeds held")) }
        div class="card" {
            table id="feeds" {
                thead {
                    tr {
                        th { (t("Flux (auteur)", "Feed (author)")) }
                        th { (t("Clé", "Key")) }
                        th class="num" { (t("Dernier n°", "Last no.")) }
                        th class="num" { (t("Intégrés aux vues", "Applied to views")) }
                        th { (t("État", "State")) }
                    }
                }
                tbody {
                    @for feed in &status.feeds {
                        tr {
                            td { (feed.name) }
                            td class="mono" { (short_hex(&feed.author)) }
                            td class="num" { (int(feed.seq)) }
                            td class="num" { (int(feed.applied)) }
                            td {
                                @if feed.frozen {
                                    span class="badge bad" { (t("gelé", "frozen")) }
                                    (t(" fork au n°\u{A0}", " fork at no.\u{A0}")) (feed.fork_seq)
                                } @else if feed.applied < feed.seq {
                                    span class="badge catching-up" { (t("intégration en cours", "applying")) }
                                } @else {
                                    span class="badge ok" { (t("intégré", "applied")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !frozen.is_empty() {
            div class="error" {
                strong { (t("Forks détectés.", "Forks detected.")) }
                (t(
                    " Ces flux ont signé deux événements différents à la même position ; ils sont \
                     gelés sur tous les nœuds à la dernière position valide.",
                    " These feeds signed two different events at the same position; they are \
                     frozen on every node at the last valid position.",
                ))
                ul {
                    @for feed in &frozen {
                        li { (feed.name) (t(" — fork au n°\u{A0}", " — fork at no.\u{A0}")) (feed.fork_seq) }
                    }
                }
            }
        }
    }
}

/// `/federation`: replication health.
pub fn federation(head: &PageHead, status: &pb::StatusResponse, now_ms: u64) -> String {
    let feed_name = |author: &[u8]| {
        status
            .feeds
            .iter()
            .find(|f| f.author == author)
            .map(|f| f.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| short_hex(author))
    };
    let forks = status.feeds.iter().filter(|f| f.frozen).count();
    let total_lag: u64 = status
        .peers
        .iter()
        .flat_map(|p| &p.lags)
        .fold(0u64, |sum, l| sum.saturating_add(l.lag));
    let body = html! {
        h1 { (t("Réplication de la fédération", "Federation replication")) }
        p class="lead" {
            (t(
                "État de ce nœud et de ses liens avec les autres nœuds. Page rafraîchie toutes les ",
                "The state of this node and of its links with the other nodes. The page reloads every ",
            ))
            (REFRESH_SECONDS) (t(" secondes.", " seconds."))
        }
        div class="tiles" {
            (tile("events-stored", &int(status.events_stored), t("événements stockés (tous les flux)", "events stored (all feeds)")))
            (peers_tile(status))
            (tile("lag", &int(total_lag), t("événements de retard sur les pairs", "events behind the peers")))
            (tile("forks", &int(forks as u64), t("flux gelés (fork détecté)", "frozen feeds (fork detected)")))
            (tile("pending", &int(status.events_pending), t("événements en attente de dépendances", "events waiting for dependencies")))
            (tile(
                "domain-rejections",
                &int(status.domain_rejections),
                t("événements sans effet (règle métier)", "events without effect (business rule)"),
            ))
            (tile("uptime", &duration(status.uptime_ms), t("depuis le démarrage", "since start")))
        }

        h2 { (t("Ce nœud", "This node")) }
        div class="card" {
            table {
                tr { th { (t("Nom", "Name")) } td { (status.name) " (" (status.role) ")" } }
                tr { th { (t("Clé (HubId)", "Key (HubId)")) } td class="mono" { (hex::encode(&status.node)) } }
                tr {
                    th { (t("Empreinte des vues", "Views digest")) }
                    td class="mono" id="digest" { (hex::encode(&status.digest)) }
                }
                tr {
                    th {}
                    td class="small muted" {
                        (t(
                            "Deux nœuds qui détiennent les mêmes événements ont la même empreinte : \
                             la comparer d'un nœud à l'autre vérifie leur accord.",
                            "Two nodes that hold the same events have the same digest: comparing \
                             it from one node to another checks that they agree.",
                        ))
                    }
                }
            }
        }

        h2 { (t("Pairs", "Peers")) }
        (peers_table(status, now_ms, &feed_name))
        (feeds_table(status))
        @if !status.rejected_from_peers.is_empty() {
            h2 { (t("Derniers événements refusés venant des pairs", "Latest events refused from peers")) }
            div class="card" {
                table id="rejections" {
                    thead {
                        tr {
                            th { (t("Venant de", "From")) }
                            th { (t("Flux", "Feed")) }
                            th class="num" { (t("N°", "No.")) }
                            th { (t("Raison", "Reason")) }
                        }
                    }
                    tbody {
                        @for r in status.rejected_from_peers.iter().rev() {
                            tr {
                                td class="mono" { (r.peer) }
                                td {
                                    @if r.author.is_empty() { "—" } @else { (feed_name(&r.author)) }
                                }
                                td class="num" { (r.seq) }
                                td class="small" { (r.reason) }
                            }
                        }
                    }
                }
            }
        }
    };
    let page = Page {
        refresh_seconds: Some(REFRESH_SECONDS),
        ..Page::new(Nav::Federation, t("Réplication", "Replication"))
    };
    layout(head, page, body)
}

#[cfg(test)]
mod tests {
    use super::super::tests::head;
    use super::*;

    #[test]
    fn relative_times() {
        assert_eq!(ago(10_000, 0), "jamais");
        assert_eq!(ago(10_000, 7_000), "il y a 3\u{A0}s");
        assert_eq!(ago(4_000_000, 1), "il y a 1\u{A0}h");
        assert_eq!(duration(90_000), "1\u{A0}min 30\u{A0}s");
    }

    #[test]
    fn the_federation_page_escapes_what_peers_say() {
        let status = pb::StatusResponse {
            name: "Nœud <i>".into(),
            feeds: vec![pb::FeedStatus {
                author: vec![1, 2, 3, 4, 5],
                name: "Flux <script>x</script>".into(),
                seq: 3,
                applied: 3,
                frozen: true,
                fork_seq: 2,
                ..pb::FeedStatus::default()
            }],
            peers: vec![pb::PeerStatus {
                address: "http://127.0.0.1:1".into(),
                name: "Pair \"1\"".into(),
                state: "live\"><script>".into(),
                last_error: "refusé <b>".into(),
                ..pb::PeerStatus::default()
            }],
            rejected_from_peers: vec![pb::RecentRejection {
                author: vec![1, 2, 3, 4, 5],
                seq: 2,
                peer: "http://127.0.0.1:1".into(),
                reason: "signature <invalide>".into(),
            }],
            ..pb::StatusResponse::default()
        };
        let html = federation(&head(), &status, 1_000);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>") && !html.contains("<i>"), "{html}");
        assert!(
            html.contains(
                "<span class=\"badge livescript\" title=\"live&quot;&gt;&lt;script&gt;\">live&quot;&gt;&lt;script&gt;</span>"
            ),
            "{html}"
        );
        assert!(html.contains("<td class=\"small\">signature &lt;invalide&gt;</td>"));
        assert!(html.contains("<li>Flux &lt;script&gt;x&lt;/script&gt; — fork au n°\u{A0}2</li>"));
        assert!(html.contains("<meta http-equiv=\"refresh\" content=\"15\">"));
        assert!(html.contains("0\u{A0}/\u{A0}1"), "no link live of one");
    }
}
