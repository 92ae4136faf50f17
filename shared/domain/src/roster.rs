//! Plan rosters and provider lists, validated row by row before anything is stored.
//!
//! Column layouts are the public contract (API.md): members
//! `member_id,first_name,last_name,dob,sex,plan_id,line_of_business,coverage_start,coverage_end,pcp_npi`
//! (one row per coverage span), providers `npi,name,org_id,specialty,network`.
//! Every problem is reported with its line and column; messages never repeat the
//! value, since roster values are PHI.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;

use crate::Invalid;
use crate::dates::parse_date;
use crate::ids::{MemberId, Npi, OrgId, PlanId};
use crate::member::{CoverageSpan, LineOfBusiness, Member, Sex};
use crate::policy::Policy;
use crate::provider::{Network, Provider};

pub const MEMBER_COLUMNS: [&str; 10] = [
    "member_id",
    "first_name",
    "last_name",
    "dob",
    "sex",
    "plan_id",
    "line_of_business",
    "coverage_start",
    "coverage_end",
    "pcp_npi",
];

pub const PROVIDER_COLUMNS: [&str; 5] = ["npi", "name", "org_id", "specialty", "network"];

/// One roster line as read. Extra columns in the file are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MemberRow {
    pub member_id: String,
    pub first_name: String,
    pub last_name: String,
    pub dob: String,
    pub sex: String,
    pub plan_id: String,
    pub line_of_business: String,
    pub coverage_start: String,
    #[serde(default)]
    pub coverage_end: String,
    #[serde(default)]
    pub pcp_npi: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProviderRow {
    pub npi: String,
    pub name: String,
    pub org_id: String,
    pub specialty: String,
    pub network: String,
}

/// A problem with one line of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub column: Option<&'static str>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Which required columns a header lacks.
pub fn missing_columns<'h>(
    header: impl IntoIterator<Item = &'h str>,
    required: &[&'static str],
) -> Vec<&'static str> {
    let present: Vec<String> = header
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    required
        .iter()
        .copied()
        .filter(|c| !present.iter().any(|p| p == c))
        .collect()
}

struct Errors<'a> {
    line: u64,
    out: &'a mut Vec<RowError>,
}

impl Errors<'_> {
    fn check<T>(&mut self, column: &'static str, r: Result<T, Invalid>) -> Option<T> {
        r.map_err(|e| {
            self.out.push(RowError {
                line: self.line,
                column: Some(column),
                message: e.message.into_owned(),
            })
        })
        .ok()
    }

    fn text(&mut self, column: &'static str, s: &str, max: usize) -> Option<String> {
        let s = s.trim();
        let r = if s.is_empty() {
            Err(Invalid::required())
        } else if s.chars().count() > max || s.chars().any(char::is_control) {
            Err(Invalid::owned(
                "invalid_text",
                format!("must be at most {max} characters, without control characters"),
            ))
        } else {
            Ok(s.to_owned())
        };
        self.check(column, r)
    }
}

/// Builds members from roster rows (line number, row). All or nothing: any problem
/// anywhere and the whole roster is refused with every problem listed.
pub fn members_from_rows(
    rows: impl IntoIterator<Item = (u64, MemberRow)>,
    policy: &Policy,
) -> Result<Vec<Member>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut members: Vec<Member> = Vec::new();
    let mut first_line: HashMap<MemberId, (usize, u64)> = HashMap::new();

    for (line, row) in rows {
        let mut e = Errors {
            line,
            out: &mut errors,
        };
        let member_id = e.check("member_id", MemberId::parse(&row.member_id));
        let first_name = e.text("first_name", &row.first_name, 60);
        let last_name = e.text("last_name", &row.last_name, 60);
        let dob = e.check("dob", parse_date(&row.dob));
        let sex = e.check("sex", Sex::parse(&row.sex));
        let plan_id = e.check("plan_id", PlanId::parse(&row.plan_id));
        let lob = e.check(
            "line_of_business",
            LineOfBusiness::parse(&row.line_of_business),
        );
        let start = e.check("coverage_start", parse_date(&row.coverage_start));
        let end = match row.coverage_end.trim() {
            "" => Some(None),
            s => e.check("coverage_end", parse_date(s)).map(Some),
        };
        let pcp = match row.pcp_npi.trim() {
            "" => Some(None),
            s => e.check("pcp_npi", Npi::parse(s)).map(Some),
        };
        if let (Some(start), Some(Some(end))) = (start, end)
            && end < start
        {
            e.check::<()>(
                "coverage_end",
                Err(Invalid::new(
                    "invalid_span",
                    "must not be before coverage_start",
                )),
            );
        }
        if let (Some(plan_id), Some(lob)) = (&plan_id, lob) {
            match policy.plan(plan_id) {
                None => {
                    e.check::<()>(
                        "plan_id",
                        Err(Invalid::new(
                            "unknown_plan",
                            "is not a plan in this IPA's policy",
                        )),
                    );
                }
                Some(plan) if plan.line_of_business != lob => {
                    e.check::<()>(
                        "line_of_business",
                        Err(Invalid::new(
                            "line_of_business_mismatch",
                            "does not match the plan's line of business in the policy",
                        )),
                    );
                }
                Some(_) => {}
            }
        }
        let (
            Some(member_id),
            Some(first_name),
            Some(last_name),
            Some(dob),
            Some(sex),
            Some(plan_id),
            Some(line_of_business),
            Some(start),
            Some(end),
            Some(pcp_npi),
        ) = (
            member_id, first_name, last_name, dob, sex, plan_id, lob, start, end, pcp,
        )
        else {
            continue;
        };
        let span = CoverageSpan {
            plan_id,
            line_of_business,
            start,
            end,
            pcp_npi,
        };
        match first_line.get(&member_id) {
            Some(&(i, earlier)) => {
                let m = &mut members[i];
                if m.first_name != first_name
                    || m.last_name != last_name
                    || m.dob != dob
                    || m.sex != sex
                {
                    errors.push(RowError {
                        line,
                        column: None,
                        message: format!("name, date of birth or sex differ from line {earlier} for the same member_id"),
                    });
                } else {
                    m.spans.push(span);
                }
            }
            None => {
                first_line.insert(member_id.clone(), (members.len(), line));
                members.push(Member {
                    member_id,
                    first_name,
                    last_name,
                    dob,
                    sex,
                    spans: vec![span],
                });
            }
        }
    }
    if errors.is_empty() {
        for m in &mut members {
            m.spans.sort_by_key(|s| s.start);
        }
        Ok(members)
    } else {
        Err(errors)
    }
}

/// Builds providers from rows; all or nothing, like [`members_from_rows`].
pub fn providers_from_rows(
    rows: impl IntoIterator<Item = (u64, ProviderRow)>,
) -> Result<Vec<Provider>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut providers = Vec::new();
    let mut seen: HashMap<Npi, u64> = HashMap::new();
    for (line, row) in rows {
        let mut e = Errors {
            line,
            out: &mut errors,
        };
        let npi = e.check("npi", Npi::parse(&row.npi));
        let name = e.text("name", &row.name, 120);
        let org_id = e.check("org_id", OrgId::parse(&row.org_id));
        let specialty = e.text("specialty", &row.specialty, 80);
        let network = e.check("network", Network::parse(&row.network));
        if let Some(npi) = npi
            && let Some(earlier) = seen.insert(npi, line)
        {
            errors.push(RowError {
                line,
                column: Some("npi"),
                message: format!("is already listed on line {earlier}"),
            });
            continue;
        }
        if let (Some(npi), Some(name), Some(org_id), Some(specialty), Some(network)) =
            (npi, name, org_id, specialty, network)
        {
            providers.push(Provider {
                npi,
                name,
                org_id,
                specialty,
                network,
            });
        }
    }
    if errors.is_empty() {
        Ok(providers)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::from_toml(
            r#"
[ipa]
id = "test-ipa"
name = "T IPA"
timezone = "America/Los_Angeles"
[contacts]
um_phone = "1"
um_fax = "2"
claims_email = "c@example.test"
dispute_mailing_address = "PO Box 1"
expedited_appeal_fax = "3"
[[plans]]
id = "MCAL-1"
name = "Medi-Cal"
health_plan = "HP"
line_of_business = "medi_cal"
"#,
            "t",
        )
        .unwrap()
    }

    fn row(id: &str, start: &str, end: &str) -> MemberRow {
        MemberRow {
            member_id: id.into(),
            first_name: "Ana".into(),
            last_name: "Lopez".into(),
            dob: "1980-01-02".into(),
            sex: "F".into(),
            plan_id: "MCAL-1".into(),
            line_of_business: "medi_cal".into(),
            coverage_start: start.into(),
            coverage_end: end.into(),
            pcp_npi: "1234567893".into(),
        }
    }

    #[test]
    fn rows_of_one_member_become_spans_in_start_order() {
        let rows = vec![
            (2, row("M101", "2026-01-01", "")),
            (3, row("M101", "2025-01-01", "2025-12-31")),
            (4, row("M102", "2025-01-01", "")),
        ];
        let members = members_from_rows(rows, &policy()).unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].spans.len(), 2);
        assert!(members[0].spans[0].start < members[0].spans[1].start);
        assert_eq!(members[0].spans[1].end, None);
    }

    #[test]
    fn every_bad_field_is_reported_with_line_and_column() {
        let mut bad = row("M101", "2026-02-30", "");
        bad.pcp_npi = "1234567890".into();
        bad.sex = "Q".into();
        let mut unknown_plan = row("M102", "2026-01-01", "2025-01-01");
        unknown_plan.plan_id = "NOPE".into();
        let errs = members_from_rows(
            vec![
                (2, row("M100", "2026-01-01", "")),
                (3, bad),
                (4, unknown_plan),
            ],
            &policy(),
        )
        .unwrap_err();
        let at: Vec<_> = errs
            .iter()
            .map(|e| (e.line, e.column.unwrap_or("-")))
            .collect();
        assert_eq!(
            at,
            [
                (3, "sex"),
                (3, "coverage_start"),
                (3, "pcp_npi"),
                (4, "coverage_end"),
                (4, "plan_id")
            ]
        );
        assert_eq!(
            errs[1].to_string(),
            "line 3, column coverage_start: is not a real calendar date"
        );
    }

    #[test]
    fn conflicting_demographics_for_one_member_are_refused() {
        let mut other = row("M101", "2026-01-01", "");
        other.dob = "1981-01-02".into();
        let errs = members_from_rows(
            vec![(2, row("M101", "2025-01-01", "2025-12-31")), (3, other)],
            &policy(),
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 3);
        assert!(errs[0].message.contains("line 2"));
        assert!(
            !errs[0].message.contains("1981"),
            "messages never repeat PHI"
        );
    }

    #[test]
    fn providers_validate_npi_org_and_network_and_refuse_duplicates() {
        let p = |npi: &str, org: &str, net: &str| ProviderRow {
            npi: npi.into(),
            name: "Dr A".into(),
            org_id: org.into(),
            specialty: "FM".into(),
            network: net.into(),
        };
        assert_eq!(
            providers_from_rows(vec![(2, p("1234567893", "org-a", "in"))])
                .unwrap()
                .len(),
            1
        );
        let errs = providers_from_rows(vec![
            (2, p("1234567893", "org-a", "in")),
            (3, p("1234567893", "org-a", "out")),
            (4, p("1", "Org A", "maybe")),
        ])
        .unwrap_err();
        let at: Vec<_> = errs
            .iter()
            .map(|e| (e.line, e.column.unwrap_or("-")))
            .collect();
        assert_eq!(at, [(3, "npi"), (4, "npi"), (4, "org_id"), (4, "network")]);
    }

    #[test]
    fn headers_are_checked_for_required_columns() {
        assert_eq!(
            missing_columns(["npi", "Name", "org_id", "extra"], &PROVIDER_COLUMNS),
            ["specialty", "network"]
        );
        assert!(missing_columns(MEMBER_COLUMNS, &MEMBER_COLUMNS).is_empty());
    }
}
