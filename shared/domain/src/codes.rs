//! Clinical and billing codes: ICD-10-CM diagnoses, CPT/HCPCS procedures with
//! modifiers, places of service, and procedure code ranges for policy lists.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// An ICD-10-CM diagnosis code, stored in its dotted form (`E11.9`, `S72.001A`).
/// Accepted with or without the dot, in any case.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Icd10(String);

impl Icd10 {
    pub fn parse(s: &str) -> Result<Icd10, Invalid> {
        const BAD: Invalid = Invalid::new(
            "invalid_icd10",
            "must be an ICD-10-CM code: a letter, a digit, a letter or digit, then up to 4 more letters or digits (E11.9)",
        );
        let s = s.trim();
        if !s.is_ascii() {
            return Err(BAD);
        }
        let (head, tail) = match s.split_once('.') {
            Some((h, t)) if !t.is_empty() => (h, t),
            Some(_) => return Err(BAD),
            None if s.len() > 3 => s.split_at(3),
            None => (s, ""),
        };
        let head = head.as_bytes();
        let ok = head.len() == 3
            && head[0].is_ascii_alphabetic()
            && head[1].is_ascii_digit()
            && head[2].is_ascii_alphanumeric()
            && tail.len() <= 4
            && tail.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok {
            return Err(BAD);
        }
        let mut code = String::with_capacity(8);
        code.push_str(&String::from_utf8_lossy(head).to_ascii_uppercase());
        if !tail.is_empty() {
            code.push('.');
            code.push_str(&tail.to_ascii_uppercase());
        }
        Ok(Icd10(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A procedure code: CPT (5 digits, or 4 digits + F/T/U for category II, III and
/// PLA codes) or HCPCS Level II (a letter A-V + 4 digits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProcedureCode([u8; 5]);

impl ProcedureCode {
    pub fn parse(s: &str) -> Result<ProcedureCode, Invalid> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 5 || !b.is_ascii() {
            return Err(Self::bad());
        }
        let mut c = [0u8; 5];
        c.copy_from_slice(b);
        c.make_ascii_uppercase();
        let digits = |r: std::ops::Range<usize>| c[r].iter().all(u8::is_ascii_digit);
        let cpt = digits(0..4) && (c[4].is_ascii_digit() || matches!(c[4], b'F' | b'T' | b'U'));
        let hcpcs = (b'A'..=b'V').contains(&c[0]) && digits(1..5);
        if cpt || hcpcs {
            Ok(ProcedureCode(c))
        } else {
            Err(Self::bad())
        }
    }

    fn bad() -> Invalid {
        Invalid::new(
            "invalid_procedure_code",
            "must be a CPT code (5 digits, or 4 digits and F, T or U) or a HCPCS code (a letter A-V and 4 digits)",
        )
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// HCPCS Level II codes start with a letter; CPT codes with a digit.
    pub fn is_hcpcs(&self) -> bool {
        self.0[0].is_ascii_alphabetic()
    }
}

/// A two-character CPT/HCPCS modifier (`25`, `59`, `RT`, `GT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Modifier([u8; 2]);

impl Modifier {
    pub fn parse(s: &str) -> Result<Modifier, Invalid> {
        let b = s.trim().as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_alphanumeric) {
            Ok(Modifier([
                b[0].to_ascii_uppercase(),
                b[1].to_ascii_uppercase(),
            ]))
        } else {
            Err(Invalid::new(
                "invalid_modifier",
                "must be 2 letters or digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A procedure as billed or requested: a code and up to four modifiers, written
/// `99213` or `99213-25` or `27447-RT-59`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BilledProcedure {
    pub code: ProcedureCode,
    pub modifiers: Vec<Modifier>,
}

impl BilledProcedure {
    pub const MAX_MODIFIERS: usize = 4;

    pub fn parse(s: &str) -> Result<BilledProcedure, Invalid> {
        let mut parts = s.trim().split(['-', ':']);
        let code = ProcedureCode::parse(parts.next().unwrap_or_default())?;
        let modifiers = parts.map(Modifier::parse).collect::<Result<Vec<_>, _>>()?;
        if modifiers.len() > Self::MAX_MODIFIERS {
            return Err(Invalid::new("too_many_modifiers", "at most 4 modifiers"));
        }
        Ok(BilledProcedure { code, modifiers })
    }
}

/// A CMS place-of-service code (two digits, from the CMS POS code set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlaceOfService(u8);

impl PlaceOfService {
    /// Codes in the CMS place-of-service code set (2024); the gaps are unassigned.
    const ASSIGNED: &'static [u8] = &[
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
        26, 27, 31, 32, 33, 34, 41, 42, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 65, 66,
        71, 72, 81, 99,
    ];

    pub const OFFICE: PlaceOfService = PlaceOfService(11);
    pub const INPATIENT_HOSPITAL: PlaceOfService = PlaceOfService(21);
    pub const EMERGENCY_ROOM: PlaceOfService = PlaceOfService(23);

    pub fn parse(s: &str) -> Result<PlaceOfService, Invalid> {
        let s = s.trim();
        let n = if s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<u8>().ok()
        } else {
            None
        };
        match n {
            Some(n) if Self::ASSIGNED.contains(&n) => Ok(PlaceOfService(n)),
            _ => Err(Invalid::new(
                "invalid_place_of_service",
                "must be a two-digit CMS place-of-service code (e.g. 11 office, 21 inpatient, 23 ER)",
            )),
        }
    }

    pub fn code(&self) -> u8 {
        self.0
    }
}

impl fmt::Display for PlaceOfService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

/// A single procedure code or an inclusive range of codes of the same shape
/// (`70551-70553`, `J0120-J9999`), as policy lists write them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodeRange {
    first: ProcedureCode,
    last: ProcedureCode,
}

impl CodeRange {
    pub fn parse(s: &str) -> Result<CodeRange, Invalid> {
        let (first, last) = match s.split_once('-') {
            Some((a, b)) => (ProcedureCode::parse(a)?, ProcedureCode::parse(b)?),
            None => {
                let c = ProcedureCode::parse(s)?;
                (c, c)
            }
        };
        // Codes of one shape compare correctly as strings; mixed shapes (a CPT
        // range ending in a HCPCS code) would silently cover unrelated codes.
        if first.is_hcpcs() != last.is_hcpcs() || (first.is_hcpcs() && first.0[0] != last.0[0]) {
            return Err(Invalid::new(
                "invalid_code_range",
                "both ends of a range must be the same kind of code",
            ));
        }
        if first > last {
            return Err(Invalid::new(
                "invalid_code_range",
                "the first code of a range must not be after the last",
            ));
        }
        Ok(CodeRange { first, last })
    }

    pub fn contains(&self, code: ProcedureCode) -> bool {
        self.first <= code && code <= self.last && code.is_hcpcs() == self.first.is_hcpcs()
    }
}

impl fmt::Display for CodeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            f.write_str(self.first.as_str())
        } else {
            write!(f, "{}-{}", self.first.as_str(), self.last.as_str())
        }
    }
}

/// A range of ICD-10-CM codes as policies write them (`M54.10-M54.18`), or one
/// code (`M51.16`). Both ends include their subcodes: `M51.16` covers `M51.16X`,
/// and a range ending `M54.18` covers `M54.181`, as clinical criteria mean them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DiagnosisRange {
    first: Icd10,
    last: Icd10,
}

impl DiagnosisRange {
    pub fn parse(s: &str) -> Result<DiagnosisRange, Invalid> {
        let (first, last) = match s.trim().split_once('-') {
            Some((a, b)) => (Icd10::parse(a)?, Icd10::parse(b)?),
            None => {
                let c = Icd10::parse(s)?;
                (c.clone(), c)
            }
        };
        if first > last {
            return Err(Invalid::new(
                "invalid_diagnosis_range",
                "the first code of a range must not be after the last",
            ));
        }
        Ok(DiagnosisRange { first, last })
    }

    pub fn contains(&self, code: &Icd10) -> bool {
        let c = code.as_str();
        self.first.as_str() <= c && (c <= self.last.as_str() || c.starts_with(self.last.as_str()))
    }
}

impl fmt::Display for DiagnosisRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            f.write_str(self.first.as_str())
        } else {
            write!(f, "{}-{}", self.first.as_str(), self.last.as_str())
        }
    }
}

macro_rules! string_serde {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                <$t>::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.to_string()
            }
        }
    )*};
}

string_serde!(
    Icd10,
    ProcedureCode,
    Modifier,
    PlaceOfService,
    CodeRange,
    DiagnosisRange
);

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_str!(Icd10, ProcedureCode, Modifier);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn icd10_normalises_to_dotted_upper_case() {
        assert_eq!(Icd10::parse("e119").unwrap().as_str(), "E11.9");
        assert_eq!(Icd10::parse("E11.9").unwrap().as_str(), "E11.9");
        assert_eq!(Icd10::parse("S72001A").unwrap().as_str(), "S72.001A");
        assert_eq!(Icd10::parse("I10").unwrap().as_str(), "I10");
        assert_eq!(Icd10::parse("Z00.00").unwrap().as_str(), "Z00.00");
    }

    #[test]
    fn icd10_refuses_malformed_codes() {
        for bad in [
            "",
            "E1",
            "11.9",
            "E11.",
            "E11.12345",
            "EE1.9",
            "E11-9",
            "É11.9",
        ] {
            assert!(Icd10::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn procedure_codes_cover_cpt_categories_and_hcpcs() {
        for ok in [
            "99213", "0001U", "3046F", "0042T", "J3490", "g0438", "A0428",
        ] {
            assert!(ProcedureCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["9921", "992134", "W1234", "9921X", "J34A0", ""] {
            assert!(ProcedureCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ProcedureCode::parse("g0438").unwrap().as_str(), "G0438");
    }

    #[test]
    fn billed_procedures_carry_modifiers() {
        let p = BilledProcedure::parse("27447-rt-59").unwrap();
        assert_eq!(p.code.as_str(), "27447");
        assert_eq!(
            p.modifiers.iter().map(Modifier::as_str).collect::<Vec<_>>(),
            ["RT", "59"]
        );
        assert_eq!(
            BilledProcedure::parse("99213-25-59-76-77-GT")
                .unwrap_err()
                .code,
            "too_many_modifiers"
        );
        assert_eq!(
            BilledProcedure::parse("99213-2").unwrap_err().code,
            "invalid_modifier"
        );
    }

    #[test]
    fn place_of_service_is_from_the_cms_set() {
        assert_eq!(PlaceOfService::parse("11").unwrap(), PlaceOfService::OFFICE);
        assert_eq!(PlaceOfService::parse("02").unwrap().to_string(), "02");
        for bad in ["1", "00", "30", "98", "1a", "111"] {
            assert!(PlaceOfService::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn code_ranges_contain_codes_of_their_kind_only() {
        let r = CodeRange::parse("70551-70553").unwrap();
        assert!(r.contains(ProcedureCode::parse("70552").unwrap()));
        assert!(!r.contains(ProcedureCode::parse("70554").unwrap()));
        let j = CodeRange::parse("J0120-J9999").unwrap();
        assert!(j.contains(ProcedureCode::parse("J3490").unwrap()));
        assert!(!j.contains(ProcedureCode::parse("K0001").unwrap()));
        assert!(
            CodeRange::parse("99215")
                .unwrap()
                .contains(ProcedureCode::parse("99215").unwrap())
        );
        assert!(CodeRange::parse("70553-70551").is_err());
        assert!(CodeRange::parse("99999-J0000").is_err());
        assert!(CodeRange::parse("A0000-J0000").is_err());
        assert_eq!(
            CodeRange::parse("70551-70553").unwrap().to_string(),
            "70551-70553"
        );
    }

    #[test]
    fn diagnosis_ranges_include_subcodes() {
        let r = DiagnosisRange::parse("M54.10-M54.18").unwrap();
        let icd = |s| Icd10::parse(s).unwrap();
        assert!(r.contains(&icd("M54.16")));
        assert!(r.contains(&icd("M54.10")));
        assert!(r.contains(&icd("M54.181")));
        assert!(!r.contains(&icd("M54.19")));
        assert!(!r.contains(&icd("M54.5")));
        let one = DiagnosisRange::parse("m5116").unwrap();
        assert_eq!(one.to_string(), "M51.16");
        assert!(one.contains(&icd("M51.16")) && !one.contains(&icd("M51.17")));
        assert!(DiagnosisRange::parse("M54.18-M54.10").is_err());
        assert_eq!(r.to_string(), "M54.10-M54.18");
    }

    proptest! {
        #[test]
        fn code_parsers_never_panic(s in "\\PC{0,12}") {
            let _ = DiagnosisRange::parse(&s);
            let _ = Icd10::parse(&s);
            let _ = ProcedureCode::parse(&s);
            let _ = BilledProcedure::parse(&s);
            let _ = PlaceOfService::parse(&s);
            let _ = CodeRange::parse(&s);
        }

        #[test]
        fn icd10_parse_is_idempotent(s in "[A-Za-z][0-9][0-9A-Za-z](\\.?[0-9A-Za-z]{1,4})?") {
            let once = Icd10::parse(&s).unwrap();
            prop_assert_eq!(Icd10::parse(once.as_str()).unwrap(), once);
        }
    }
}
