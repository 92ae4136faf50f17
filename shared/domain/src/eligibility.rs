//! Is a member eligible with this IPA on a date of service, and who is responsible?
//!
//! Eligibility is judged on the date of service (every seed says so). A member is
//! eligible with the IPA when a coverage span covers that date, the span's plan is
//! one the IPA is delegated for, and the assigned PCP is in the IPA's network (that
//! assignment is what puts a member with the IPA).

use jiff::civil::Date;

use crate::ids::Npi;
use crate::member::{CoverageSpan, Member};
use crate::policy::{CarveOut, Party, PlanPolicy, Policy};
use crate::provider::Provider;

/// The answer for one member on one date of service.
#[derive(Debug, PartialEq)]
pub struct Determination<'a> {
    /// The span that covers the date of service, if any.
    pub coverage: Option<Coverage<'a>>,
    /// Empty when eligible.
    pub reasons: Vec<Reason>,
    pub rendering_provider: Option<RenderingProvider>,
}

impl Determination<'_> {
    pub fn is_eligible(&self) -> bool {
        self.coverage.is_some() && self.reasons.is_empty()
    }

    /// The answer for an unknown member, and for a known member whose date of birth
    /// does not match: the two must be indistinguishable.
    pub fn member_not_found() -> Determination<'static> {
        Determination {
            coverage: None,
            reasons: vec![Reason::MemberNotFound],
            rendering_provider: None,
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct Coverage<'a> {
    pub span: &'a CoverageSpan,
    /// The plan as the IPA's policy knows it; `None` when the IPA is not delegated for it.
    pub plan: Option<&'a PlanPolicy>,
    /// The assigned PCP as the provider directory knows them.
    pub pcp: Option<&'a Provider>,
    /// Who pays and who authorises; present when the member is with this IPA.
    pub delegation: Option<Delegation<'a>>,
}

#[derive(Debug, PartialEq)]
pub struct Delegation<'a> {
    /// For services not carved out: the IPA.
    pub financially_responsible: Entity<'a>,
    pub authorizes: Entity<'a>,
    pub carve_outs: Vec<CarvedOutService<'a>>,
}

#[derive(Debug, PartialEq)]
pub struct CarvedOutService<'a> {
    pub carve_out: &'a CarveOut,
    pub financially_responsible: Entity<'a>,
    pub authorizes: Entity<'a>,
}

/// A named party: the IPA or the member's health plan.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Entity<'a> {
    pub party: Party,
    pub name: &'a str,
}

/// What a provider asked about: is the rendering provider in network, and are they
/// the member's PCP (visits to the assigned PCP need no authorisation)?
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct RenderingProvider {
    pub npi: Npi,
    pub in_network: bool,
    pub is_assigned_pcp: bool,
}

/// Why a member is not eligible, in words a front-desk user understands.
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum Reason {
    MemberNotFound,
    NoCoverageOnFile,
    NotYetEffective { starts: Date },
    Terminated { ended: Date },
    CoverageGap { ended: Date, resumes: Date },
    PlanNotDelegated,
    NoPcpAssigned,
    PcpNotInNetwork,
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::MemberNotFound => "member_not_found",
            Reason::NoCoverageOnFile => "no_coverage_on_file",
            Reason::NotYetEffective { .. } => "not_yet_effective",
            Reason::Terminated { .. } => "terminated",
            Reason::CoverageGap { .. } => "coverage_gap",
            Reason::PlanNotDelegated | Reason::NoPcpAssigned | Reason::PcpNotInNetwork => {
                "not_assigned_to_ipa"
            }
        }
    }

    /// A plain-language sentence. It may name dates and the IPA, never the member.
    pub fn message(&self, date_of_service: Date, ipa_name: &str) -> String {
        match self {
            Reason::MemberNotFound => "No member matches this member ID and date of birth.".into(),
            Reason::NoCoverageOnFile => "The member has no coverage on file.".into(),
            Reason::NotYetEffective { starts } => {
                format!("No coverage on {date_of_service}: coverage starts on {starts}.")
            }
            Reason::Terminated { ended } => format!("Coverage terminated on {ended}."),
            Reason::CoverageGap { ended, resumes } => {
                format!(
                    "No coverage on {date_of_service}: coverage ended on {ended} and resumes on {resumes}."
                )
            }
            Reason::PlanNotDelegated => {
                format!(
                    "Not assigned to {ipa_name} on {date_of_service}: the member's plan is not delegated to this IPA."
                )
            }
            Reason::NoPcpAssigned => {
                format!(
                    "Not assigned to {ipa_name} on {date_of_service}: no primary care physician is assigned."
                )
            }
            Reason::PcpNotInNetwork => format!(
                "Not assigned to {ipa_name} on {date_of_service}: the assigned primary care physician is not in this IPA's network."
            ),
        }
    }
}

impl Member {
    /// The span covering `d`. Where rosters overlap, the most recently started wins.
    pub fn span_on(&self, d: Date) -> Option<&CoverageSpan> {
        self.spans
            .iter()
            .filter(|s| s.covers(d))
            .max_by_key(|s| s.start)
    }
}

/// Judges eligibility. `pcp` is the directory entry of the covering span's PCP (look
/// it up with [`Member::span_on`] first); `rendering` the provider asked about, if any.
pub fn determine<'a>(
    member: &'a Member,
    date_of_service: Date,
    policy: &'a Policy,
    pcp: Option<&'a Provider>,
    rendering: Option<&'a Provider>,
) -> Determination<'a> {
    let Some(span) = member.span_on(date_of_service) else {
        return Determination {
            coverage: None,
            reasons: vec![uncovered_reason(member, date_of_service)],
            rendering_provider: None,
        };
    };
    let pcp = pcp.filter(|p| Some(p.npi) == span.pcp_npi);
    let plan = policy.plan(&span.plan_id);
    let reason = match (plan, span.pcp_npi, pcp) {
        (None, _, _) => Some(Reason::PlanNotDelegated),
        (Some(_), None, _) => Some(Reason::NoPcpAssigned),
        (Some(_), Some(_), found) if !found.is_some_and(Provider::is_in_network) => {
            Some(Reason::PcpNotInNetwork)
        }
        _ => None,
    };
    let delegation = match (&reason, plan) {
        (None, Some(plan)) => Some(delegation(plan, policy)),
        _ => None,
    };
    let rendering_provider = rendering.map(|r| RenderingProvider {
        npi: r.npi,
        in_network: r.is_in_network(),
        is_assigned_pcp: span.pcp_npi == Some(r.npi),
    });
    Determination {
        coverage: Some(Coverage {
            span,
            plan,
            pcp,
            delegation,
        }),
        reasons: reason.into_iter().collect(),
        rendering_provider,
    }
}

fn uncovered_reason(member: &Member, d: Date) -> Reason {
    let ended_before = member
        .spans
        .iter()
        .filter_map(|s| s.end)
        .filter(|end| *end < d)
        .max();
    let starts_after = member
        .spans
        .iter()
        .map(|s| s.start)
        .filter(|start| *start > d)
        .min();
    match (ended_before, starts_after) {
        (_, None) if member.spans.is_empty() => Reason::NoCoverageOnFile,
        (Some(ended), Some(resumes)) => Reason::CoverageGap { ended, resumes },
        (None, Some(starts)) => Reason::NotYetEffective { starts },
        (Some(ended), None) => Reason::Terminated { ended },
        (None, None) => Reason::NoCoverageOnFile,
    }
}

fn delegation<'a>(plan: &'a PlanPolicy, policy: &'a Policy) -> Delegation<'a> {
    let entity = |party| Entity {
        party,
        name: match party {
            Party::Ipa => policy.ipa.name.as_str(),
            Party::HealthPlan => plan.health_plan.as_str(),
        },
    };
    Delegation {
        financially_responsible: entity(Party::Ipa),
        authorizes: entity(Party::Ipa),
        carve_outs: plan
            .carve_outs
            .iter()
            .map(|c| CarvedOutService {
                carve_out: c,
                financially_responsible: entity(c.financially_responsible),
                authorizes: entity(c.authorizes),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{MemberId, OrgId, PlanId};
    use crate::member::{LineOfBusiness, Sex};
    use crate::provider::Network;

    const POLICY: &str = r#"
[ipa]
id = "sunrise"
name = "Sunrise IPA"
timezone = "America/Los_Angeles"
[contacts]
um_phone = "1"
um_fax = "2"
claims_email = "c@example.test"
dispute_mailing_address = "PO Box 1"
expedited_appeal_fax = "3"
[[plans]]
id = "MCAL-1"
name = "Test Medi-Cal"
health_plan = "Test Health Plan"
line_of_business = "medi_cal"
[[plans.carve_outs]]
service = "behavioral_health"
description = "Outpatient mental health"
codes = ["90791-90899"]
financially_responsible = "health_plan"
authorizes = "health_plan"
"#;

    const PCP: &str = "1234567893";
    const OTHER: &str = "1245319599";

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn policy() -> Policy {
        Policy::from_toml(POLICY, "test").unwrap()
    }

    fn span(plan: &str, start: &str, end: Option<&str>, pcp: Option<&str>) -> CoverageSpan {
        CoverageSpan {
            plan_id: PlanId::parse(plan).unwrap(),
            line_of_business: LineOfBusiness::MediCal,
            start: d(start),
            end: end.map(d),
            pcp_npi: pcp.map(|n| Npi::parse(n).unwrap()),
        }
    }

    fn member(spans: Vec<CoverageSpan>) -> Member {
        Member {
            member_id: MemberId::parse("M100").unwrap(),
            first_name: "Ana".into(),
            last_name: "Lopez".into(),
            dob: d("1980-01-02"),
            sex: Sex::Female,
            spans,
        }
    }

    fn provider(npi: &str, network: Network) -> Provider {
        Provider {
            npi: Npi::parse(npi).unwrap(),
            name: "Dr Who".into(),
            org_id: OrgId::parse("sunrise-fm").unwrap(),
            specialty: "Family Medicine".into(),
            network,
        }
    }

    #[test]
    fn active_member_is_eligible_with_ipa_delegation_and_carve_outs() {
        let (p, pcp) = (policy(), provider(PCP, Network::In));
        let m = member(vec![span("MCAL-1", "2025-01-01", None, Some(PCP))]);
        let det = determine(&m, d("2026-03-01"), &p, Some(&pcp), None);
        assert!(det.is_eligible());
        let cov = det.coverage.unwrap();
        assert_eq!(cov.pcp.unwrap().npi.as_str(), PCP);
        let del = cov.delegation.unwrap();
        assert_eq!(
            del.financially_responsible,
            Entity {
                party: Party::Ipa,
                name: "Sunrise IPA"
            }
        );
        assert_eq!(
            del.carve_outs[0].authorizes,
            Entity {
                party: Party::HealthPlan,
                name: "Test Health Plan"
            }
        );
    }

    #[test]
    fn span_boundaries_are_inclusive() {
        let (p, pcp) = (policy(), provider(PCP, Network::In));
        let m = member(vec![span(
            "MCAL-1",
            "2026-01-01",
            Some("2026-06-30"),
            Some(PCP),
        )]);
        assert!(determine(&m, d("2026-01-01"), &p, Some(&pcp), None).is_eligible());
        assert!(determine(&m, d("2026-06-30"), &p, Some(&pcp), None).is_eligible());
        let after = determine(&m, d("2026-07-01"), &p, Some(&pcp), None);
        assert_eq!(
            after.reasons,
            [Reason::Terminated {
                ended: d("2026-06-30")
            }]
        );
        assert_eq!(
            after.reasons[0].message(d("2026-07-01"), "Sunrise IPA"),
            "Coverage terminated on 2026-06-30."
        );
    }

    #[test]
    fn future_start_and_gaps_are_explained() {
        let p = policy();
        let m = member(vec![
            span("MCAL-1", "2025-01-01", Some("2025-12-31"), Some(PCP)),
            span("MCAL-1", "2026-03-01", None, Some(PCP)),
        ]);
        let gap = determine(&m, d("2026-02-01"), &p, None, None);
        assert_eq!(
            gap.reasons,
            [Reason::CoverageGap {
                ended: d("2025-12-31"),
                resumes: d("2026-03-01")
            }]
        );
        assert_eq!(gap.reasons[0].code(), "coverage_gap");
        let early = determine(&m, d("2024-06-01"), &p, None, None);
        assert_eq!(
            early.reasons,
            [Reason::NotYetEffective {
                starts: d("2025-01-01")
            }]
        );
        assert_eq!(
            determine(&member(vec![]), d("2026-01-01"), &p, None, None).reasons,
            [Reason::NoCoverageOnFile]
        );
    }

    #[test]
    fn members_outside_the_ipa_are_not_assigned() {
        let (p, pcp, out) = (
            policy(),
            provider(PCP, Network::In),
            provider(OTHER, Network::Out),
        );
        let other_plan = member(vec![span("COMM-9", "2025-01-01", None, Some(PCP))]);
        let det = determine(&other_plan, d("2026-01-01"), &p, Some(&pcp), None);
        assert_eq!(det.reasons, [Reason::PlanNotDelegated]);
        assert!(
            det.coverage
                .is_some_and(|c| c.plan.is_none() && c.delegation.is_none())
        );

        let no_pcp = member(vec![span("MCAL-1", "2025-01-01", None, None)]);
        assert_eq!(
            determine(&no_pcp, d("2026-01-01"), &p, None, None).reasons,
            [Reason::NoPcpAssigned]
        );

        let outside_pcp = member(vec![span("MCAL-1", "2025-01-01", None, Some(OTHER))]);
        let det = determine(&outside_pcp, d("2026-01-01"), &p, Some(&out), None);
        assert_eq!(det.reasons, [Reason::PcpNotInNetwork]);
        assert_eq!(det.reasons[0].code(), "not_assigned_to_ipa");
        // A PCP missing from the directory is not in the network either.
        assert_eq!(
            determine(&outside_pcp, d("2026-01-01"), &p, None, None).reasons,
            [Reason::PcpNotInNetwork]
        );
    }

    #[test]
    fn overlapping_spans_use_the_latest_start() {
        let (p, pcp) = (policy(), provider(PCP, Network::In));
        let m = member(vec![
            span("COMM-9", "2025-01-01", None, Some(PCP)),
            span("MCAL-1", "2026-01-01", None, Some(PCP)),
        ]);
        assert!(determine(&m, d("2026-02-01"), &p, Some(&pcp), None).is_eligible());
    }

    #[test]
    fn rendering_provider_is_checked_against_network_and_pcp() {
        let (p, pcp, out) = (
            policy(),
            provider(PCP, Network::In),
            provider(OTHER, Network::Out),
        );
        let m = member(vec![span("MCAL-1", "2025-01-01", None, Some(PCP))]);
        let det = determine(&m, d("2026-01-01"), &p, Some(&pcp), Some(&out));
        assert_eq!(
            det.rendering_provider.unwrap(),
            RenderingProvider {
                npi: out.npi,
                in_network: false,
                is_assigned_pcp: false
            }
        );
        let det = determine(&m, d("2026-01-01"), &p, Some(&pcp), Some(&pcp));
        assert!(det.rendering_provider.unwrap().is_assigned_pcp);
    }

    #[test]
    fn reasons_never_name_the_member() {
        let det = Determination::member_not_found();
        let msg = det.reasons[0].message(d("2026-01-01"), "Sunrise IPA");
        assert!(!msg.contains("M100") && !msg.contains("1980"));
        assert!(!det.is_eligible());
    }
}
