//! What goes on the `auth-events` queue: one message per change of an auth,
//! without PHI (consumers read the auth if they need more).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The queue every change of an auth is published to (through the outbox).
pub const AUTH_EVENTS: &str = "auth-events";

/// One change of an auth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthEvent {
    pub auth_id: String,
    /// The requesting organisation.
    pub org: String,
    /// What happened: `submitted`, `approved`, `denied`, `deemed_approved`, ...
    pub action: String,
    /// The status before; absent for a new auth.
    pub from: Option<String>,
    pub to: String,
    pub at: Timestamp,
}
