//! Request bodies into domain commands, every bad field named at once. The
//! filing's body is read by `mso_records::disputes::request`, shared with the
//! intake clerk's route that files paper disputes.

use mso_api::FieldError;
use mso_api::body::{Fields, free_text};
use mso_domain::disputes::Outcome;
use mso_domain::disputes::review::{Decision, MAX_DETERMINATION, MAX_REASONS};
use mso_records::disputes::request::positive_money;
use serde_json::{Map, Value};

pub use mso_records::disputes::request::request;

/// One reason of a decision.
const MAX_ONE_REASON: usize = 1_000;

/// The body of `POST /v1/disputes/{id}/decision`.
pub fn decision(root: &Map<String, Value>) -> Result<Decision, Vec<FieldError>> {
    let mut f = Fields::new(root);
    let outcome = f.required("outcome", Outcome::parse);
    let amount = positive_money(&mut f, "amount");
    let reasons = f.list("reasons", 1..=MAX_REASONS, |item| {
        item.parse(|s| free_text(s, MAX_ONE_REASON, true))
    });
    let determination = f.required_text("determination", MAX_DETERMINATION);
    f.deny_unknown(&["outcome", "amount", "reasons", "determination"]);
    let decision = (|| {
        Some(Decision {
            outcome: outcome?,
            amount: amount?,
            reasons: reasons?,
            determination: determination?,
        })
    })();
    match decision {
        Some(d) if f.is_valid() => Ok(d),
        _ => Err(f.into_errors()),
    }
}

#[cfg(test)]
mod tests {
    use mso_domain::money::Money;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_decision_needs_an_outcome_reasons_and_the_written_determination() {
        let errors: Vec<String> = decision(
            json!({"outcome": "won", "amount": -1, "reasons": []})
                .as_object()
                .unwrap(),
        )
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
        assert_eq!(errors, ["outcome", "amount", "reasons", "determination"]);
        let d = decision(
            json!({"outcome": "partially_overturned", "amount": "40.00", "reasons": ["Contract rate"], "determination": "Letter"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(d.amount, Some(Money::from_cents(4_000)));
    }
}
