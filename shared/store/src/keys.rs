//! Every key of the single table, built here and nowhere else.
//!
//! | record            | pk                                   | sk                     | gsi1 pk                      | gsi1 sk                |
//! |-------------------|--------------------------------------|------------------------|------------------------------|------------------------|
//! | member + spans    | `MEMBER#<member_id>`                 | `MEMBER`               |                              |                        |
//! | provider (NPI)    | `PROVIDER#<npi>`                     | `PROVIDER`             | `ORG#<org_id>`               | `PROVIDER#<npi>`       |
//! | audit event       | `AUDIT#<yyyy-mm-dd>`                 | `<rfc3339>#<event_id>` | `AUDIT#ACTOR#<org>#<subject>`| `<rfc3339>#<event_id>` |
//! | idempotency claim | `IDEMPOTENCY#<org>#<route>#<key>`    | `IDEMPOTENCY`          |                              |                        |
//! | roster import     | `IMPORT#<kind>`                      | `<rfc3339>`            |                              |                        |
//!
//! `<route>` is the API Gateway route key (`POST /v1/prior-auths`). Sort keys that
//! start with an RFC 3339 UTC instant sort by time.

use crate::Key;

pub fn member(member_id: &str) -> Key {
    Key::new(format!("MEMBER#{member_id}"), "MEMBER")
}

pub fn provider(npi: &str) -> Key {
    Key::new(format!("PROVIDER#{npi}"), "PROVIDER")
}

/// The gsi1 key that lists an organisation's providers.
pub fn provider_by_org(org_id: &str, npi: &str) -> Key {
    Key::new(org_providers_partition(org_id), format!("PROVIDER#{npi}"))
}

pub fn org_providers_partition(org_id: &str) -> String {
    format!("ORG#{org_id}")
}

pub fn audit_event(day: &str, at: &str, event_id: &str) -> Key {
    Key::new(audit_day_partition(day), format!("{at}#{event_id}"))
}

pub fn audit_day_partition(day: &str) -> String {
    format!("AUDIT#{day}")
}

/// The gsi1 key that lists what one user did.
pub fn audit_by_actor(org_id: &str, subject: &str, at: &str, event_id: &str) -> Key {
    Key::new(
        audit_actor_partition(org_id, subject),
        format!("{at}#{event_id}"),
    )
}

pub fn audit_actor_partition(org_id: &str, subject: &str) -> String {
    format!("AUDIT#ACTOR#{org_id}#{subject}")
}

pub fn idempotency(org_id: &str, route: &str, idempotency_key: &str) -> Key {
    Key::new(
        format!("IDEMPOTENCY#{org_id}#{route}#{idempotency_key}"),
        "IDEMPOTENCY",
    )
}

pub fn roster_import(kind: &str, at: &str) -> Key {
    Key::new(format!("IMPORT#{kind}"), at.to_string())
}
