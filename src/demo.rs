//! The demo IPA a newcomer gets on first start: provider organisations with their
//! NPIs and a few hundred members in every coverage situation the front desk meets
//! (active, termed, future start, gaps, plan changes, PCP outside the IPA, no PCP),
//! across the policy's plans. Generated deterministically, relative to today, and
//! loaded through the same validation as `mso import`.

use jiff::Timestamp;
use jiff::civil::Date;
use mso_api::directory;
use mso_domain::clock::{add_calendar_days, local_date};
use mso_domain::ids::Npi;
use mso_domain::member::LineOfBusiness;
use mso_domain::policy::Policy;
use mso_domain::roster::{MemberRow, ProviderRow, members_from_rows, providers_from_rows};
use mso_store::RecordStore;

use crate::dev_token::TokenRequest;

pub const MEMBERS: usize = 300;

/// The example member in the start-up curl line: active, with an in-network PCP.
const EXAMPLE_DOB: &str = "1984-03-15";

struct Org {
    id: &'static str,
    specialty: &'static str,
    providers: usize,
    in_network: bool,
    primary_care: bool,
}

const ORGS: [Org; 6] = [
    Org {
        id: "sunrise-family-medicine",
        specialty: "Family Medicine",
        providers: 4,
        in_network: true,
        primary_care: true,
    },
    Org {
        id: "coastal-pediatrics",
        specialty: "Pediatrics",
        providers: 3,
        in_network: true,
        primary_care: true,
    },
    Org {
        id: "bayview-womens-health",
        specialty: "Obstetrics and Gynecology",
        providers: 2,
        in_network: true,
        primary_care: false,
    },
    Org {
        id: "harbor-cardiology",
        specialty: "Cardiology",
        providers: 2,
        in_network: true,
        primary_care: false,
    },
    Org {
        id: "valley-orthopedics",
        specialty: "Orthopedic Surgery",
        providers: 2,
        in_network: true,
        primary_care: false,
    },
    Org {
        id: "desert-independent-clinic",
        specialty: "Family Medicine",
        providers: 2,
        in_network: false,
        primary_care: true,
    },
];

const FIRST_NAMES: [(&str, &str); 24] = [
    ("Ana", "F"),
    ("Rosa", "F"),
    ("Mei", "F"),
    ("Fatima", "F"),
    ("Grace", "F"),
    ("Lucia", "F"),
    ("Priya", "F"),
    ("Hannah", "F"),
    ("Nadia", "F"),
    ("Emily", "F"),
    ("Linh", "F"),
    ("Sofia", "F"),
    ("Carlos", "M"),
    ("David", "M"),
    ("Wei", "M"),
    ("Omar", "M"),
    ("James", "M"),
    ("Miguel", "M"),
    ("Arjun", "M"),
    ("Daniel", "M"),
    ("Tuan", "M"),
    ("Samuel", "M"),
    ("Jorge", "M"),
    ("Kevin", "M"),
];

const LAST_NAMES: [&str; 24] = [
    "Lopez",
    "Nguyen",
    "Garcia",
    "Kim",
    "Patel",
    "Hernandez",
    "Chen",
    "Martinez",
    "Tran",
    "Rodriguez",
    "Park",
    "Gonzalez",
    "Wong",
    "Flores",
    "Singh",
    "Ramirez",
    "Le",
    "Torres",
    "Haddad",
    "Rivera",
    "Yamamoto",
    "Cruz",
    "Okafor",
    "Reyes",
];

/// Provider rows of the demo organisations (the same every time).
pub fn providers() -> Vec<ProviderRow> {
    let mut rng = fastrand::Rng::with_seed(0x5EED_0001);
    let mut rows = Vec::new();
    for org in &ORGS {
        for i in 0..org.providers {
            let (first, _) = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.usize(..LAST_NAMES.len())];
            let npi = Npi::with_check_digit(100_000_000 + rng.u32(..100_000_000))
                .map(|n| n.to_string())
                .unwrap_or_default();
            let specialty = if org.primary_care && org.specialty == "Family Medicine" && i % 2 == 1
            {
                "Internal Medicine"
            } else {
                org.specialty
            };
            rows.push(ProviderRow {
                npi,
                name: format!("{first} {last} MD"),
                org_id: org.id.into(),
                specialty: specialty.into(),
                network: if org.in_network { "in" } else { "out" }.into(),
            });
        }
    }
    rows
}

/// Member roster rows: one per coverage span, relative to `today`.
pub fn members(policy: &Policy, today: Date) -> Vec<MemberRow> {
    let providers = providers();
    let pcp = |in_network: bool| -> Vec<String> {
        let orgs: Vec<&str> = ORGS
            .iter()
            .filter(|o| o.primary_care && o.in_network == in_network)
            .map(|o| o.id)
            .collect();
        providers
            .iter()
            .filter(|p| orgs.contains(&p.org_id.as_str()))
            .map(|p| p.npi.clone())
            .collect()
    };
    let (in_pcps, out_pcps) = (pcp(true), pcp(false));
    let prefix = member_prefix(policy);
    let mut rng = fastrand::Rng::with_seed(0x5EED_0002);
    let day = |offset: i64| -> String {
        let d = if offset >= 0 {
            add_calendar_days(today, offset as u32)
        } else {
            today
                .checked_sub(jiff::Span::new().days(-offset))
                .unwrap_or(today)
        };
        d.to_string()
    };

    let mut rows = Vec::new();
    for i in 0..MEMBERS {
        let (first, sex) = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
        let last = LAST_NAMES[rng.usize(..LAST_NAMES.len())];
        let plan = &policy.plans[rng.usize(..policy.plans.len())];
        let dob = match plan.line_of_business {
            LineOfBusiness::MedicareAdvantage | LineOfBusiness::DualEligible => {
                Date::new(rng.i16(1935..=1960), rng.i8(1..=12), rng.i8(1..=28))
            }
            _ => Date::new(rng.i16(1950..=2024), rng.i8(1..=12), rng.i8(1..=28)),
        }
        .map(|d| d.to_string())
        .unwrap_or_else(|_| EXAMPLE_DOB.into());
        let in_pcp = in_pcps[rng.usize(..in_pcps.len())].clone();
        let row = |plan_id: &str, lob: LineOfBusiness, start: String, end: String, pcp: String| {
            MemberRow {
                member_id: format!("{prefix}{}", 100_001 + i),
                first_name: first.into(),
                last_name: last.into(),
                dob: if i == 0 {
                    EXAMPLE_DOB.into()
                } else {
                    dob.clone()
                },
                sex: sex.into(),
                plan_id: plan_id.into(),
                line_of_business: lob.as_str().into(),
                coverage_start: start,
                coverage_end: end,
                pcp_npi: pcp,
            }
        };
        let (id, lob) = (plan.id.as_str(), plan.line_of_business);
        let situation = if i == 0 { 0 } else { i % 20 };
        match situation {
            // Active, open-ended.
            0..=11 => rows.push(row(id, lob, day(-rng.i64(30..1500)), String::new(), in_pcp)),
            // Termed in the last four months.
            12 => rows.push(row(id, lob, day(-730), day(-rng.i64(1..120)), in_pcp)),
            // Coverage starts soon.
            13 => rows.push(row(id, lob, day(rng.i64(5..60)), String::new(), in_pcp)),
            // A gap: coverage ended and resumes later.
            14 => {
                rows.push(row(
                    id,
                    lob,
                    day(-1095),
                    day(-rng.i64(60..200)),
                    in_pcp.clone(),
                ));
                rows.push(row(id, lob, day(rng.i64(10..90)), String::new(), in_pcp));
            }
            // Assigned to a PCP outside the IPA.
            15 => rows.push(row(
                id,
                lob,
                day(-rng.i64(30..900)),
                String::new(),
                out_pcps[rng.usize(..out_pcps.len())].clone(),
            )),
            // No PCP assigned yet.
            16 => rows.push(row(
                id,
                lob,
                day(-rng.i64(1..40)),
                String::new(),
                String::new(),
            )),
            // Changed plans: the old span ended, the new one continues.
            17 => {
                let other =
                    &policy.plans[(rng.usize(..policy.plans.len()) + 1) % policy.plans.len()];
                let switched = rng.i64(100..300);
                rows.push(row(
                    other.id.as_str(),
                    other.line_of_business,
                    day(-1460),
                    day(-switched - 1),
                    in_pcp.clone(),
                ));
                rows.push(row(id, lob, day(-switched), String::new(), in_pcp));
            }
            // Termed long ago.
            18 => rows.push(row(id, lob, day(-1500), day(-rng.i64(400..900)), in_pcp)),
            // Active with a known end date.
            _ => rows.push(row(id, lob, day(-365), day(rng.i64(30..200)), in_pcp)),
        }
    }
    rows
}

/// `SUN` for the sunrise IPA: member IDs look like the IPA's.
fn member_prefix(policy: &Policy) -> String {
    let mut p: String = policy
        .ipa
        .id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(3)
        .collect::<String>()
        .to_ascii_uppercase();
    while p.len() < 3 {
        p.push('X');
    }
    p
}

/// Loads the demo providers and members. Returns a one-line summary.
pub async fn load(
    store: &dyn RecordStore,
    policy: &Policy,
    now: Timestamp,
) -> anyhow::Result<String> {
    let today = local_date(now, policy.time_zone());
    let providers = providers_from_rows(numbered(providers())).map_err(rows_error)?;
    let members =
        members_from_rows(numbered(members(policy, today)), policy).map_err(rows_error)?;
    let mut writes = directory::provider_writes(&providers)?;
    writes.extend(directory::member_writes(&members)?);
    directory::write_all(store, writes).await?;
    Ok(format!(
        "{} members, {} providers in {} organisations",
        members.len(),
        providers.len(),
        ORGS.len()
    ))
}

/// Rows numbered as lines of a CSV file with a header (the first row is line 2).
fn numbered<T>(rows: Vec<T>) -> Vec<(u64, T)> {
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| (i as u64 + 2, r))
        .collect()
}

fn rows_error(errors: Vec<mso_domain::roster::RowError>) -> anyhow::Error {
    anyhow::anyhow!(
        "demo data does not validate: {}",
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// A request that works as pasted: the example member, today, as a front-desk user
/// of the first demo organisation.
pub struct Example {
    pub token: TokenRequest,
    pub path_and_query: String,
}

pub fn example(policy: &Policy, now: Timestamp) -> Example {
    let org = ORGS[0].id;
    let npis: Vec<String> = providers()
        .into_iter()
        .filter(|p| p.org_id == org)
        .map(|p| p.npi)
        .collect();
    let today = local_date(now, policy.time_zone());
    let member_id = format!("{}100001", member_prefix(policy));
    let npi = npis.first().cloned().unwrap_or_default();
    Example {
        token: TokenRequest {
            org: org.into(),
            roles: vec!["provider_user".into()],
            npis,
            subject: None,
            ttl_minutes: 8 * 60,
        },
        path_and_query: format!(
            "/v1/eligibility?member_id={member_id}&dob={EXAMPLE_DOB}&dos={today}&npi={npi}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use mso_domain::eligibility::{Reason, determine};
    use mso_domain::member::Member;
    use mso_domain::provider::Provider;

    use super::*;

    fn demo() -> (Policy, Date, Vec<Member>, Vec<Provider>) {
        let policy = mso_api::policies::load("sunrise").unwrap();
        let today: Date = "2026-11-23".parse().unwrap();
        let members = members_from_rows(numbered(members(&policy, today)), &policy).unwrap();
        let providers = providers_from_rows(numbered(providers())).unwrap();
        (policy, today, members, providers)
    }

    #[test]
    fn the_demo_roster_covers_every_situation() {
        let (policy, today, members, providers) = demo();
        assert_eq!(members.len(), MEMBERS);
        let mut codes = std::collections::BTreeMap::new();
        let mut lobs = std::collections::BTreeSet::new();
        for m in &members {
            let span = m.span_on(today);
            let pcp = span
                .and_then(|s| s.pcp_npi)
                .and_then(|npi| providers.iter().find(|p| p.npi == npi));
            let det = determine(m, today, &policy, pcp, None);
            let code = det.reasons.first().map(Reason::code).unwrap_or("eligible");
            *codes.entry(code).or_insert(0) += 1;
            if let Some(s) = span {
                lobs.insert(format!("{:?}", s.line_of_business));
            }
        }
        for code in [
            "eligible",
            "terminated",
            "not_yet_effective",
            "coverage_gap",
            "not_assigned_to_ipa",
        ] {
            assert!(
                codes.get(code).copied().unwrap_or(0) >= 5,
                "{code}: {codes:?}"
            );
        }
        assert!(codes["eligible"] > MEMBERS / 2, "{codes:?}");
        assert!(lobs.len() >= 3, "several lines of business: {lobs:?}");
    }

    #[test]
    fn the_example_member_is_eligible_today_with_the_example_npi() {
        let (policy, today, members, providers) = demo();
        let example = example(&policy, "2026-11-23T18:00:00Z".parse().unwrap());
        assert!(example.path_and_query.contains("member_id=SUN100001"));
        let m = &members[0];
        assert_eq!(m.dob.to_string(), EXAMPLE_DOB);
        let pcp = providers
            .iter()
            .find(|p| Some(p.npi) == m.span_on(today).unwrap().pcp_npi);
        assert!(determine(m, today, &policy, pcp, None).is_eligible());
        let npi = &example.token.npis[0];
        assert!(
            providers
                .iter()
                .any(|p| p.npi.as_str() == npi && p.org_id.as_str() == example.token.org)
        );
    }
}
