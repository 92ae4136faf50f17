//! Providers (by NPI) and the organisations they belong to.

use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::ids::{Npi, OrgId};

/// Whether a provider is contracted with the IPA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    In,
    Out,
}

impl Network {
    pub fn parse(s: &str) -> Result<Network, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "in" => Ok(Network::In),
            "out" => Ok(Network::Out),
            _ => Err(Invalid::new("invalid_network", "must be in or out")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    pub npi: Npi,
    pub name: String,
    pub org_id: OrgId,
    pub specialty: String,
    pub network: Network,
}

impl Provider {
    pub fn is_in_network(&self) -> bool {
        self.network == Network::In
    }
}
