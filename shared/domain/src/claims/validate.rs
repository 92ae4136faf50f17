//! From a claim as billed to a claim of domain types, naming every bad field by
//! its path in the JSON claim (`lines[1].code`), so a portal shows each one and a
//! file's 277CA says which line.

use std::borrow::Cow;

use jiff::civil::Date;

use super::{
    ClaimType, Frequency, MAX_DIAGNOSES_INSTITUTIONAL, MAX_DIAGNOSES_PROFESSIONAL,
    MAX_LINES_INSTITUTIONAL, MAX_LINES_PROFESSIONAL, MAX_UNITS, Submission, SubmittedLine,
};
use crate::Invalid;
use crate::codes::{Icd10, Modifier, PlaceOfService, ProcedureCode};
use crate::ids::{MemberId, Npi, RecordKind, ReferenceId};
use crate::money::Money;

/// A bad field: its path, a stable code, and plain words that never quote the
/// value (it may be PHI).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub code: &'static str,
    pub message: Cow<'static, str>,
}

impl FieldProblem {
    fn new(field: impl Into<String>, invalid: Invalid) -> FieldProblem {
        FieldProblem {
            field: field.into(),
            code: invalid.code,
            message: invalid.message,
        }
    }

    /// The 1-based service line the problem is on, if it is on one.
    pub fn line(&self) -> Option<u32> {
        let rest = self.field.strip_prefix("lines[")?;
        let index: u32 = rest.split(']').next()?.parse().ok()?;
        Some(index + 1)
    }
}

/// A claim whose every code is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub claim_type: ClaimType,
    pub frequency: Frequency,
    pub original_claim_id: Option<ReferenceId>,
    pub billing_npi: Npi,
    pub rendering_npi: Option<Npi>,
    pub referring_npi: Option<Npi>,
    pub member_id: MemberId,
    pub dob: Date,
    pub place_of_service: Option<PlaceOfService>,
    pub diagnoses: Vec<Icd10>,
    /// The claim's auth when it names one of ours (a plan's auth number is kept
    /// on the submission but cannot be looked up).
    pub prior_auth_id: Option<ReferenceId>,
    pub lines: Vec<CheckedLine>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedLine {
    /// 1-based, as the 837's LX.
    pub number: u32,
    pub procedure: Option<ProcedureCode>,
    pub modifiers: Vec<Modifier>,
    pub units: u32,
    pub charge: Money,
    pub from: Date,
    pub to: Date,
    /// Who rendered this line: its own NPI, else the claim's rendering, else the
    /// billing provider.
    pub rendering: Npi,
    pub prior_auth_id: Option<ReferenceId>,
}

impl Checked {
    /// The rendering provider of the claim (the billing provider when none is named).
    pub fn rendering(&self) -> Npi {
        self.rendering_npi.unwrap_or(self.billing_npi)
    }
}

/// Checks every field and answers every problem at once.
pub fn validate(s: &Submission) -> Result<Checked, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let p = &mut problems;
    let billing_npi = take(p, "billing_provider.npi", Npi::parse(&s.billing_npi));
    let rendering_npi = optional(s.rendering_npi.as_deref(), Npi::parse);
    let rendering_npi = take(p, "rendering_npi", rendering_npi);
    let referring_npi = optional(s.referring_npi.as_deref(), Npi::parse);
    let referring_npi = take(p, "referring_npi", referring_npi);
    let member_id = take(p, "member_id", MemberId::parse(&s.member_id));
    let original_claim_id = take(p, "original_claim_id", original_claim(s));
    let place_of_service = take(p, "place_of_service", claim_place(s));
    if s.claim_type == ClaimType::Institutional {
        take(p, "type_of_bill", type_of_bill(s.type_of_bill.as_deref()));
    }
    let prior_auth_id = take(p, "prior_auth_id", our_auth(s.prior_auth_id.as_deref()));
    if let Some(tin) = s.billing_tin.as_deref() {
        take(p, "billing_provider.tin", check_tin(tin));
    }

    let max_diagnoses = match s.claim_type {
        ClaimType::Professional => MAX_DIAGNOSES_PROFESSIONAL,
        ClaimType::Institutional => MAX_DIAGNOSES_INSTITUTIONAL,
    };
    let mut diagnoses = Vec::with_capacity(s.diagnoses.len());
    if s.diagnoses.is_empty() {
        problem(
            p,
            "diagnoses",
            Invalid::new(
                "required",
                "at least one diagnosis (the principal) is required",
            ),
        );
    } else if s.diagnoses.len() > max_diagnoses {
        problem(
            p,
            "diagnoses",
            Invalid::owned(
                "too_many",
                format!(
                    "at most {max_diagnoses} diagnoses on a {} claim",
                    s.claim_type.as_str()
                ),
            ),
        );
    } else {
        for (i, code) in s.diagnoses.iter().enumerate() {
            diagnoses.extend(take(p, &format!("diagnoses[{i}]"), Icd10::parse(code)));
        }
    }

    let max_lines = match s.claim_type {
        ClaimType::Professional => MAX_LINES_PROFESSIONAL,
        ClaimType::Institutional => MAX_LINES_INSTITUTIONAL,
    };
    let mut lines = Vec::with_capacity(s.lines.len());
    if s.lines.is_empty() {
        problem(
            p,
            "lines",
            Invalid::new("required", "at least one service line is required"),
        );
    } else if s.lines.len() > max_lines {
        problem(
            p,
            "lines",
            Invalid::owned(
                "too_many",
                format!(
                    "at most {max_lines} service lines on a {} claim",
                    s.claim_type.as_str()
                ),
            ),
        );
    } else {
        let fallback = rendering_npi.flatten().or(billing_npi);
        for (i, line) in s.lines.iter().enumerate() {
            if let Some(l) = check_line(s, i, line, fallback, &mut *p) {
                lines.push(l);
            }
        }
        let total: Option<i64> = s
            .lines
            .iter()
            .try_fold(0i64, |sum, l| sum.checked_add(l.charge_cents));
        if total != Some(s.total_charge_cents) {
            problem(
                p,
                "total_charge",
                Invalid::new(
                    "total_charge_mismatch",
                    "the claim's total charge must equal the sum of its lines' charges",
                ),
            );
        }
    }

    match (billing_npi, member_id, problems.is_empty()) {
        (Some(billing_npi), Some(member_id), true) => Ok(Checked {
            claim_type: s.claim_type,
            frequency: s.frequency,
            original_claim_id: original_claim_id.flatten(),
            billing_npi,
            rendering_npi: rendering_npi.flatten(),
            referring_npi: referring_npi.flatten(),
            member_id,
            dob: s.dob,
            place_of_service: place_of_service.flatten(),
            diagnoses,
            prior_auth_id: prior_auth_id.flatten(),
            lines,
        }),
        _ => Err(problems),
    }
}

fn check_line(
    s: &Submission,
    i: usize,
    line: &SubmittedLine,
    fallback_rendering: Option<Npi>,
    problems: &mut Vec<FieldProblem>,
) -> Option<CheckedLine> {
    let before = problems.len();
    let p = &mut *problems;
    let at = |name: &str| format!("lines[{i}].{name}");
    let procedure = match (&line.procedure, s.claim_type) {
        (Some(code), _) => take(p, &at("code"), ProcedureCode::parse(code).map(Some)),
        (None, ClaimType::Institutional) if line.revenue_code.is_some() => Some(None),
        (None, ClaimType::Institutional) => take(
            p,
            &at("code"),
            Err(Invalid::new(
                "required",
                "an institutional line needs a revenue code or a procedure code",
            )),
        ),
        (None, ClaimType::Professional) => take(p, &at("code"), Err(Invalid::required())),
    };
    if let Some(rev) = line.revenue_code.as_deref() {
        take(p, &at("revenue_code"), revenue_code(rev));
    }
    let mut modifiers = Vec::with_capacity(line.modifiers.len());
    if line.modifiers.len() > 4 {
        problem(
            p,
            &at("modifiers"),
            Invalid::new("too_many", "at most 4 modifiers on a line"),
        );
    } else {
        for (m, text) in line.modifiers.iter().enumerate() {
            let r = Modifier::parse(text);
            modifiers.extend(take(p, &format!("lines[{i}].modifiers[{m}]"), r));
        }
    }
    let units = take(p, &at("units"), whole_units(&line.units));
    if line.charge_cents < 0 {
        problem(
            p,
            &at("charge"),
            Invalid::new("invalid_charge", "must not be negative"),
        );
    }
    let from = take(
        p,
        &at("service_from"),
        line.service_from.ok_or(Invalid::new(
            "required",
            "the date of service is required on every line",
        )),
    );
    let to = line.service_to.or(line.service_from);
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        problem(
            p,
            &at("service_to"),
            Invalid::new("invalid_range", "must not be before service_from"),
        );
    }
    let pointers_needed = s.claim_type == ClaimType::Professional;
    if pointers_needed && line.diagnosis_pointers.is_empty() {
        problem(
            p,
            &at("diagnosis_pointers"),
            Invalid::new(
                "required",
                "point to at least one of the claim's diagnoses (1 is the first)",
            ),
        );
    } else if line.diagnosis_pointers.len() > 4 {
        problem(
            p,
            &at("diagnosis_pointers"),
            Invalid::new("too_many", "at most 4 diagnosis pointers"),
        );
    } else {
        for (k, &pointer) in line.diagnosis_pointers.iter().enumerate() {
            if pointer == 0 || usize::from(pointer) > s.diagnoses.len() {
                problem(
                    p,
                    &format!("lines[{i}].diagnosis_pointers[{k}]"),
                    Invalid::owned(
                        "invalid_pointer",
                        format!(
                            "must point to one of the claim's {} diagnoses (1 to {})",
                            s.diagnoses.len(),
                            s.diagnoses.len()
                        ),
                    ),
                );
            }
        }
    }
    let rendering = optional(line.rendering_npi.as_deref(), Npi::parse);
    let rendering = take(p, &at("rendering_npi"), rendering);
    if let Some(pos) = line.place_of_service.as_deref() {
        take(p, &at("place_of_service"), PlaceOfService::parse(pos));
    }
    let prior_auth_id = take(
        p,
        &at("prior_auth_id"),
        our_auth(line.prior_auth_id.as_deref()),
    );
    if problems.len() > before {
        return None;
    }
    Some(CheckedLine {
        number: u32::try_from(i + 1).unwrap_or(u32::MAX),
        procedure: procedure.flatten(),
        modifiers,
        units: units?,
        charge: Money::from_cents(line.charge_cents),
        from: from?,
        to: to?,
        rendering: rendering.flatten().or(fallback_rendering)?,
        prior_auth_id: prior_auth_id.flatten(),
    })
}

fn take<T>(p: &mut Vec<FieldProblem>, field: &str, r: Result<T, Invalid>) -> Option<T> {
    r.map_err(|e| p.push(FieldProblem::new(field, e))).ok()
}

fn problem(p: &mut Vec<FieldProblem>, field: &str, invalid: Invalid) {
    p.push(FieldProblem::new(field, invalid));
}

fn optional<T>(
    s: Option<&str>,
    parse: fn(&str) -> Result<T, Invalid>,
) -> Result<Option<T>, Invalid> {
    s.map(parse).transpose()
}

fn original_claim(s: &Submission) -> Result<Option<ReferenceId>, Invalid> {
    match (s.frequency, s.original_claim_id.as_deref()) {
        (Frequency::Original, None) => Ok(None),
        (Frequency::Original, Some(_)) => Err(Invalid::new(
            "not_allowed",
            "only a replacement (frequency 7) or a void (frequency 8) names an original claim",
        )),
        (_, None) => Err(Invalid::new(
            "required",
            "a replacement (frequency 7) or void (frequency 8) must name the claim it replaces or voids",
        )),
        (_, Some(id)) => ReferenceId::parse_kind(RecordKind::Claim, id).map(Some),
    }
}

fn claim_place(s: &Submission) -> Result<Option<PlaceOfService>, Invalid> {
    match (s.claim_type, s.place_of_service.as_deref()) {
        (_, Some(pos)) => PlaceOfService::parse(pos).map(Some),
        (ClaimType::Professional, None) => Err(Invalid::new(
            "required",
            "a professional claim needs its place of service",
        )),
        (ClaimType::Institutional, None) => Ok(None),
    }
}

/// The UB-04 type of bill: three digits (facility, classification, frequency),
/// sometimes written with a leading zero.
fn type_of_bill(tob: Option<&str>) -> Result<(), Invalid> {
    let Some(tob) = tob else {
        return Err(Invalid::new(
            "required",
            "an institutional claim needs its type of bill",
        ));
    };
    let digits = tob.trim().strip_prefix('0').unwrap_or(tob.trim());
    if digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0') {
        Ok(())
    } else {
        Err(Invalid::new(
            "invalid_type_of_bill",
            "must be a three-digit type of bill such as 111 or 131",
        ))
    }
}

fn revenue_code(s: &str) -> Result<(), Invalid> {
    let s = s.trim();
    if (s.len() == 4 || s.len() == 3) && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Invalid::new(
            "invalid_revenue_code",
            "must be a four-digit revenue code such as 0450",
        ))
    }
}

fn check_tin(s: &str) -> Result<(), Invalid> {
    let digits: Vec<u8> = s.bytes().filter(|b| *b != b'-').collect();
    if digits.len() == 9 && digits.iter().all(u8::is_ascii_digit) {
        Ok(())
    } else {
        Err(Invalid::new(
            "invalid_tin",
            "must be a nine-digit tax ID (EIN), with or without the hyphen",
        ))
    }
}

/// Our own auths are named by reference ID; anything else (a health plan's auth
/// number) cannot be looked up here and is kept only as written.
fn our_auth(s: Option<&str>) -> Result<Option<ReferenceId>, Invalid> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let looks_ours = s
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("PA-") || p.eq_ignore_ascii_case("PA "));
    if looks_ours {
        ReferenceId::parse_kind(RecordKind::PriorAuth, s).map(Some)
    } else {
        Ok(None)
    }
}

/// `1`, `2.0`, `3.000`: a whole number of units, 1 to [`MAX_UNITS`].
fn whole_units(s: &str) -> Result<u32, Invalid> {
    const BAD: Invalid = Invalid::new(
        "invalid_units",
        "must be a whole number of units from 1 to 99999",
    );
    let s = s.trim();
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 5
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b == b'0')
    {
        return Err(BAD);
    }
    match whole.parse::<u32>() {
        Ok(n) if (1..=MAX_UNITS).contains(&n) => Ok(n),
        _ => Err(BAD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::fixtures::{line, professional};

    #[test]
    fn a_good_claim_is_checked() {
        let checked = validate(&professional()).unwrap();
        assert_eq!(checked.lines.len(), 1);
        assert_eq!(checked.lines[0].number, 1);
        assert_eq!(checked.lines[0].units, 1);
        // No rendering NPI: the billing provider rendered it.
        assert_eq!(checked.lines[0].rendering, checked.billing_npi);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut s = professional();
        s.billing_npi = "1234567890".into(); // fails the Luhn check
        s.member_id = String::new();
        s.place_of_service = Some("1".into());
        s.diagnoses = vec!["M54.16".into(), "not-a-code".into()];
        s.lines[0].procedure = Some("7214".into());
        s.lines[0].modifiers = vec!["2".into()];
        s.lines[0].units = "1.5".into();
        s.lines[0].diagnosis_pointers = vec![3];
        s.lines[0].service_to = Some(date("2026-10-01"));
        let problems = validate(&s).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "billing_provider.npi",
                "member_id",
                "place_of_service",
                "diagnoses[1]",
                "lines[0].code",
                "lines[0].modifiers[0]",
                "lines[0].units",
                "lines[0].service_to",
                "lines[0].diagnosis_pointers[0]",
            ]
        );
        assert_eq!(problems[4].line(), Some(1));
        assert_eq!(problems[0].line(), None);
        // Messages describe the rule, never the value.
        for p in &problems {
            assert!(!p.message.contains("1234567890") && !p.message.contains("7214"));
        }
    }

    #[test]
    fn the_total_must_be_the_sum_of_the_lines() {
        let mut s = professional();
        s.lines.push(line("97110", 2, 9_000));
        let problems = validate(&s).unwrap_err();
        assert_eq!(problems[0].code, "total_charge_mismatch");
        s.total_charge_cents += 9_000;
        assert!(validate(&s).is_ok());
    }

    #[test]
    fn replacements_and_voids_name_their_original() {
        let mut s = professional();
        s.frequency = Frequency::Replacement;
        assert_eq!(validate(&s).unwrap_err()[0].field, "original_claim_id");
        s.original_claim_id = Some("PA-7K3Q9M".into());
        assert_eq!(validate(&s).unwrap_err()[0].code, "invalid_reference_id");
        s.original_claim_id = Some("clm-7k3q9m2p4x".into());
        let checked = validate(&s).unwrap();
        assert_eq!(
            checked.original_claim_id.unwrap().as_str(),
            "CLM-7K3Q9M2P4X"
        );
        let mut original = professional();
        original.original_claim_id = Some("CLM-7K3Q9M2P4X".into());
        assert_eq!(validate(&original).unwrap_err()[0].code, "not_allowed");
    }

    #[test]
    fn institutional_claims_take_revenue_codes_and_a_type_of_bill() {
        let mut s = professional();
        s.claim_type = ClaimType::Institutional;
        s.place_of_service = None;
        s.lines[0].procedure = None;
        s.lines[0].diagnosis_pointers.clear();
        let problems = validate(&s).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["type_of_bill", "lines[0].code"]);
        s.type_of_bill = Some("0111".into());
        s.lines[0].revenue_code = Some("0450".into());
        let checked = validate(&s).unwrap();
        assert_eq!(checked.lines[0].procedure, None);
        s.type_of_bill = Some("11".into());
        assert_eq!(validate(&s).unwrap_err()[0].code, "invalid_type_of_bill");
    }

    #[test]
    fn auth_numbers_of_our_own_are_looked_up_and_others_kept() {
        assert_eq!(
            our_auth(Some("pa 7k3q9m")).unwrap().unwrap().as_str(),
            "PA-7K3Q9M"
        );
        assert_eq!(our_auth(Some("AUTH12345")).unwrap(), None);
        assert!(our_auth(Some("PA-7K3")).is_err());
        assert_eq!(our_auth(Some("  ")).unwrap(), None);
    }

    #[test]
    fn units_are_whole() {
        assert_eq!(whole_units("1"), Ok(1));
        assert_eq!(whole_units("12.000"), Ok(12));
        for bad in ["0", "", ".5", "1.5", "-1", "100000", "1e3", "１"] {
            assert!(whole_units(bad).is_err(), "{bad}");
        }
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }
}
