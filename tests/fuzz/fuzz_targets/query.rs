//! The dashboard's query strings (`/?as_of=…`, `/venues?q=…&departement=…&service=…
//! &qualified=…`), decoded as its handlers decode them, then the day parsed, the service
//! resolved and the directory searched as `/venues` does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maillage_core::ledger::VenueQuery;
use serde::Deserialize;

/// The handlers' parameters, all of them (`/` takes `as_of`, `/venues` the rest).
#[derive(Debug, Default, Deserialize)]
struct Params {
    as_of: Option<String>,
    q: Option<String>,
    departement: Option<String>,
    service: Option<String>,
    qualified: Option<String>,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(params) = serde_urlencoded::from_str::<Params>(text) else {
        return;
    };
    if let Some(day) = &params.as_of {
        let _ = maillage_core::Day::parse(day.trim());
    }
    let service = params
        .service
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| maillage_app::resolve::service("service", s.trim()).ok());
    let query = VenueQuery {
        departement: params
            .departement
            .map(|d| d.trim().chars().take(200).collect()),
        service,
        public: None,
        qualified_on: params.qualified.map(|_| 20_600),
        near: None,
    };
    let words: Vec<String> = params
        .q
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect::<String>()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let _ = maillage_app::venues::search(maillage_fuzz::ledger(), &query, &words);
});
