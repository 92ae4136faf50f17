//! Request bodies into domain commands, every bad field named at once.

use mso_api::FieldError;
use mso_api::body::Fields;
use mso_domain::prior_auth::review::{Action, Decision, LineUnits};
use mso_domain::prior_auth::{MAX_LINES, MAX_UNITS, PeerToPeer};
/// The body of `POST /v1/prior-auths`, shared with intake's filing.
pub use mso_records::prior_auths::request::request;
use mso_records::prior_auths::request::{MAX_NAME, MAX_REASON, phone};
use serde_json::{Map, Value};

/// The body of `POST /v1/prior-auths/{id}/decision`.
pub fn decision(root: &Map<String, Value>) -> Result<Decision, Vec<FieldError>> {
    let mut f = Fields::new(root);
    let action = f.required("action", Action::parse);
    let lines = f.list_or_empty("lines", 0..=MAX_LINES, |item| {
        item.object(|l| {
            let line = l.required_u32("line", 1..=MAX_LINES as u32);
            let units = l.required_u32("authorized_units", 0..=MAX_UNITS);
            l.deny_unknown(&["line", "authorized_units"]);
            Some(LineUnits {
                line: line?,
                authorized_units: units?,
            })
        })
    });
    let reason_code = f.optional_text("reason_code", 64);
    let reason = f.optional_text("reason", MAX_REASON);
    let criteria = f.optional_text("criteria", MAX_NAME);
    let peer_to_peer = f.optional_object("peer_to_peer", |p| {
        let name = p.required_text("name", MAX_NAME);
        let phone_number = p.required("phone", phone);
        p.deny_unknown(&["name", "phone"]);
        Some(PeerToPeer {
            name: name?,
            phone: phone_number?,
        })
    });
    f.deny_unknown(&[
        "action",
        "lines",
        "reason_code",
        "reason",
        "criteria",
        "peer_to_peer",
    ]);
    let decision = (|| {
        Some(Decision {
            action: action?,
            lines: lines?.unwrap_or_default(),
            reason_code: reason_code?,
            reason: reason?,
            criteria: criteria?,
            peer_to_peer: peer_to_peer?,
        })
    })();
    match decision {
        Some(d) if f.is_valid() => Ok(d),
        _ => Err(f.into_errors()),
    }
}

/// The body of `POST /v1/prior-auths/{id}/cancel` (optional).
pub fn cancellation(root: &Map<String, Value>) -> Result<Option<String>, Vec<FieldError>> {
    let mut f = Fields::new(root);
    let reason = f.optional_text("reason", MAX_REASON);
    f.deny_unknown(&["reason"]);
    match reason {
        Some(r) if f.is_valid() => Ok(r),
        _ => Err(f.into_errors()),
    }
}
