//! Founding a federation: a TOML list of members becomes the charter file.
//!
//! ```toml
//! name = "Fédération des hubs du numérique inclusif"
//! admission_threshold = 2
//!
//! [[members]]
//! name = "Hub du Sud"
//! key = "3b6a27bc…"          # the hub's public key, as printed by `maillage init`
//! role = "hub"
//! territories = ["04", "05", "06", "13", "83", "84"]
//!
//! [[members]]
//! name = "ANCT"
//! key = "…"
//! role = "observer"
//! ```

use maillage_core::{Charter, HubId, MemberSpec, Role};
use serde::Deserialize;

use crate::error::{AppError, Context, Result};

/// The founders' TOML file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersFile {
    /// Federation name.
    pub name: String,
    /// `k`: endorsements needed to change membership (default: a majority of hubs).
    pub admission_threshold: Option<u32>,
    /// Members.
    pub members: Vec<MemberEntry>,
}

/// One member in the TOML file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEntry {
    /// Display name.
    pub name: String,
    /// Public key, 64 hex digits.
    pub key: String,
    /// `hub` or `observer`.
    pub role: Role,
    /// Départements (hubs only).
    #[serde(default)]
    pub territories: Vec<String>,
}

/// Parses the members file and founds the charter.
pub fn charter_from_toml(text: &str) -> Result<Charter> {
    let file: MembersFile = toml::from_str(text).context(maillage_core::lang::t(
        "lecture du fichier des membres",
        "parsing the members file",
    ))?;
    let mut specs = Vec::with_capacity(file.members.len());
    for (index, member) in file.members.iter().enumerate() {
        let key: HubId = member.key.parse().map_err(|e| {
            let (n, name) = (index + 1, &member.name);
            AppError::invalid_field(
                "key",
                maillage_core::tr!(
                    "membre n° {n} ({name:?}) : clé : {e}",
                    "member #{n} ({name:?}): key: {e}"
                ),
            )
        })?;
        specs.push(MemberSpec {
            key,
            name: member.name.clone(),
            role: member.role,
            territories: member.territories.clone(),
        });
    }
    let hubs = specs.iter().filter(|m| m.role == Role::Hub).count() as u32;
    let threshold = file.admission_threshold.unwrap_or(hubs / 2 + 1);
    Charter::found(&file.name, threshold, specs)
        .context(maillage_core::lang::t("la charte", "the charter"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use maillage_core::SecretKey;

    #[test]
    fn members_file_becomes_a_charter() {
        let a = SecretKey::from_seed(&[1; 32]).hub_id();
        let b = SecretKey::from_seed(&[2; 32]).hub_id();
        let text = format!(
            "name = \"F\"\n[[members]]\nname = \"Hub du Sud\"\nkey = \"{a}\"\nrole = \"hub\"\nterritories = [\"13\", \"84\"]\n\n[[members]]\nname = \"ANCT\"\nkey = \"{b}\"\nrole = \"observer\"\n"
        );
        let charter = charter_from_toml(&text).unwrap();
        assert_eq!(charter.admission_threshold(), 1);
        assert_eq!(charter.holder_of("84"), Some(a));
        let bad = text.replace("\"13\"", "\"1\"");
        let err = format!("{:#}", charter_from_toml(&bad).unwrap_err());
        assert!(err.contains("reçu \"1\""), "{err}");
    }
}
