//! What the IPA's policy answers for each requested line, at once.
//!
//! In this order (the first that applies wins):
//! 1. **Carve-out** of the member's plan that the health plan authorises:
//!    `health_plan_authorizes`, naming the plan and its phone. A carved-out
//!    service is the plan's whether or not the IPA's list names it.
//! 2. **No-auth service** the policy lists (emergency, family planning, visits to
//!    the assigned PCP, ...): `not_required`, saying which.
//! 3. **Not on the PA-required list** (and not a specialty-consult visit or an
//!    inpatient kind, which always need one): `not_required` with CalOptima's
//!    "do not submit" advice.
//! 4. **Criteria rule** that holds: `criteria_met`, approved at once.
//! 5. Otherwise `review_required`: the auth is pended for UM.

use crate::codes::{CodeRange, Icd10, ProcedureCode};
use crate::ids::Npi;
use crate::policy::{CriteriaRule, NoAuthService, Party, PlanPolicy, Policy};
use crate::provider::Provider;

use super::{AuthLine, Category, Disposition, Request, RequestedLine, Status};

/// What the rules need to know besides the request.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub policy: &'a Policy,
    /// The member's plan on the first date of service (the member is eligible).
    pub plan: &'a PlanPolicy,
    /// The member's assigned PCP on the first date of service.
    pub assigned_pcp: Option<Npi>,
    /// The servicing provider as the directory knows them; `None` when unknown
    /// (and so not in network).
    pub servicing: Option<&'a Provider>,
    /// The member's age in whole years on the first date of service.
    pub member_age: u32,
}

/// The answer for one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineOutcome {
    pub disposition: Disposition,
    pub reason: String,
    pub authorized_units: u32,
    pub criteria_id: Option<String>,
    pub needs_auth: bool,
}

/// The answer for every line of `request`, as the auth's lines.
pub fn dispose_all(request: &Request, ctx: &Context<'_>) -> Vec<AuthLine> {
    request
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let o = dispose(request, line, ctx);
            AuthLine {
                line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                code: line.code,
                modifiers: line.modifiers.clone(),
                requested_units: line.units,
                authorized_units: o.authorized_units,
                disposition: o.disposition,
                reason: o.reason,
                criteria_id: o.criteria_id,
                needs_auth: o.needs_auth,
            }
        })
        .collect()
}

/// The status an auth starts in: pended when any line needs review, approved
/// when every line that needs an auth met criteria, not required otherwise.
pub fn initial_status(lines: &[AuthLine]) -> Status {
    if lines
        .iter()
        .any(|l| l.disposition == Disposition::ReviewRequired)
    {
        Status::Pended
    } else if lines
        .iter()
        .any(|l| l.disposition == Disposition::CriteriaMet)
    {
        Status::Approved
    } else {
        Status::NotRequired
    }
}

pub fn dispose(request: &Request, line: &RequestedLine, ctx: &Context<'_>) -> LineOutcome {
    let code = line.code;
    if let Some(outcome) = carved_out(code, ctx) {
        return outcome;
    }
    let pa = &ctx.policy.prior_auth;
    if let Some(service) = pa
        .no_auth_services
        .iter()
        .copied()
        .find(|s| no_auth_applies(*s, request, line, ctx))
    {
        return not_required(format!(
            "{} never needs prior authorization ({}): do not submit it.",
            no_auth_label(service),
            code
        ));
    }
    let always = always_reviewed(request.category, code, ctx);
    if !always && !pa.requires_auth(code) {
        return not_required(format!(
            "{code} is not on {}'s prior-authorization list: no authorization is needed; do not submit it.",
            ctx.policy.ipa.name
        ));
    }
    if request.category.is_admission_notice() || request.category == Category::InpatientAdmission {
        return review(
            format!(
                "{} requests are always reviewed by the IPA's UM nurse.",
                category_label(request.category)
            ),
            ctx,
        );
    }
    let applicable: Vec<&CriteriaRule> = pa
        .criteria
        .iter()
        .filter(|r| r.codes.iter().any(|c| c.contains(code)))
        .filter(|r| criteria_hold(r, request, ctx))
        .collect();
    if let Some(rule) = applicable.iter().find(|r| line.units <= r.max_units) {
        return LineOutcome {
            disposition: Disposition::CriteriaMet,
            reason: format!(
                "Criteria met: {} ({}). Approved for {} unit{}.",
                rule.title,
                rule.id,
                line.units,
                if line.units == 1 { "" } else { "s" }
            ),
            authorized_units: line.units,
            criteria_id: Some(rule.id.clone()),
            needs_auth: true,
        };
    }
    let why = match applicable.first() {
        Some(rule) => format!(
            "Review required: the criteria \"{}\" allow at most {} unit{}, {} were requested.",
            rule.title,
            rule.max_units,
            if rule.max_units == 1 { "" } else { "s" },
            line.units
        ),
        None => format!(
            "Review required: no automatic criteria apply to {code} with the diagnoses, place of service and provider given."
        ),
    };
    review(why, ctx)
}

fn not_required(reason: String) -> LineOutcome {
    LineOutcome {
        disposition: Disposition::NotRequired,
        reason,
        authorized_units: 0,
        criteria_id: None,
        needs_auth: false,
    }
}

fn review(why: String, ctx: &Context<'_>) -> LineOutcome {
    let pa = &ctx.policy.prior_auth;
    LineOutcome {
        disposition: Disposition::ReviewRequired,
        reason: format!(
            "{why} Send clinical notes within {} business day{} (upload them to this request, or fax {}).",
            pa.clinical_documents_due_working_days,
            if pa.clinical_documents_due_working_days == 1 {
                ""
            } else {
                "s"
            },
            ctx.policy.contacts.um_fax
        ),
        authorized_units: 0,
        criteria_id: None,
        needs_auth: true,
    }
}

/// A carve-out of the member's plan that covers `code` and that the health plan
/// authorises (a carve-out the IPA still authorises, such as inpatient facility
/// charges, goes through the IPA's own rules).
fn carved_out(code: ProcedureCode, ctx: &Context<'_>) -> Option<LineOutcome> {
    let carve_out = ctx.plan.carve_outs.iter().find(|c| {
        c.authorizes == Party::HealthPlan && c.codes.iter().any(|r: &CodeRange| r.contains(code))
    })?;
    let who = carve_out
        .administered_by
        .as_deref()
        .map(|vendor| format!("{vendor} for {}", ctx.plan.health_plan))
        .unwrap_or_else(|| ctx.plan.health_plan.clone());
    let call = carve_out
        .phone
        .as_deref()
        .map(|p| format!(": call {p}"))
        .unwrap_or_default();
    Some(LineOutcome {
        disposition: Disposition::HealthPlanAuthorizes,
        reason: format!(
            "{} is carved out of the IPA's delegation: {who} authorizes {code}{call}. Do not submit it to {}.",
            carve_out.description, ctx.policy.ipa.name
        ),
        authorized_units: 0,
        criteria_id: None,
        needs_auth: false,
    })
}

/// Lines the IPA authorises whether or not the list names the code: specialty
/// consult visits (every seed requires those), inpatient kinds and standing
/// referrals.
fn always_reviewed(category: Category, code: ProcedureCode, ctx: &Context<'_>) -> bool {
    match category {
        Category::SpecialtyConsult => {
            is_visit(code)
                || ctx
                    .policy
                    .prior_auth
                    .specialty_consult
                    .own_auth_codes
                    .contains(&code)
        }
        Category::InpatientAdmission
        | Category::InpatientNotification
        | Category::PostStabilization
        | Category::StandingReferral => true,
        _ => false,
    }
}

fn criteria_hold(rule: &CriteriaRule, request: &Request, ctx: &Context<'_>) -> bool {
    let diagnosis = rule.diagnoses.is_empty()
        || request
            .diagnoses
            .iter()
            .any(|d| rule.diagnoses.iter().any(|r| r.contains(d)));
    let place = rule.places_of_service.is_empty()
        || rule.places_of_service.contains(&request.place_of_service);
    let network = !rule.servicing_in_network || ctx.servicing.is_some_and(Provider::is_in_network);
    diagnosis && place && network
}

fn code_in(code: ProcedureCode, ranges: &[(&str, &str)]) -> bool {
    let c = code.as_str();
    ranges.iter().any(|(first, last)| *first <= c && c <= *last)
}

fn any_diagnosis(request: &Request, prefixes: &[&str]) -> bool {
    request
        .diagnoses
        .iter()
        .map(Icd10::as_str)
        .any(|d| prefixes.iter().any(|p| d.starts_with(p)))
}

/// Office and outpatient visits (new and established) and office consultations.
fn is_visit(code: ProcedureCode) -> bool {
    code_in(code, &[("99202", "99215"), ("99241", "99245")])
}

/// Preventive medicine visits and counselling, and Medicare annual wellness visits.
fn is_preventive(code: ProcedureCode) -> bool {
    code_in(code, &[("99381", "99397"), ("99401", "99404")])
        || matches!(code.as_str(), "G0438" | "G0439")
}

const SENSITIVE_DIAGNOSES: &[&str] = &["Z32.0", "T74.2", "T76.2", "Z04.4"];
const STD_DIAGNOSES: &[&str] = &[
    "A50", "A51", "A52", "A53", "A54", "A55", "A56", "A57", "A58", "A59", "A60", "A63", "A64",
    "Z11.3", "Z20.2",
];
const FAMILY_PLANNING_DIAGNOSES: &[&str] = &["Z30"];

/// The service definitions behind the policy's no-auth list. They follow the
/// usual code sets (CalOptima's list, Medi-Cal's sensitive services); an IPA
/// switches a service off by leaving it out of `no_auth_services`.
fn no_auth_applies(
    service: NoAuthService,
    request: &Request,
    line: &RequestedLine,
    ctx: &Context<'_>,
) -> bool {
    let code = line.code;
    match service {
        NoAuthService::Emergency => {
            request.place_of_service.code() == 23 || code_in(code, &[("99281", "99285")])
        }
        NoAuthService::FamilyPlanning => any_diagnosis(request, FAMILY_PLANNING_DIAGNOSES),
        NoAuthService::SensitiveServices => any_diagnosis(request, SENSITIVE_DIAGNOSES),
        NoAuthService::StdServices => any_diagnosis(request, STD_DIAGNOSES),
        NoAuthService::HivTesting => {
            code_in(
                code,
                &[
                    ("86701", "86703"),
                    ("87389", "87391"),
                    ("87534", "87539"),
                    ("87806", "87806"),
                ],
            ) || any_diagnosis(request, &["Z11.4", "Z20.6"])
        }
        NoAuthService::BasicPrenatalCare => {
            (is_visit(code) || is_preventive(code)) && any_diagnosis(request, &["Z34", "O09"])
        }
        NoAuthService::RoutineObstetric => code_in(code, &[("59400", "59430")]),
        NoAuthService::PediatricPreventive => ctx.member_age < 21 && is_preventive(code),
        NoAuthService::MinorConsent => {
            (12..18).contains(&ctx.member_age)
                && any_diagnosis(
                    request,
                    &[
                        SENSITIVE_DIAGNOSES,
                        STD_DIAGNOSES,
                        FAMILY_PLANNING_DIAGNOSES,
                    ]
                    .concat(),
                )
        }
        NoAuthService::PrimaryAndPreventiveCare => is_preventive(code),
        NoAuthService::ObgynSelfReferral => {
            is_visit(code)
                && ctx.servicing.is_some_and(|p| {
                    let s = p.specialty.to_ascii_lowercase();
                    s.contains("obstetric") || s.contains("gynec")
                })
        }
        NoAuthService::AssignedPcpVisits => {
            (is_visit(code) || is_preventive(code))
                && ctx.assigned_pcp == Some(request.servicing_npi)
        }
    }
}

fn no_auth_label(service: NoAuthService) -> &'static str {
    match service {
        NoAuthService::Emergency => "Emergency care",
        NoAuthService::FamilyPlanning => "Family planning",
        NoAuthService::SensitiveServices => "A sensitive service",
        NoAuthService::StdServices => "Care for sexually transmitted disease",
        NoAuthService::HivTesting => "HIV testing",
        NoAuthService::BasicPrenatalCare => "Basic prenatal care",
        NoAuthService::RoutineObstetric => "Routine obstetric care",
        NoAuthService::PediatricPreventive => "Pediatric preventive care",
        NoAuthService::MinorConsent => "A minor-consent service",
        NoAuthService::PrimaryAndPreventiveCare => "Primary and preventive care",
        NoAuthService::ObgynSelfReferral => "An OB/GYN self-referral visit",
        NoAuthService::AssignedPcpVisits => "A visit to the member's assigned PCP",
    }
}

fn category_label(category: Category) -> &'static str {
    match category {
        Category::InpatientAdmission => "Inpatient admission",
        Category::InpatientNotification => "Inpatient notification",
        Category::PostStabilization => "Post-stabilization",
        _ => "These",
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::codes::PlaceOfService;
    use crate::ids::OrgId;
    use crate::provider::Network;

    fn provider(specialty: &str, network: Network) -> Provider {
        Provider {
            npi: Npi::parse("1003000126").unwrap(),
            name: "Dr Test".into(),
            org_id: OrgId::parse("valley-imaging").unwrap(),
            specialty: specialty.into(),
            network,
        }
    }

    fn outcome(request: &Request, servicing: Option<&Provider>, age: u32) -> Vec<AuthLine> {
        let policy = policy();
        let ctx = Context {
            policy: &policy,
            plan: &policy.plans[0],
            assigned_pcp: Npi::parse("1234567893").ok(),
            servicing,
            member_age: age,
        };
        dispose_all(request, &ctx)
    }

    fn first(request: &Request, servicing: Option<&Provider>) -> AuthLine {
        outcome(request, servicing, 42).remove(0)
    }

    #[test]
    fn criteria_met_approves_at_once_with_the_requested_units() {
        let radiology = provider("Radiology", Network::In);
        let line = first(&mri_request(), Some(&radiology));
        assert_eq!(line.disposition, Disposition::CriteriaMet);
        assert_eq!(line.authorized_units, 1);
        assert_eq!(
            line.criteria_id.as_deref(),
            Some("mri-lumbar-radiculopathy")
        );
        assert_eq!(
            line.reason,
            "Criteria met: MRI lumbar spine for radiculopathy (mri-lumbar-radiculopathy). Approved for 1 unit."
        );
        assert_eq!(initial_status(&[line]), Status::Approved);
    }

    #[test]
    fn criteria_that_do_not_hold_send_the_line_to_review() {
        let radiology = provider("Radiology", Network::In);
        // Another diagnosis.
        let mut r = mri_request();
        r.diagnoses = vec![Icd10::parse("M54.5").unwrap()];
        let line = first(&r, Some(&radiology));
        assert_eq!(line.disposition, Disposition::ReviewRequired);
        assert!(
            line.reason
                .starts_with("Review required: no automatic criteria apply to 72148"),
            "{}",
            line.reason
        );
        assert!(line.reason.contains("fax 855-555-0101"), "{}", line.reason);
        // Out of network.
        let out = provider("Radiology", Network::Out);
        assert_eq!(
            first(&mri_request(), Some(&out)).disposition,
            Disposition::ReviewRequired
        );
        assert_eq!(
            first(&mri_request(), None).disposition,
            Disposition::ReviewRequired
        );
        // Another place of service.
        let mut r = mri_request();
        r.place_of_service = PlaceOfService::parse("21").unwrap();
        assert_eq!(
            first(&r, Some(&radiology)).disposition,
            Disposition::ReviewRequired
        );
        // More units than the rule allows: reviewed, never cut automatically.
        let mut r = mri_request();
        r.lines[0].units = 2;
        let line = first(&r, Some(&radiology));
        assert_eq!(line.disposition, Disposition::ReviewRequired);
        assert_eq!(line.authorized_units, 0);
        assert!(
            line.reason
                .contains("allow at most 1 unit, 2 were requested"),
            "{}",
            line.reason
        );
        assert_eq!(initial_status(&[line]), Status::Pended);
    }

    #[test]
    fn codes_off_the_list_are_not_required_and_not_to_be_submitted() {
        let mut r = mri_request();
        r.lines = vec![line("71046", 1)];
        let line = first(&r, None);
        assert_eq!(line.disposition, Disposition::NotRequired);
        assert!(!line.needs_auth);
        assert_eq!(
            line.reason,
            "71046 is not on Sunrise IPA's prior-authorization list: no authorization is needed; do not submit it."
        );
        assert_eq!(initial_status(&[line]), Status::NotRequired);
    }

    #[test]
    fn carve_outs_come_first_and_name_who_authorizes() {
        // 90837 is both on the IPA's list and carved out: the plan authorizes it.
        let mut r = mri_request();
        r.lines = vec![line("90837", 4)];
        let line = first(&r, None);
        assert_eq!(line.disposition, Disposition::HealthPlanAuthorizes);
        assert_eq!(
            line.reason,
            "Specialty mental health services is carved out of the IPA's delegation: Test Health Plan authorizes 90837: call 800-555-0110. Do not submit it to Sunrise IPA."
        );
        assert_eq!(initial_status(&[line]), Status::NotRequired);
    }

    #[test]
    fn no_auth_services_are_recognised() {
        let obgyn = provider("Obstetrics and Gynecology", Network::In);
        let mut r = mri_request();
        // Emergency: an MRI done in the ER.
        r.place_of_service = PlaceOfService::EMERGENCY_ROOM;
        let l = first(&r, None);
        assert_eq!(l.disposition, Disposition::NotRequired);
        assert!(
            l.reason
                .starts_with("Emergency care never needs prior authorization"),
            "{}",
            l.reason
        );
        // OB/GYN self-referral visit.
        let mut r = mri_request();
        r.category = Category::SpecialtyConsult;
        r.lines = vec![line("99203", 1)];
        assert!(
            first(&r, Some(&obgyn))
                .reason
                .starts_with("An OB/GYN self-referral visit")
        );
        // Visit to the assigned PCP.
        let mut r = mri_request();
        r.servicing_npi = Npi::parse("1234567893").unwrap();
        r.lines = vec![line("99214", 1)];
        r.category = Category::Other;
        assert!(
            first(&r, None)
                .reason
                .starts_with("A visit to the member's assigned PCP")
        );
        // Family planning by diagnosis.
        let mut r = mri_request();
        r.diagnoses = vec![Icd10::parse("Z30.011").unwrap()];
        r.lines = vec![line("J7307", 1)];
        assert!(first(&r, None).reason.starts_with("Family planning"));
        // Pediatric preventive only for children.
        let mut r = mri_request();
        r.lines = vec![line("99392", 1)];
        r.category = Category::Other;
        let child = outcome(&r, None, 3).remove(0);
        assert!(
            child.reason.starts_with("Pediatric preventive care"),
            "{}",
            child.reason
        );
        let adult = outcome(&r, None, 40).remove(0);
        assert!(
            adult.reason.starts_with("Primary and preventive care"),
            "{}",
            adult.reason
        );
    }

    #[test]
    fn an_ipa_can_switch_a_no_auth_service_off() {
        let mut policy = policy();
        policy
            .prior_auth
            .no_auth_services
            .retain(|s| *s != NoAuthService::Emergency);
        let mut r = mri_request();
        r.place_of_service = PlaceOfService::EMERGENCY_ROOM;
        let ctx = Context {
            policy: &policy,
            plan: &policy.plans[0],
            assigned_pcp: None,
            servicing: None,
            member_age: 40,
        };
        assert_eq!(
            dispose(&r, &r.lines[0], &ctx).disposition,
            Disposition::ReviewRequired
        );
    }

    #[test]
    fn specialty_consults_and_inpatient_kinds_always_need_an_auth() {
        let cardiology = provider("Cardiology", Network::In);
        let mut r = mri_request();
        r.category = Category::SpecialtyConsult;
        r.lines = vec![line("99204", 1), line("99215", 1)];
        let lines = outcome(&r, Some(&cardiology), 50);
        assert!(
            lines
                .iter()
                .all(|l| l.disposition == Disposition::ReviewRequired && l.needs_auth)
        );

        let mut r = mri_request();
        r.category = Category::InpatientAdmission;
        r.setting = crate::prior_auth::Setting::Inpatient;
        r.lines = vec![line("72148", 1)];
        let l = first(&r, Some(&provider("Radiology", Network::In)));
        assert_eq!(
            l.disposition,
            Disposition::ReviewRequired,
            "criteria never approve an admission"
        );
        assert!(
            l.reason
                .starts_with("Inpatient admission requests are always reviewed")
        );
    }

    #[test]
    fn mixed_lines_pend_the_whole_auth() {
        let radiology = provider("Radiology", Network::In);
        let mut r = mri_request();
        r.lines = vec![line("72148", 1), line("71046", 1), line("97110", 12)];
        let lines = outcome(&r, Some(&radiology), 40);
        let d: Vec<_> = lines.iter().map(|l| l.disposition).collect();
        assert_eq!(
            d,
            [
                Disposition::CriteriaMet,
                Disposition::NotRequired,
                Disposition::ReviewRequired
            ]
        );
        assert_eq!(lines.iter().map(|l| l.line).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(initial_status(&lines), Status::Pended);
    }
}
