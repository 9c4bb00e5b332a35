//! The HTTP listener of real `maillage serve` processes on 127.0.0.1: two hubs with their real
//! venue exports, a voucher batch, a referral and a pending claim, and a national observer.
//! `/metrics` reflects what each node holds and did; `/`, `/federation` and `/venues` show the
//! figures of `maillage stats`, `status` and `venues search`, escaped; `serve.addr` and
//! `maillage status` name the HTTP address; `--http off` serves none.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

mod common;
#[path = "common/served.rs"]
mod served;

use common::{hand_out, issue_caf_batch, json, maillage, on, venues_file};
use served::{
    Served, encode, federation, free_port, get, get_with, martigues_venue, qualifiable, sample,
};

fn stored(dir: &Path, node: &str) -> u64 {
    json(&on(dir, node, &["status", "--json"]))["events_stored"]
        .as_u64()
        .unwrap()
}

/// The last seq of `node`'s own feed (named `name` in the charter).
fn own_seq(dir: &Path, node: &str, name: &str) -> u64 {
    json(&on(dir, node, &["status", "--json"]))["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .map_or(0, |f| f["seq"].as_u64().unwrap())
}

/// Polls `done` every 50 ms for 30 s.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A count as the pages print it (narrow no-break space between thousands).
fn fr_int(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202F}');
        }
        out.push(c);
    }
    out
}

/// Polls `/metrics` of `http` until `series` has `value` (or panics with the exposition).
fn wait_for_sample(http: &str, series: &str, value: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = get(http, "/metrics").body;
        if sample(&metrics, series) == Some(value) {
            return metrics;
        }
        assert!(
            Instant::now() < deadline,
            "{series} never reached {value}:\n{metrics}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The value of the dashboard tile `id` (digits only).
fn tile(html: &str, id: &str) -> u64 {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no tile {id}"));
    let value = &html[start..];
    let value = &value[value.find("class=\"value\">").unwrap() + 14..];
    let value = &value[..value.find('<').unwrap()];
    value
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("tile {id}: {value:?}"))
}

#[test]
fn metrics_dashboard_federation_and_venue_search_over_http() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "04,05,06,13,83,84"),
            ("charente", "Charente numérique", "16"),
            ("anct", "ANCT", ""),
        ],
    );
    // Before serving: the real venue maps, a batch bought by a funder, a carnet handed out.
    on(
        dir,
        "sud",
        &[
            "venues",
            "import",
            venues_file("hub-du-sud-2023-05-17.json").to_str().unwrap(),
        ],
    );
    on(
        dir,
        "charente",
        &[
            "venues",
            "import",
            venues_file("charente-2023-07-11.json").to_str().unwrap(),
        ],
    );
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "20");
    let person = json(&on(dir, "sud", &["person", "new", "--json"]))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    hand_out(dir, "sud", "13-2026-CAF-01:1-5", &person);
    let marseille = json(&on(
        dir,
        "sud",
        &[
            "venues",
            "search",
            "marseille",
            "--departement",
            "13",
            "--limit",
            "100000",
            "--json",
        ],
    ));
    let sud_venue = martigues_venue(dir, "sud");
    let marseille = marseille.as_array().unwrap().clone();
    assert!(marseille.len() > 5, "{}", marseille.len());
    on(
        dir,
        "sud",
        &[
            "venues",
            "qualify",
            &sud_venue,
            "--until",
            "2027-06-30",
            "--service",
            "démarches",
        ],
    );
    on(
        dir,
        "sud",
        &[
            "voucher",
            "redeem",
            "13-2026-CAF-01-1",
            "--venue",
            &sud_venue,
            "--service",
            "démarches",
            "--date",
            "2026-03-10",
        ],
    );
    let charente_venue = qualifiable(&json(&on(
        dir,
        "charente",
        &["venues", "list", "--limit", "100000", "--json"],
    )));

    // Serving: Hub du Sud leaves claims unanswered, so one stays pending; the observer pulls
    // from both hubs; each node's HTTP listener is on a free loopback port (the default).
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1]], &["--no-answer-claims"]);
    let mut charente = Served::start(dir, "charente", ports[1], &[ports[0]], &[]);
    let mut anct = Served::start(dir, "anct", ports[2], &[ports[0], ports[1]], &[]);

    // While serving, through the daemons: Charente qualifies a venue and claims a voucher of
    // Hub du Sud accepted there; Hub du Sud opens a referral.
    on(
        dir,
        "charente",
        &[
            "venues",
            "qualify",
            &charente_venue,
            "--until",
            "2027-06-30",
            "--service",
            "démarches",
        ],
    );
    // Charente holds Hub du Sud's batch and carnet before it claims one of its vouchers.
    wait_until("Charente learns Hub du Sud's vouchers", || {
        let out = maillage(
            dir,
            &[
                "--data-dir",
                "charente",
                "voucher",
                "status",
                "13-2026-CAF-01-2",
                "--json",
            ],
        );
        out.status.success()
            && json(&String::from_utf8_lossy(&out.stdout))["status"] == "handed_out"
    });
    on(
        dir,
        "charente",
        &[
            "voucher",
            "claim",
            "13-2026-CAF-01-2",
            "--venue",
            &charente_venue,
            "--service",
            "démarches",
            "--date",
            "2026-03-12",
        ],
    );
    on(
        dir,
        "sud",
        &[
            "referral",
            "open",
            "--person",
            &person,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            "CAF des Bouches-du-Rhône, Martigues",
            "--need",
            "démarches",
            "--venue",
            &sud_venue,
        ],
    );

    // Everyone converges on every event of both hubs.
    let total = own_seq(dir, "sud", "Hub du Sud") + own_seq(dir, "charente", "Charente numérique");
    assert!(total > 800, "{total}");
    wait_until("every node stores every event", || {
        ["sud", "charente", "anct"]
            .iter()
            .all(|n| stored(dir, n) == total)
    });

    // serve.addr: federation address, command socket, then the HTTP address.
    let lines = anct.addr_lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], format!("federation 127.0.0.1:{}", ports[2]));
    assert!(
        lines[1].starts_with("admin /") && lines[1].ends_with("/anct/run/admin.sock"),
        "{lines:?}"
    );
    let anct_http = anct.http().unwrap();
    assert!(anct_http.starts_with("127.0.0.1:"), "{anct_http}");
    assert!(
        anct.log().contains(&format!("http://{anct_http}/")),
        "the bound address is logged: {}",
        anct.log()
    );
    let status = json(&on(dir, "anct", &["status", "--json"]));
    assert_eq!(status["http"], anct_http.as_str(), "{status}");
    let text = on(dir, "anct", &["status"]);
    assert!(
        text.contains(&format!("http : tableau de bord http://{anct_http}/")),
        "{text}"
    );
    let sud_http = sud.http().unwrap();
    let charente_http = charente.http().unwrap();
    assert_ne!(sud_http, charente_http);

    // /metrics of the observer: everything it holds came from its peers. A link turns live
    // when its own catch-up ends, which may come after the other link brought every event.
    wait_for_sample(&anct_http, "maillage_events_replicated_total", total as f64);
    let mut metrics = String::new();
    for (node, name) in [("sud", "Hub du Sud"), ("charente", "Charente numérique")] {
        let peer = on(dir, node, &["id"]).trim()[..8].to_owned();
        metrics = wait_for_sample(
            &anct_http,
            &format!(
                "maillage_peer_state{{peer=\"{peer}\",name=\"{name}\",direction=\"outbound\",state=\"live\"}}"
            ),
            1.0,
        );
    }
    let page = get(&anct_http, "/metrics");
    assert_eq!(page.status, 200);
    // The Prometheus text format unless OpenMetrics is asked for (node/tests/service.rs).
    assert_eq!(
        page.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8"),
        "{:?}",
        page.headers
    );
    assert!(!metrics.contains("# EOF"), "{metrics}");
    assert_eq!(
        sample(&metrics, "maillage_events_stored"),
        Some(total as f64)
    );
    assert!(sample(&metrics, "maillage_events_received_total").unwrap() >= total as f64);
    assert_eq!(
        sample(&metrics, "maillage_events_appended_total"),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "maillage_events_rejected_total{reason=\"bad_signature\"}"
        ),
        Some(0.0)
    );
    assert_eq!(sample(&metrics, "maillage_forks"), Some(0.0));
    assert_eq!(
        sample(
            &metrics,
            "maillage_events_rejected_total{reason=\"unsupported_version\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(&metrics, "maillage_handshakes_incompatible_total"),
        Some(0.0)
    );
    assert_eq!(sample(&metrics, "maillage_events_pending"), Some(0.0));
    assert!(
        metrics.contains("maillage_node_info{node=\"")
            && metrics
                .contains("name=\"ANCT\",role=\"observer\",federation=\"Fédération test\"} 1"),
        "{metrics}"
    );
    assert!(sample(&metrics, "maillage_uptime_seconds").unwrap() > 0.0);
    // Peers are labelled by their key (short form) and name, the direction apart.
    for node in ["sud", "charente"] {
        let peer = on(dir, node, &["id"]).trim()[..8].to_owned();
        let name = if node == "sud" {
            "Hub du Sud"
        } else {
            "Charente numérique"
        };
        assert_eq!(
            sample(
                &metrics,
                &format!(
                    "maillage_peer_state{{peer=\"{peer}\",name=\"{name}\",direction=\"outbound\",state=\"live\"}}"
                )
            ),
            Some(1.0),
            "{metrics}"
        );
        assert_eq!(
            sample(
                &metrics,
                &format!(
                    "maillage_peer_state{{peer=\"{peer}\",name=\"{name}\",direction=\"outbound\",state=\"backing-off\"}}"
                )
            ),
            Some(0.0),
            "{metrics}"
        );
        assert_eq!(
            sample(
                &metrics,
                &format!(
                    "maillage_peer_state{{peer=\"{peer}\",name=\"{name}\",direction=\"outbound\",state=\"incompatible-protocol\"}}"
                )
            ),
            Some(0.0),
            "{metrics}"
        );
        assert_eq!(
            sample(
                &metrics,
                &format!(
                    "maillage_peer_protocol_version{{peer=\"{peer}\",name=\"{name}\",direction=\"outbound\"}}"
                )
            ),
            Some(2.0),
            "{metrics}"
        );
        for feed in ["Hub du Sud", "Charente numérique"] {
            assert_eq!(
                sample(
                    &metrics,
                    &format!(
                        "maillage_peer_lag_events{{peer=\"{peer}\",name=\"{name}\",direction=\"outbound\",feed=\"{feed}\"}}"
                    )
                ),
                Some(0.0),
                "{metrics}"
            );
        }
        assert!(
            sample(
                &metrics,
                &format!("maillage_peer_last_contact_timestamp_seconds{{peer=\"{peer}\",name=\"{name}\",direction=\"outbound\"}}")
            )
            .unwrap()
                > 1.7e9
        );
    }
    let feeds: f64 = ["Hub du Sud", "Charente numérique"]
        .iter()
        .map(|feed| {
            metrics
                .lines()
                .find(|l| l.starts_with(&format!("maillage_feed_seq{{feed=\"{feed}\"")))
                .and_then(|l| l.rsplit(' ').next())
                .unwrap()
                .parse::<f64>()
                .unwrap()
        })
        .sum();
    assert_eq!(feeds, total as f64);
    // The CLI's commands reached the observer's daemon through its command socket, timed.
    let runs = sample(
        &metrics,
        "maillage_grpc_request_duration_seconds_count{listener=\"admin\",method=\"/maillage.v1.Admin/Handle\"}",
    )
    .unwrap();
    assert!(runs >= 2.0, "{metrics}");
    assert!(
        metrics.contains(
            "maillage_grpc_request_duration_seconds_bucket{le=\"+Inf\",listener=\"admin\",method=\"/maillage.v1.Admin/Handle\"}"
        ),
        "{metrics}"
    );

    // The hubs: the claim waits for Hub du Sud's answer on both sides; own appends count what
    // each daemon signed (Charente: a qualification and a claim; Hub du Sud: a referral).
    let sud_metrics = wait_for_sample(
        &sud_http,
        "maillage_claims_pending{side=\"to_answer\"}",
        1.0,
    );
    assert_eq!(
        sample(
            &sud_metrics,
            "maillage_claims_pending{side=\"awaiting_answer\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(&sud_metrics, "maillage_events_appended_total"),
        Some(1.0)
    );
    assert!(
        sample(
            &sud_metrics,
            "maillage_grpc_request_duration_seconds_count{listener=\"federation\",method=\"/maillage.v1.Federation/Pull\"}"
        )
        .unwrap()
            >= 2.0,
        "{sud_metrics}"
    );
    let charente_metrics = wait_for_sample(
        &charente_http,
        "maillage_claims_pending{side=\"awaiting_answer\"}",
        1.0,
    );
    assert_eq!(
        sample(&charente_metrics, "maillage_events_appended_total"),
        Some(2.0)
    );

    // The dashboard shows `maillage stats`.
    let stats = json(&on(dir, "anct", &["stats", "--json"]));
    let page = get(&anct_http, "/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let html = page.body;
    assert!(!html.contains("<script"), "no script");
    let venues: u64 = stats["venues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["venues"].as_u64().unwrap())
        .sum();
    assert!(venues > 700, "{venues}");
    assert_eq!(tile(&html, "venues"), venues);
    assert_eq!(tile(&html, "qualified"), 2);
    assert_eq!(tile(&html, "issued"), 20);
    assert_eq!(tile(&html, "handed-out"), 5);
    assert_eq!(tile(&html, "redeemed"), 1);
    assert_eq!(tile(&html, "referrals"), 1);
    assert_eq!(tile(&html, "usage-rate"), 20); // 1 redeemed of 5 handed out
    for text in [
        "Hub du Sud",
        "Charente numérique",
        "CAF des Bouches-du-Rhône",
        "<svg id=\"chart-vouchers\"",
        "<svg id=\"chart-referrals\"",
        "<svg id=\"map-venues\"",
        "<table id=\"departements\">",
        "<td>16\u{A0}Charente</td><td>Charente numérique</td>",
        "<td class=\"small\">04\u{A0}Alpes-de-Haute-Provence, 05\u{A0}Hautes-Alpes",
        // The indicators, each under its definition: 4 of the 5 vouchers handed out are still
        // owed; the one redemption was at the issuing hub's own venue.
        "<h2>Indicateurs nationaux</h2>",
        "<div class=\"card\" id=\"indicator-liability\"><h3>Encours</h3><p class=\"small muted\">Pass remis à une personne",
        "<tr class=\"total\"><td>Total</td><td></td><td class=\"num\">40,00\u{A0}€</td></tr>",
        "Aucun flux entre territoires.",
    ] {
        assert!(html.contains(text), "{text} missing from the dashboard");
    }
    assert!(html.matches("<circle").count() > 500, "venues on the map");
    // The day as French readers write it, the ISO day for machines.
    let as_of = stats["as_of"].as_str().unwrap();
    assert!(html.contains(&format!(
        "id=\"as-of\"><time datetime=\"{as_of}\">{}</time><",
        maillage::web::pages::date_fr(as_of)
    )));
    // Another day: past the redeem deadline, every voucher not redeemed has expired; a day
    // that is not a date is refused.
    let page = get(&anct_http, "/?as_of=2027-03-01");
    assert_eq!(page.status, 200);
    assert_eq!(tile(&page.body, "expired"), 19);
    assert_eq!(get(&anct_http, "/?as_of=yesterday").status, 400);

    // English on request: `?lang=en` (which the page's links keep), or an Accept-Language
    // preferring English; `?lang=fr` wins over the header. French by default, and when the
    // header is malformed or oversized.
    let english_day = {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let parts: Vec<usize> = as_of.split('-').map(|p| p.parse().unwrap()).collect();
        format!(
            "<time datetime=\"{as_of}\">{} {} {}</time>",
            parts[2],
            MONTHS[parts[1] - 1],
            parts[0]
        )
    };
    let english = |page: &served::Page| {
        assert_eq!(page.status, 200);
        let html = &page.body;
        for text in [
            "<html lang=\"en\">",
            "<h1>National dashboard</h1>",
            "<h2>National indicators</h2>",
            "<h3>Outstanding liability</h3>",
            "No flow between territories.",
            "<td class=\"num\">€40.00</td></tr>",
            "Vouchers issued",
            "<td>16\u{A0}Charente</td><td>Charente numérique</td>",
            &english_day,
        ] {
            assert!(
                html.contains(text),
                "{text} missing from the English dashboard"
            );
        }
        assert!(!html.contains("Tableau de bord national"), "{html}");
        assert!(!html.contains("Indicateurs nationaux"), "{html}");
        assert_eq!(tile(html, "issued"), 20);
    };
    let page = get(&anct_http, "/?lang=en");
    english(&page);
    assert_eq!(page.header("vary"), Some("Accept-Language"));
    assert!(
        page.body
            .contains("<a href=\"/federation?lang=en\">Replication</a>")
    );
    assert!(
        page.body
            .contains("<input type=\"hidden\" name=\"lang\" value=\"en\">")
    );
    assert!(
        page.body
            .contains("href=\"/?lang=fr\" hreflang=\"fr\">FR</a>")
    );
    english(&get_with(
        &anct_http,
        "/",
        "Accept-Language: en-GB,en;q=0.9,fr;q=0.5\r\n",
    ));
    let french = |page: served::Page| {
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<html lang=\"fr\">"));
        assert!(page.body.contains("<h1>Tableau de bord national</h1>"));
        assert!(
            page.body
                .contains("href=\"/?lang=en\" hreflang=\"en\">EN</a>")
        );
    };
    french(get(&anct_http, "/"));
    french(get_with(&anct_http, "/?lang=fr", "Accept-Language: en\r\n"));
    french(get_with(
        &anct_http,
        "/",
        "Accept-Language: fr-FR,fr;q=0.9,en;q=0.8\r\n",
    ));
    french(get_with(
        &anct_http,
        "/",
        "Accept-Language: en;q=abc;;,,=\r\n",
    ));
    let oversized = format!("Accept-Language: {}en\r\n", "xx-YY;q=0.1,".repeat(400));
    french(get_with(&anct_http, "/", &oversized));
    let page = get(&anct_http, "/federation?lang=en");
    assert!(
        page.body.contains("<h1>Federation replication</h1>"),
        "{}",
        page.body
    );
    let page = get(&anct_http, "/venues?q=marseille&lang=en");
    assert!(page.body.contains("venues found"), "{}", page.body);
    assert_eq!(get(&anct_http, "/nope?lang=en").status, 404);

    // /federation shows `maillage status`.
    let digest = json(&on(dir, "anct", &["digest", "--json"]))["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = get(&anct_http, "/federation");
    assert_eq!(page.status, 200);
    let html = page.body;
    assert!(
        html.contains(&format!("id=\"digest\">{digest}<")),
        "digest {digest}"
    );
    for port in [ports[0], ports[1]] {
        assert!(
            html.contains(&format!("http://127.0.0.1:{port}")),
            "peer {port}"
        );
    }
    assert_eq!(
        html.matches("<span class=\"badge live\" title=\"live\">en direct</span>")
            .count(),
        2
    );
    assert!(html.contains("2\u{A0}/\u{A0}2"), "two peers live of two");
    assert_eq!(tile(&html, "events-stored"), total);

    // /venues runs `maillage venues search`.
    let page = get(&anct_http, "/venues?q=marseille&departement=13");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!(
            "<p id=\"result-count\"><strong>{}</strong> lieux trouvés",
            marseille.len()
        )),
        "{}",
        page.body
    );
    let first = served_escape(marseille[0]["record"]["nom"].as_str().unwrap());
    assert!(page.body.contains(&first), "{first}");
    let by_service = json(&on(
        dir,
        "anct",
        &[
            "venues",
            "search",
            "--service",
            "démarches",
            "--limit",
            "100000",
            "--json",
        ],
    ))
    .as_array()
    .unwrap()
    .len();
    let page = get(
        &anct_http,
        &format!(
            "/venues?q=&service={}",
            encode("Aide aux démarches administratives")
        ),
    );
    assert!(by_service > 1, "{by_service}");
    assert!(
        page.body.contains(&format!(
            "<p id=\"result-count\"><strong>{}</strong> lieux trouvés",
            fr_int(by_service)
        )),
        "{by_service}: {}",
        page.body
    );
    let page = get(&anct_http, "/venues?qualified=on");
    assert!(
        page.body.contains("<strong>2</strong> lieux trouvés"),
        "{}",
        page.body
    );
    assert_eq!(
        page.body
            .matches("<span class=\"badge ok\">qualifié</span>")
            .count(),
        2
    );
    // What the request says is escaped, never echoed as markup.
    let page = get(
        &anct_http,
        &format!("/venues?q={}", encode("\"><script>alert(1)</script>")),
    );
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>"));
    assert!(
        page.body
            .contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(page.body.contains("<strong>0</strong> lieux trouvés"));
    let page = get(&anct_http, &format!("/venues?service={}", encode("<b>x")));
    assert_eq!(page.status, 400);
    assert!(page.body.contains("id=\"search-error\""));
    assert!(!page.body.contains("<b>x"));
    assert_eq!(get(&anct_http, "/nope").status, 404);

    // A clean stop closes the HTTP listener with the others.
    anct.stop();
    assert!(std::net::TcpStream::connect(&anct_http).is_err());
    assert!(!dir.join("anct/serve.addr").exists());

    // --http off: no listener, no third line, and `status` says so.
    charente.stop();
    let mut charente = Served::start(dir, "charente", ports[1], &[ports[0]], &["--http", "off"]);
    assert_eq!(
        charente.addr_lines().len(),
        2,
        "{:?}",
        charente.addr_lines()
    );
    assert!(charente.http().is_none());
    let status = json(&on(dir, "charente", &["status", "--json"]));
    assert!(status["http"].is_null(), "{status}");
    assert!(on(dir, "charente", &["status"]).contains("http : désactivé"));
    charente.stop();
    sud.stop();
}

/// HTML escaping as the pages' templates (maud) do it, for expected texts: `&`, `<`, `>` and
/// `"`; an apostrophe stays as it is (attribute values are always double-quoted).
fn served_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
