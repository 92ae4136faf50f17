use jiff::Timestamp;
use jiff::civil::Date;

use super::*;
use crate::claims::fixtures::{line, professional};
use crate::claims::{Submission, validate};
use crate::codes::ProcedureCode;
use crate::ids::{Npi, OrgId, PlanId, RecordKind};
use crate::member::{CoverageSpan, LineOfBusiness, Sex};
use crate::prior_auth::fixtures::{self as pa, mri_request};
use crate::prior_auth::{Actor, Source, rules};
use crate::provider::Network;

const PCP: &str = "1003000126";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn claim_id(n: u8) -> ReferenceId {
    ReferenceId::from_entropy(RecordKind::Claim, &[n; 16]).unwrap()
}

fn member(end: Option<&str>) -> Member {
    Member {
        member_id: MemberId::parse("SUN100001").unwrap(),
        first_name: "Ana".into(),
        last_name: "Reyes".into(),
        dob: date("1984-03-15"),
        sex: Sex::Female,
        spans: vec![CoverageSpan {
            plan_id: PlanId::parse("MCAL-1").unwrap(),
            line_of_business: LineOfBusiness::MediCal,
            start: date("2025-01-01"),
            end: end.map(date),
            pcp_npi: Some(Npi::parse(PCP).unwrap()),
        }],
    }
}

fn pcps() -> Vec<Provider> {
    vec![Provider {
        npi: Npi::parse(PCP).unwrap(),
        name: "Dr PCP".into(),
        org_id: OrgId::parse("sunrise-family-medicine").unwrap(),
        specialty: "family medicine".into(),
        network: Network::In,
    }]
}

/// The fixture MRI request, approved at once (criteria met), from 2026-11-20.
fn approved_mri(units: u32) -> PriorAuth {
    let policy = pa::policy();
    let mut request = mri_request();
    request.lines[0].units = units;
    let plan = policy.plan(&PlanId::parse("MCAL-1").unwrap()).unwrap();
    let servicing = pcps().remove(0);
    let ctx = rules::Context {
        policy: &policy,
        plan,
        assigned_pcp: Some(Npi::parse(PCP).unwrap()),
        servicing: Some(&servicing),
        member_age: 42,
    };
    let at = ts("2026-11-20T17:00:00Z");
    let auth = PriorAuth::submitted(
        ReferenceId::parse("PA-7K3Q9M").unwrap(),
        OrgId::parse("sunrise-family-medicine").unwrap(),
        request,
        at,
        at,
        Source::Portal,
        &ctx,
        None,
        Actor::system(),
    );
    assert!(auth.status.authorises(), "the fixture auth is approved");
    auth
}

/// Judges `s` received on 5 December 2026 with the given auths and other claims.
fn judge(s: &Submission, auths: &[PriorAuth], others: &[OtherClaim]) -> Outcome {
    judge_at(s, auths, others, None, "2026-12-05T18:00:00Z")
}

fn judge_at(
    s: &Submission,
    auths: &[PriorAuth],
    others: &[OtherClaim],
    original: Option<&OtherClaim>,
    received: &str,
) -> Outcome {
    let policy = pa::policy();
    let member = member(None);
    let pcps = pcps();
    let checked = validate(s).unwrap();
    run(
        &claim_id(1),
        &checked,
        &Facts {
            policy: &policy,
            received_at: ts(received),
            member: Some(&member),
            pcps: &pcps,
            auths,
            others,
            original,
        },
    )
}

fn codes(o: &Outcome) -> Vec<&str> {
    o.edits.iter().map(|e| e.code.as_str()).collect()
}

fn other(n: u8, status: Status, s: &Submission) -> OtherClaim {
    let checked = validate(s).unwrap();
    OtherClaim {
        id: claim_id(n),
        status,
        member_id: s.member_id.clone(),
        services: checked.lines.iter().filter_map(ServiceKey::of).collect(),
    }
}

#[test]
fn a_claim_covered_by_an_approved_auth_is_accepted() {
    let out = judge(&professional(), &[approved_mri(1)], &[]);
    assert_eq!(out, Outcome::of(vec![]));
    assert_eq!(out.status, Status::Accepted);
}

#[test]
fn a_code_off_the_pa_list_needs_no_auth() {
    let mut s = professional();
    s.lines[0].procedure = Some("99213".into());
    assert_eq!(judge(&s, &[], &[]).status, Status::Accepted);
}

#[test]
fn an_unknown_member_or_a_wrong_date_of_birth_is_rejected_alike() {
    let mut s = professional();
    s.dob = date("1984-03-16");
    let out = judge(&s, &[approved_mri(1)], &[]);
    assert_eq!(codes(&out), ["member_not_found"]);
    assert_eq!(out.status, Status::Rejected);
    let policy = pa::policy();
    let unknown = run(
        &claim_id(1),
        &validate(&professional()).unwrap(),
        &Facts {
            policy: &policy,
            received_at: ts("2026-12-05T18:00:00Z"),
            member: None,
            pcps: &[],
            auths: &[],
            others: &[],
            original: None,
        },
    );
    assert_eq!(unknown.edits, out.edits);
}

#[test]
fn each_date_of_service_must_be_covered() {
    let policy = pa::policy();
    let termed = member(Some("2026-11-30"));
    let pcps = pcps();
    let mut s = professional();
    s.lines[0].procedure = Some("99213".into());
    let mut covered = line("99213", 1, 10_000);
    covered.service_from = Some(date("2026-11-30"));
    s.lines.push(covered);
    s.total_charge_cents += 10_000;
    let out = run(
        &claim_id(1),
        &validate(&s).unwrap(),
        &Facts {
            policy: &policy,
            received_at: ts("2026-12-05T18:00:00Z"),
            member: Some(&termed),
            pcps: &pcps,
            auths: &[],
            others: &[],
            original: None,
        },
    );
    assert_eq!(codes(&out), ["member_not_eligible"]);
    assert_eq!(out.edits[0].line, Some(1));
    assert_eq!(
        out.edits[0].message,
        "Line 1: Coverage terminated on 2026-11-30."
    );
}

#[test]
fn timely_filing_counts_calendar_days_from_the_last_date_of_service() {
    let mut s = professional();
    s.lines[0].procedure = Some("99213".into());
    s.lines[0].service_from = Some(date("2025-11-25"));
    s.lines[0].service_to = Some(date("2025-12-05"));
    // 365 days after 5 December 2025 is 5 December 2026: received that day, in time.
    let on_time = judge_at(&s, &[], &[], None, "2026-12-06T07:59:59Z");
    assert_eq!(on_time.status, Status::Accepted, "{:?}", on_time.edits);
    // The next day in Los Angeles (08:00 UTC is midnight PST) is late.
    let late = judge_at(&s, &[], &[], None, "2026-12-06T08:00:00Z");
    assert_eq!(codes(&late), ["timely_filing"]);
    assert_eq!(
        late.edits[0].message,
        "Line 1: claims for services on 2025-12-05 had to reach Sunrise IPA within 365 days, by 2026-12-05; this one was received on 2026-12-06."
    );
}

#[test]
fn timely_filing_across_a_leap_day() {
    let mut s = professional();
    s.lines[0].procedure = Some("99213".into());
    s.lines[0].service_from = Some(date("2027-03-01"));
    // 365 days after 1 March 2027 is 29 February 2028.
    let last_day = judge_at(&s, &[], &[], None, "2028-02-29T20:00:00Z");
    assert!(!codes(&last_day).contains(&"timely_filing"));
    let late = judge_at(&s, &[], &[], None, "2028-03-01T20:00:00Z");
    assert!(late.edits[0].message.contains("by 2028-02-29"));
}

#[test]
fn services_are_billed_after_they_are_rendered() {
    let mut s = professional();
    s.lines[0].service_from = Some(date("2026-12-07"));
    let out = judge(&s, &[approved_mri(1)], &[]);
    assert_eq!(codes(&out), ["future_date_of_service"]);
}

#[test]
fn a_carved_out_service_is_billed_to_the_health_plan() {
    let mut s = professional();
    s.lines[0].procedure = Some("90837".into());
    let out = judge(&s, &[], &[]);
    assert_eq!(codes(&out), ["carved_out"]);
    assert_eq!(
        out.edits[0].message,
        "Line 1: 90837 is carved out (Specialty mental health services): Test Health Plan pays it, not Sunrise IPA. Bill Test Health Plan, 800-555-0110."
    );
    assert_eq!(out.edits[0].claim_status(), ("A3", "116", Some("PR")));
}

#[test]
fn a_code_on_the_pa_list_needs_an_auth_covering_it() {
    let out = judge(&professional(), &[], &[]);
    assert_eq!(codes(&out), ["prior_auth_missing"]);
    assert_eq!(
        out.edits[0].message,
        "Line 1: 72148 needs prior authorization from Sunrise IPA and no approved auth for this member covers it on 2026-12-03. Submit the auth first, or put its reference ID on the claim."
    );
    // Another code than the auth's.
    let mut s = professional();
    s.lines[0].procedure = Some("72149".into());
    s.prior_auth_id = Some("PA-7K3Q9M".into());
    let out = judge(&s, &[approved_mri(1)], &[]);
    assert!(
        out.edits[0]
            .message
            .contains("PA-7K3Q9M does not authorise it")
    );
    // Past the auth's validity (90 days from 20 November 2026).
    let mut s = professional();
    let auth = approved_mri(1);
    let after = auth
        .valid_to
        .unwrap()
        .checked_add(jiff::ToSpan::days(1))
        .unwrap();
    s.lines[0].service_from = Some(after);
    let out = judge_at(&s, &[auth], &[], None, "2027-03-30T18:00:00Z");
    assert_eq!(codes(&out), ["prior_auth_missing"]);
}

#[test]
fn an_auth_named_on_the_claim_must_be_the_members() {
    let mut auth = approved_mri(1);
    auth.request.member_id = MemberId::parse("SUN100002").unwrap();
    let out = judge(&professional(), &[auth], &[]);
    assert_eq!(codes(&out), ["prior_auth_missing"]);
}

#[test]
fn units_beyond_the_auth_are_pended_for_an_examiner() {
    let mut s = professional();
    s.lines[0].units = "2".into();
    let out = judge(&s, &[approved_mri(1)], &[]);
    assert_eq!(codes(&out), ["prior_auth_units_exceeded"]);
    assert_eq!(out.status, Status::Pended);
    assert_eq!(
        out.edits[0].message,
        "Line 1: 2 units billed; PA-7K3Q9M authorises 1 unit for 72148. A claims examiner reviews the units beyond the auth."
    );
}

#[test]
fn an_exact_duplicate_of_a_live_claim_is_rejected() {
    let first = professional();
    let auths = [approved_mri(1)];
    let live = other(2, Status::Accepted, &first);
    let out = judge(&first, &auths, std::slice::from_ref(&live));
    assert_eq!(codes(&out), ["duplicate"]);
    assert!(out.edits[0].message.contains(live.id.as_str()));
    assert_eq!(out.edits[0].claim_status(), ("A3", "78", None));
    // Modifiers in another order are the same service.
    let mut a = professional();
    a.lines[0].modifiers = vec!["26".into(), "RT".into()];
    let mut b = a.clone();
    b.lines[0].modifiers = vec!["RT".into(), "26".into()];
    let out = judge(&b, &auths, &[other(2, Status::Pended, &a)]);
    assert_eq!(codes(&out), ["duplicate"]);
    // A rejected or voided claim is no claim to duplicate, nor is the claim itself.
    for status in [Status::Rejected, Status::Voided, Status::Replaced] {
        let out = judge(&first, &auths, &[other(2, status, &first)]);
        assert_eq!(out.status, Status::Accepted);
    }
    let out = judge(&first, &auths, &[other(1, Status::Accepted, &first)]);
    assert_eq!(out.status, Status::Accepted);
}

#[test]
fn the_same_service_at_another_charge_is_a_suspect_duplicate() {
    let first = professional();
    let mut second = professional();
    second.lines[0].charge_cents = 99_000;
    second.total_charge_cents = 99_000;
    let out = judge(
        &second,
        &[approved_mri(1)],
        &[other(2, Status::Accepted, &first)],
    );
    assert_eq!(codes(&out), ["suspect_duplicate"]);
    assert_eq!(out.status, Status::Pended);
    // Another rendering provider is another service.
    second.rendering_npi = Some(PCP.into());
    let out = judge(
        &second,
        &[approved_mri(1)],
        &[other(2, Status::Accepted, &first)],
    );
    assert_eq!(out.status, Status::Accepted);
}

fn replacement(frequency: Frequency) -> Submission {
    let mut s = professional();
    s.frequency = frequency;
    s.original_claim_id = Some(claim_id(2).to_string());
    s
}

#[test]
fn a_replacement_takes_the_place_of_a_live_claim() {
    let original = other(2, Status::Accepted, &professional());
    let s = replacement(Frequency::Replacement);
    // The original bills the same service: not a duplicate of the claim it replaces.
    let out = judge_at(
        &s,
        &[approved_mri(1)],
        std::slice::from_ref(&original),
        Some(&original),
        "2026-12-05T18:00:00Z",
    );
    assert_eq!(out.status, Status::Accepted, "{:?}", out.edits);
}

#[test]
fn a_replacement_or_void_of_an_unknown_or_dead_claim_is_rejected() {
    let auths = [approved_mri(1)];
    for (status, code) in [
        (Status::Voided, "original_claim_voided"),
        (Status::Replaced, "original_claim_replaced"),
        (Status::Rejected, "original_claim_rejected"),
    ] {
        for f in [Frequency::Replacement, Frequency::Void] {
            let original = other(2, status, &professional());
            let out = judge_at(
                &replacement(f),
                &auths,
                &[],
                Some(&original),
                "2026-12-05T18:00:00Z",
            );
            assert_eq!(codes(&out), [code], "{status:?} {f:?}");
        }
    }
    let out = judge_at(
        &replacement(Frequency::Void),
        &auths,
        &[],
        None,
        "2026-12-05T18:00:00Z",
    );
    assert_eq!(codes(&out), ["original_claim_unknown"]);
    assert!(out.edits[0].message.ends_with("nothing to void."));
    let mut theirs = other(2, Status::Accepted, &professional());
    theirs.member_id = "SUN100002".into();
    let out = judge_at(
        &replacement(Frequency::Replacement),
        &auths,
        &[],
        Some(&theirs),
        "2026-12-05T18:00:00Z",
    );
    assert_eq!(codes(&out), ["original_claim_mismatch"]);
}

#[test]
fn a_void_is_not_edited_as_a_new_service() {
    let original = other(2, Status::Accepted, &professional());
    // No auth on file and the same service as a live claim: a void still goes through.
    let out = judge_at(
        &replacement(Frequency::Void),
        &[],
        std::slice::from_ref(&original),
        Some(&original),
        "2026-12-05T18:00:00Z",
    );
    assert_eq!(out.status, Status::Accepted, "{:?}", out.edits);
}

#[test]
fn field_problems_become_code_validity_edits() {
    let mut s = professional();
    s.billing_npi = "1234567890".into();
    s.lines[0].procedure = Some("7214".into());
    s.lines[0].modifiers = vec!["!".into()];
    s.place_of_service = Some("1".into());
    s.diagnoses = vec!["X".into()];
    let edits: Vec<Edit> = validate(&s)
        .unwrap_err()
        .iter()
        .map(Edit::invalid)
        .collect();
    let found: Vec<(&str, Option<u32>)> = edits.iter().map(|e| (e.code.as_str(), e.line)).collect();
    assert_eq!(
        found,
        [
            ("invalid_npi", None),
            ("invalid_place_of_service", None),
            ("invalid_diagnosis", None),
            ("invalid_procedure", Some(1)),
            ("invalid_modifier", Some(1)),
        ]
    );
    assert!(edits[3].message.starts_with("Line 1, code: "));
    assert_eq!(edits[0].claim_status(), ("A7", "562", Some("85")));
    assert!(edits.iter().all(|e| e.severity == Severity::Reject));
    assert_eq!(Outcome::of(edits).status, Status::Rejected);
}

#[test]
fn service_keys_ignore_modifier_order_and_fingerprint_the_member() {
    let mut s = professional();
    s.lines[0].modifiers = vec!["RT".into(), "26".into()];
    let checked = validate(&s).unwrap();
    let key = ServiceKey::of(&checked.lines[0]).unwrap();
    assert_eq!(key.modifiers, ["26", "RT"]);
    assert_eq!(
        key.fingerprint(&checked.member_id),
        "SUN100001|1234567893|2026-12-03|72148|26 RT|125000"
    );
    assert_eq!(
        ProcedureCode::parse(&key.procedure).unwrap().as_str(),
        "72148"
    );
}
