//! A hub's hand on its own venues, without re-importing a file: `venues set` changes fields of
//! the record (a `VenueUpdated` carrying the whole record), `venues close` closes the venue
//! (`VenueClosed`). Every value is checked before anything is signed, and the node's rules
//! judge the event before it is signed: a refusal leaves the log as it was.

use maillage_core::date::format_date;
use maillage_core::vocab::Service;
use maillage_core::{Role, pb};
use maillage_venues::edit;

use crate::app::App;
use crate::error::{AppError, Result};
use crate::request::{CloseVenue, EditVenue, Effect, PivotInput, ReopenVenue, Signed};
use crate::resolve;

/// The field names of `maillage venues set`'s options, for messages.
fn invalid(option: &str, message: String) -> AppError {
    AppError::invalid_field(
        option,
        format!("--{option} : {message} ; rien n'a été signé"),
    )
}

/// A list as the national standard's CSV writes it.
fn joined(values: &[String]) -> String {
    values.join("|")
}

impl App {
    pub(crate) fn edit_venue(&self, r: EditVenue) -> Result<Signed> {
        let node = self.node();
        if node.member()?.role != Role::Hub {
            return Err(AppError::forbidden(
                "ce nœud est un observateur : seuls les hubs modifient leurs lieux",
            ));
        }
        let me = node.id();
        let today = format_date(self.today());
        let mut views = node.views()?;
        let venue_id = resolve::venue(&views, "venue", &r.venue)?;
        let venue = views
            .venues()
            .get(&venue_id)
            .ok_or_else(|| AppError::not_found(format!("aucun lieu {venue_id}")))?;
        if venue.hub != me {
            return Err(AppError::forbidden(format!(
                "le lieu {venue_id} a été enregistré par {} : seul ce hub peut le modifier ; rien \
                 n'a été signé",
                resolve::hub_name(views.charter(), &venue.hub)
            )));
        }
        let dep = venue.departement.clone();
        let mut record = venue.record.clone();
        let mut changed: Vec<(String, String)> = Vec::new();
        let mut change = |field: &str, before: String, after: String| {
            if before != after {
                changed.push((field.to_owned(), after));
            }
        };
        if let Some(pivot) = &r.pivot {
            let (option, checked) = match pivot {
                PivotInput::Siret(raw) => ("siret", edit::check_siret(raw)),
                PivotInput::Rna(raw) => ("rna", edit::check_rna(raw)),
                PivotInput::Ridet(raw) => ("ridet", edit::check_ridet(raw, &dep)),
            };
            let value = checked.map_err(|m| invalid(option, m))?;
            change("pivot", record.pivot.clone(), value.clone());
            record.pivot = value;
        }
        if let Some(raw) = &r.hours {
            let value = if raw.trim().is_empty() {
                String::new()
            } else {
                edit::check_hours(raw).map_err(|m| invalid("hours", m))?
            };
            change("horaires", record.horaires.clone(), value.clone());
            record.horaires = value;
        }
        if let Some(services) = &r.services {
            if services.is_empty() {
                return Err(invalid(
                    "services",
                    "au moins un service du référentiel v1 est attendu".to_owned(),
                ));
            }
            let mut values: Vec<String> = Vec::new();
            for s in services {
                let service = Service::parse(s).ok_or_else(|| {
                    invalid(
                        "services",
                        format!(
                            "service inconnu {} : attendu un intitulé du référentiel v1 ({})",
                            maillage_core::excerpt::excerpt(s, 40),
                            Service::labels()
                        ),
                    )
                })?;
                let label = service.as_str().to_owned();
                if !values.contains(&label) {
                    values.push(label);
                }
            }
            change("services", joined(&record.services), joined(&values));
            record.services = values;
        }
        if let Some(emails) = &r.emails {
            let values = emails
                .iter()
                .map(|e| edit::check_email(e).map_err(|m| invalid("email", m)))
                .collect::<Result<Vec<_>>>()?;
            change("courriels", joined(&record.courriels), joined(&values));
            record.courriels = values;
        }
        if let Some(phones) = &r.phones {
            let values = phones
                .iter()
                .map(|p| edit::check_phone(p, &dep).map_err(|m| invalid("phone", m)))
                .collect::<Result<Vec<_>>>()?;
            change("telephone", joined(&record.telephone), joined(&values));
            record.telephone = values;
        }
        if changed.is_empty() {
            return Err(AppError::invalid_field(
                "venue",
                format!(
                    "rien à changer : le lieu {venue_id} a déjà ces valeurs (ou aucune option n'a \
                     été donnée : --siret, --rna, --ridet, --hours, --services, --email, \
                     --phone) ; rien n'a été signé"
                ),
            ));
        }
        record.date_maj = today;
        let body = pb::event::Body::VenueUpdated(pb::VenueUpdated {
            venue_id: venue_id.clone(),
            record: Some(record),
        });
        self.sign(&mut views, body, |ledger, _| Effect::VenueUpdated {
            venue: resolve::venue_ref(ledger, &venue_id),
            changed,
        })
    }

    pub(crate) fn close_venue(&self, r: CloseVenue) -> Result<Signed> {
        let reason = r.reason.trim().to_owned();
        if reason.is_empty() {
            return Err(AppError::invalid_field(
                "reason",
                "--reason : dites pourquoi le lieu ferme (ex. « déménagement », « fin du \
                 service ») ; rien n'a été signé",
            ));
        }
        let mut views = self.node().views()?;
        let venue_id = resolve::venue(&views, "venue", &r.venue)?;
        let body = pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: venue_id.clone(),
            reason: reason.clone(),
            date: r.date.unwrap_or_default(),
        });
        self.sign(&mut views, body, |ledger, _| Effect::VenueClosed {
            venue: resolve::venue_ref(ledger, &venue_id),
            reason,
        })
    }

    pub(crate) fn reopen_venue(&self, r: ReopenVenue) -> Result<Signed> {
        let reason = r.reason.trim().to_owned();
        if reason.is_empty() {
            return Err(AppError::invalid_field(
                "reason",
                maillage_core::lang::t(
                    "--reason : dites pourquoi le lieu rouvre (ex. « fin des travaux ») ; rien n'a été signé",
                    "--reason: say why the venue opens again (e.g. \"works finished\"); nothing was signed",
                ),
            ));
        }
        let mut views = self.node().views()?;
        let venue_id = resolve::venue(&views, "venue", &r.venue)?;
        let body = pb::event::Body::VenueReopened(pb::VenueReopened {
            venue_id: venue_id.clone(),
            reason: reason.clone(),
        });
        self.sign(&mut views, body, |ledger, _| Effect::VenueReopened {
            venue: resolve::venue_ref(ledger, &venue_id),
            reason,
        })
    }
}
