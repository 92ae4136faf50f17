//! The front-end edits a claim passes before adjudication, each with a stable
//! code, the line it concerns, and words the provider can act on:
//!
//! | code | severity | rule |
//! |---|---|---|
//! | `member_not_found` | reject | member ID and date of birth must match a member |
//! | `member_not_eligible` | reject | eligible with the IPA on each date of service |
//! | `timely_filing` | reject | received within `claims.timely_filing_days` of the date of service |
//! | `future_date_of_service` | reject | not billed before the service |
//! | `carved_out` | reject | a carve-out the member's health plan pays is billed to the plan |
//! | `prior_auth_missing` | reject | a code on the PA list needs an approved, unexpired auth covering it |
//! | `prior_auth_units_exceeded` | pend | units beyond the authorised ones go to an examiner |
//! | `duplicate` | reject | same member, rendering provider, date, procedure, modifiers and charge as a live claim |
//! | `suspect_duplicate` | pend | the same service with another charge or modifiers |
//! | `original_claim_*` | reject | a replacement or void needs a live claim of the same member to refer to |
//!
//! Code validity (ICD-10, CPT/HCPCS, place of service, NPI Luhn) is
//! [`super::validate`]'s; its problems become `invalid_*` edits through
//! [`Edit::invalid`].

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::validate::FieldProblem;
use super::{Checked, CheckedLine, Frequency, Status, units_words};
use crate::clock::{add_calendar_days, local_date};
use crate::eligibility;
use crate::ids::{MemberId, ReferenceId};
use crate::member::Member;
use crate::policy::{Party, Policy};
use crate::prior_auth::PriorAuth;
use crate::provider::Provider;

wire_enum!(
    /// What an edit does to the claim.
    Severity {
        /// The claim is rejected; the provider corrects it and bills again.
        Reject = "reject",
        /// The claim waits for a claims examiner.
        Pend = "pend",
    }
);

/// An edit that fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub code: String,
    pub severity: Severity,
    /// The 1-based service line, when the edit concerns one.
    pub line: Option<u32>,
    /// Plain words: what is wrong and what to do. Never a member's name or ID.
    pub message: String,
}

impl Edit {
    fn reject(code: &str, line: Option<u32>, message: String) -> Edit {
        Edit {
            code: code.into(),
            severity: Severity::Reject,
            line,
            message,
        }
    }

    fn pend(code: &str, line: Option<u32>, message: String) -> Edit {
        Edit {
            code: code.into(),
            severity: Severity::Pend,
            line,
            message,
        }
    }

    /// A code-validity problem found by [`super::validate`], as a rejecting edit.
    pub fn invalid(problem: &FieldProblem) -> Edit {
        let code = match problem.field.rsplit('.').next().unwrap_or_default() {
            f if f.starts_with("npi") || f.ends_with("_npi") => "invalid_npi",
            f if f.starts_with("diagnoses") => "invalid_diagnosis",
            "code" => "invalid_procedure",
            f if f.starts_with("modifiers") => "invalid_modifier",
            f if f.starts_with("place_of_service") => "invalid_place_of_service",
            "member_id" => "invalid_member_id",
            _ => "invalid_claim_data",
        };
        let what = match problem.line() {
            Some(n) => format!(
                "Line {n}, {}",
                problem.field.split_once('.').map_or("", |(_, f)| f)
            ),
            None => problem.field.clone(),
        };
        Edit::reject(
            code,
            problem.line(),
            format!("{what}: {}.", problem.message),
        )
    }

    /// A problem the X12 reader found in the claim's segments (never its value).
    pub fn unreadable(segment: &str, position: &str, reason: &str) -> Edit {
        Edit::reject(
            "invalid_claim_data",
            None,
            format!("{segment} segment at {position}: {reason}."),
        )
    }

    /// A claim whose billing or rendering provider is not of the organisation that
    /// sent it (or, for a clearinghouse's file, of any organisation of the IPA).
    pub fn provider_not_in_organisation(clearinghouse: bool) -> Edit {
        let message = if clearinghouse {
            "Neither the billing nor the rendering NPI is a provider of this IPA: bill the member's plan or the provider's own IPA."
        } else {
            "Neither the billing nor the rendering NPI is a provider of your organisation."
        };
        Edit::reject("provider_not_in_organisation", None, message.into())
    }

    /// The STC01 of a 277CA for a claim this edit rejects: category, claim status
    /// code, and the entity in error (X12 Claim Status Code list).
    pub fn claim_status(&self) -> (&'static str, &'static str, Option<&'static str>) {
        match self.code.as_str() {
            "member_not_found" => ("A3", "33", Some("IL")),
            "invalid_member_id" => ("A7", "33", Some("IL")),
            "member_not_eligible" => ("A3", "109", Some("IL")),
            "timely_filing" | "future_date_of_service" => ("A3", "187", None),
            "invalid_npi" => ("A7", "562", Some("85")),
            "provider_not_in_organisation" => ("A3", "21", Some("85")),
            "invalid_diagnosis" => ("A7", "255", None),
            "invalid_procedure" => ("A7", "454", None),
            "invalid_modifier" => ("A7", "453", None),
            "invalid_place_of_service" => ("A7", "249", None),
            "carved_out" => ("A3", "116", Some("PR")),
            "prior_auth_missing" => ("A3", "252", None),
            "duplicate" => ("A3", "78", None),
            c if c.starts_with("original_claim") => ("A7", "464", None),
            _ => ("A7", "21", None),
        }
    }
}

/// What the edits answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub edits: Vec<Edit>,
}

impl Outcome {
    /// The status that a set of edits leaves: any reject rejects, else any pend
    /// pends, else accepted.
    pub fn of(edits: Vec<Edit>) -> Outcome {
        let status = if edits.iter().any(|e| e.severity == Severity::Reject) {
            Status::Rejected
        } else if edits.iter().any(|e| e.severity == Severity::Pend) {
            Status::Pended
        } else {
            Status::Accepted
        };
        Outcome { status, edits }
    }
}

/// A service as the duplicate edit compares it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceKey {
    #[serde(with = "crate::dates::iso")]
    pub date: Date,
    /// The rendering NPI.
    pub rendering: String,
    pub procedure: String,
    /// Sorted: `25 59` and `59 25` are the same service.
    pub modifiers: Vec<String>,
    pub charge_cents: i64,
}

impl ServiceKey {
    /// The line's service (`None` for an institutional line with only a revenue code).
    pub fn of(line: &CheckedLine) -> Option<ServiceKey> {
        let procedure = line.procedure?;
        let mut modifiers: Vec<String> = line
            .modifiers
            .iter()
            .map(|m| m.as_str().to_string())
            .collect();
        modifiers.sort();
        Some(ServiceKey {
            date: line.from,
            rendering: line.rendering.to_string(),
            procedure: procedure.as_str().to_string(),
            modifiers,
            charge_cents: line.charge.cents(),
        })
    }

    /// The text a store hashes into a guard that only one live claim may hold
    /// (the member's, the service's): a concurrent duplicate then fails to commit.
    pub fn fingerprint(&self, member: &MemberId) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            member.as_str(),
            self.rendering,
            self.date,
            self.procedure,
            self.modifiers.join(" "),
            self.charge_cents
        )
    }

    fn same_service(&self, other: &ServiceKey) -> bool {
        self.date == other.date
            && self.rendering == other.rendering
            && self.procedure == other.procedure
    }
}

/// Another claim of the member, as the duplicate and replacement edits need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherClaim {
    pub id: ReferenceId,
    pub status: Status,
    pub member_id: String,
    pub services: Vec<ServiceKey>,
}

/// What the store knows that the edits need.
pub struct Facts<'a> {
    pub policy: &'a Policy,
    pub received_at: Timestamp,
    /// The member with the claim's member ID, if any (the date of birth is checked here).
    pub member: Option<&'a Member>,
    /// The directory entries of the member's assigned PCPs.
    pub pcps: &'a [Provider],
    /// The member's prior auths, and any the claim names.
    pub auths: &'a [PriorAuth],
    /// The member's other claims (any status; the claim itself may be among them).
    pub others: &'a [OtherClaim],
    /// For a replacement or void: the claim it names, when it is on file for the
    /// same organisation.
    pub original: Option<&'a OtherClaim>,
}

/// Every edit of `claim` (whose ID is `id`) against `facts`.
pub fn run(id: &ReferenceId, claim: &Checked, facts: &Facts<'_>) -> Outcome {
    let mut edits = Vec::new();
    let Some(member) = facts.member.filter(|m| m.dob == claim.dob) else {
        edits.push(Edit::reject(
            "member_not_found",
            None,
            "No member matches this member ID and date of birth: check both on the member's card."
                .into(),
        ));
        return Outcome::of(edits);
    };
    if claim.frequency != Frequency::Original {
        original_claim(claim, facts, &mut edits);
    }
    if claim.frequency == Frequency::Void {
        return Outcome::of(edits);
    }
    let policy = facts.policy;
    let received_on = local_date(facts.received_at, policy.time_zone());
    for line in &claim.lines {
        let n = Some(line.number);
        if line.from > received_on {
            edits.push(Edit::reject(
                "future_date_of_service",
                n,
                format!(
                    "Line {}: the date of service {} is after the claim was received ({received_on}); bill services once they are rendered.",
                    line.number, line.from
                ),
            ));
            continue;
        }
        let deadline = add_calendar_days(line.to, policy.claims.timely_filing_days);
        if received_on > deadline {
            edits.push(Edit::reject(
                "timely_filing",
                n,
                format!(
                    "Line {}: claims for services on {} had to reach {} within {} days, by {deadline}; this one was received on {received_on}.",
                    line.number, line.to, policy.ipa.name, policy.claims.timely_filing_days
                ),
            ));
        }
        if let Some(edit) = eligible_on(member, line, facts) {
            edits.push(edit);
            continue;
        }
        if let Some(edit) = carved_out(member, line, policy) {
            edits.push(edit);
            continue;
        }
        if let Some(edit) = prior_auth(claim, line, facts) {
            edits.push(edit);
        }
    }
    duplicates(id, claim, facts, &mut edits);
    Outcome::of(edits)
}

fn original_claim(claim: &Checked, facts: &Facts<'_>, edits: &mut Vec<Edit>) {
    let named = claim
        .original_claim_id
        .as_ref()
        .map_or_else(String::new, ToString::to_string);
    let verb = match claim.frequency {
        Frequency::Void => "void",
        _ => "replace",
    };
    let (code, message) = match facts.original {
        None => (
            "original_claim_unknown",
            format!("{named} is not a claim of your organisation on file: nothing to {verb}."),
        ),
        Some(o) if o.member_id != claim.member_id.as_str() => (
            "original_claim_mismatch",
            format!(
                "{named} is for another member: a replacement or void must be for the same member."
            ),
        ),
        Some(o) => match o.status {
            Status::Accepted | Status::Pended => return,
            Status::Voided => (
                "original_claim_voided",
                format!("{named} was already voided: nothing to {verb}."),
            ),
            Status::Replaced => (
                "original_claim_replaced",
                format!("{named} was already replaced: {verb} the claim that replaced it."),
            ),
            Status::Rejected => (
                "original_claim_rejected",
                format!(
                    "{named} was rejected and never entered adjudication: bill a new original claim (frequency 1)."
                ),
            ),
            Status::Received => {
                edits.push(Edit::pend(
                    "original_claim_in_edits",
                    None,
                    format!("{named} is still being edited; an examiner will apply this {verb} once it is decided."),
                ));
                return;
            }
        },
    };
    edits.push(Edit::reject(code, None, message));
}

fn eligible_on(member: &Member, line: &CheckedLine, facts: &Facts<'_>) -> Option<Edit> {
    let span = member.span_on(line.from);
    let pcp = span
        .and_then(|s| s.pcp_npi)
        .and_then(|npi| facts.pcps.iter().find(|p| p.npi == npi));
    let det = eligibility::determine(member, line.from, facts.policy, pcp, None);
    let reason = det.reasons.first()?;
    Some(Edit::reject(
        "member_not_eligible",
        Some(line.number),
        format!(
            "Line {}: {}",
            line.number,
            reason.message(line.from, &facts.policy.ipa.name)
        ),
    ))
}

fn carved_out(member: &Member, line: &CheckedLine, policy: &Policy) -> Option<Edit> {
    let code = line.procedure?;
    let plan = policy.plan(&member.span_on(line.from)?.plan_id)?;
    let carve_out = plan.carve_outs.iter().find(|c| {
        c.financially_responsible == Party::HealthPlan && c.codes.iter().any(|r| r.contains(code))
    })?;
    let who = carve_out
        .administered_by
        .as_deref()
        .map(|vendor| format!("{} ({vendor})", plan.health_plan))
        .unwrap_or_else(|| plan.health_plan.clone());
    let call = carve_out
        .phone
        .as_deref()
        .map(|p| format!(", {p}"))
        .unwrap_or_default();
    Some(Edit::reject(
        "carved_out",
        Some(line.number),
        format!(
            "Line {}: {code} is carved out ({}): {who} pays it, not {}. Bill {who}{call}.",
            line.number, carve_out.description, policy.ipa.name
        ),
    ))
}

fn prior_auth(claim: &Checked, line: &CheckedLine, facts: &Facts<'_>) -> Option<Edit> {
    let code = line.procedure?;
    if !facts.policy.prior_auth.requires_auth(code) {
        return None;
    }
    let named = line.prior_auth_id.as_ref().or(claim.prior_auth_id.as_ref());
    let covering = facts
        .auths
        .iter()
        .filter(|a| named.is_none_or(|id| &a.id == id))
        .filter(|a| a.request.member_id == claim.member_id)
        .find_map(|a| {
            let on_first = a.authorised_line(code, line.from)?;
            a.authorised_line(code, line.to)?;
            Some((a, on_first))
        });
    let number = line.number;
    let Some((auth, authorised)) = covering else {
        let which = named.map_or_else(
            || "no approved auth for this member covers it".to_string(),
            |id| format!("{id} does not authorise it for this member"),
        );
        let dates = if line.from == line.to {
            format!("on {}", line.from)
        } else {
            format!("from {} to {}", line.from, line.to)
        };
        return Some(Edit::reject(
            "prior_auth_missing",
            Some(number),
            format!(
                "Line {number}: {code} needs prior authorization from {} and {which} {dates}. Submit the auth first, or put its reference ID on the claim.",
                facts.policy.ipa.name
            ),
        ));
    };
    (line.units > authorised.authorized_units).then(|| {
        Edit::pend(
            "prior_auth_units_exceeded",
            Some(number),
            format!(
                "Line {number}: {} billed; {} authorises {} for {code}. A claims examiner reviews the units beyond the auth.",
                units_words(line.units),
                auth.id,
                units_words(authorised.authorized_units)
            ),
        )
    })
}

fn duplicates(id: &ReferenceId, claim: &Checked, facts: &Facts<'_>, edits: &mut Vec<Edit>) {
    let replaced = claim.original_claim_id.as_ref();
    let others: Vec<&OtherClaim> = facts
        .others
        .iter()
        .filter(|o| &o.id != id && Some(&o.id) != replaced && o.status.is_live())
        .collect();
    for line in &claim.lines {
        let Some(key) = ServiceKey::of(line) else {
            continue;
        };
        let exact = others.iter().find(|o| o.services.iter().any(|s| s == &key));
        if let Some(other) = exact {
            edits.push(Edit::reject(
                "duplicate",
                Some(line.number),
                format!(
                    "Line {}: duplicate of {}, which bills the same service (date, rendering provider, procedure, modifiers and charge). To correct that claim, send a replacement (frequency 7) naming it.",
                    line.number, other.id
                ),
            ));
            continue;
        }
        let similar = others
            .iter()
            .find(|o| o.services.iter().any(|s| s.same_service(&key)));
        if let Some(other) = similar {
            edits.push(Edit::pend(
                "suspect_duplicate",
                Some(line.number),
                format!(
                    "Line {}: {} bills the same procedure by the same provider on the same date with another charge or modifiers; a claims examiner decides whether this is a second service.",
                    line.number, other.id
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests;
