//! The body of `POST /v1/disputes` (and the clerk's fields when filing a
//! dispute from an intake item) into the domain's [`Request`], every bad field
//! named at once. Shared so both routes read the same fields the same way.

use mso_api::FieldError;
use mso_api::body::Fields;
use mso_domain::Invalid;
use mso_domain::dates::parse_date;
use mso_domain::disputes::review::MAX_REASON;
use mso_domain::disputes::{Kind, ReasonCategory, Request, SubjectRef};
use mso_domain::ids::{RecordKind, ReferenceId};
use mso_domain::money::Money;
use mso_domain::prior_auth::Contact;
use serde_json::{Map, Value};

// The contact reads as a prior auth's.
use crate::prior_auths::request::{MAX_NAME, email, phone};

/// An amount of money (whole cents as an integer, or a decimal string of
/// dollars; never a float) that must be more than zero.
pub fn positive_money(f: &mut Fields<'_>, name: &str) -> Option<Option<Money>> {
    match f.optional_money(name)? {
        Some(m) if m.cents() <= 0 => {
            f.problem(
                name,
                &Invalid::new("not_positive", "must be more than zero"),
            );
            None
        }
        other => Some(other),
    }
}

/// The body of `POST /v1/disputes`.
pub fn request(root: &Map<String, Value>) -> Result<Request, Vec<FieldError>> {
    let mut f = Fields::new(root);
    let kind = f.required("kind", Kind::parse);
    let claim_id = f.optional("claim_id", |s| {
        ReferenceId::parse_kind(RecordKind::Claim, s)
    });
    let prior_auth_id = f.optional("prior_auth_id", |s| {
        ReferenceId::parse_kind(RecordKind::PriorAuth, s)
    });
    let subject = match (claim_id, prior_auth_id) {
        (Some(Some(claim)), Some(None)) => Some(SubjectRef::Claim(claim)),
        (Some(None), Some(Some(auth))) => Some(SubjectRef::PriorAuth(auth)),
        (Some(None), Some(None)) => {
            f.problem(
                "claim_id",
                &Invalid::new(
                    "subject_required",
                    "give claim_id (or prior_auth_id for an appeal of a prior-auth decision)",
                ),
            );
            None
        }
        (Some(Some(_)), Some(Some(_))) => {
            f.problem(
                "prior_auth_id",
                &Invalid::new(
                    "one_subject_only",
                    "give claim_id or prior_auth_id, not both",
                ),
            );
            None
        }
        _ => None,
    };
    let reason_category = f.required("reason_category", ReasonCategory::parse);
    let reason = f.required_text("reason", MAX_REASON);
    let amount_disputed = positive_money(&mut f, "amount_disputed");
    let remittance_date = f.optional("remittance_date", parse_date);
    let expedited = f.bool_or("expedited", false);
    let contact = f.object("contact", |c| {
        let name = c.required_text("name", MAX_NAME);
        let phone_number = c.required("phone", phone);
        let extension = c.optional_text("extension", 10);
        let fax = c.optional("fax", phone);
        let mail = c.optional("email", email);
        c.deny_unknown(&["name", "phone", "extension", "fax", "email"]);
        Some(Contact {
            name: name?,
            phone: phone_number?,
            extension: extension?,
            fax: fax?,
            email: mail?,
        })
    });
    f.deny_unknown(&[
        "kind",
        "claim_id",
        "prior_auth_id",
        "reason_category",
        "reason",
        "amount_disputed",
        "remittance_date",
        "expedited",
        "contact",
    ]);
    let request = (|| {
        Some(Request {
            kind: kind?,
            subject: subject?,
            reason_category: reason_category?,
            reason: reason?,
            amount_disputed: amount_disputed?,
            remittance_date: remittance_date?,
            expedited: expedited?,
            contact: contact?,
        })
    })();
    match request {
        Some(r) if f.is_valid() => Ok(r),
        _ => Err(f.into_errors()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(v: Value) -> Vec<(String, String)> {
        request(v.as_object().unwrap())
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn every_bad_field_of_a_filing_is_named() {
        let got = fields(json!({
            "kind": "complaint",
            "claim_id": "PA-7K3Q9M",
            "reason_category": "",
            "amount_disputed": "12.345",
            "remittance_date": "2026-02-30",
            "expedited": "yes",
            "contact": {"name": "A", "phone": "12"},
            "memberId": "x"
        }));
        let want = [
            ("kind", "invalid_value"),
            ("claim_id", "invalid_reference_id"),
            ("reason_category", "invalid_value"),
            ("reason", "required"),
            ("amount_disputed", "invalid_amount"),
            ("remittance_date", "invalid_date"),
            ("expedited", "invalid_type"),
            ("contact.phone", "invalid_phone"),
            ("memberId", "unknown_field"),
        ];
        assert_eq!(
            got,
            want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
        );
    }

    #[test]
    fn a_filing_names_exactly_one_subject() {
        let base = json!({"kind": "appeal", "reason_category": "medical_necessity", "reason": "r",
            "contact": {"name": "A", "phone": "657-555-0199"}});
        let mut none = base.clone();
        none["claim_id"] = Value::Null;
        assert_eq!(
            fields(none),
            [("claim_id".to_string(), "subject_required".to_string())]
        );
        let mut both = base.clone();
        both["claim_id"] = json!("CLM-7K3Q9M2P4X");
        both["prior_auth_id"] = json!("PA-7K3Q9M");
        assert_eq!(
            fields(both),
            [("prior_auth_id".to_string(), "one_subject_only".to_string())]
        );
        let mut ok = base;
        ok["prior_auth_id"] = json!("pa-7k3q9m");
        ok["amount_disputed"] = json!(12_550);
        let r = request(ok.as_object().unwrap()).unwrap();
        assert_eq!(r.subject.prior_auth_id().unwrap().as_str(), "PA-7K3Q9M");
        assert_eq!(r.amount_disputed, Some(Money::from_cents(12_550)));
    }

    #[test]
    fn amounts_are_cents_or_a_decimal_string_never_a_float() {
        let base = json!({"kind": "pdr", "claim_id": "CLM-7K3Q9M2P4X", "reason_category": "underpayment",
            "reason": "r", "contact": {"name": "A", "phone": "657-555-0199"}});
        let amount = |v: Value| {
            let mut b = base.clone();
            b["amount_disputed"] = v;
            request(b.as_object().unwrap()).map(|r| r.amount_disputed)
        };
        assert_eq!(amount(json!("125.50")), Ok(Some(Money::from_cents(12_550))));
        assert_eq!(amount(json!(12_550)), Ok(Some(Money::from_cents(12_550))));
        assert_eq!(amount(json!(125.5)).unwrap_err()[0].code, "invalid_amount");
        assert_eq!(amount(json!("0.00")).unwrap_err()[0].code, "not_positive");
    }
}
