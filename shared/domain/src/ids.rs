//! Identifiers: NPI (with its Luhn check digit), member, organisation and plan IDs.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// A National Provider Identifier: 10 digits, the last a Luhn check digit computed
/// over the card-issuer prefix 80840 followed by the first nine digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Npi([u8; 10]);

impl Npi {
    pub fn parse(s: &str) -> Result<Npi, Invalid> {
        let s = s.trim();
        let bytes = s.as_bytes();
        if bytes.len() != 10 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(Invalid::new("invalid_npi", "must be exactly 10 digits"));
        }
        let mut digits = [0u8; 10];
        digits.copy_from_slice(bytes);
        if luhn_check_digit(&digits[..9]) != digits[9] - b'0' {
            return Err(Invalid::new(
                "invalid_npi",
                "check digit does not match (not a valid NPI)",
            ));
        }
        Ok(Npi(digits))
    }

    /// The NPI whose first nine digits are `base` (a number below 10^9), with its
    /// check digit appended. For generating test and demo data.
    pub fn with_check_digit(base: u32) -> Option<Npi> {
        if base >= 1_000_000_000 {
            return None;
        }
        let mut digits = [0u8; 10];
        digits[..9].copy_from_slice(format!("{base:09}").as_bytes());
        digits[9] = b'0' + luhn_check_digit(&digits[..9]);
        Some(Npi(digits))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The NPI check digit: Luhn over "80840" + the nine base digits. The constant 24
/// is the Luhn contribution of the 80840 prefix (CMS NPI check digit standard).
fn luhn_check_digit(base: &[u8]) -> u8 {
    let mut sum: u32 = 24;
    for (i, b) in base.iter().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for Npi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Npi {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Npi::parse(&s)
    }
}

impl From<Npi> for String {
    fn from(n: Npi) -> String {
        n.as_str().to_owned()
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $parse:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<$name, Invalid> {
                let f: fn(&str) -> Result<String, Invalid> = $parse;
                f(s).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                $name::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

string_id!(
    /// A health plan's member ID, as printed on the member's card: 3 to 20 letters,
    /// digits or hyphens. Stored upper-case so `abc123` and `ABC123` are one member.
    MemberId,
    |s| {
        let s = s.trim();
        if s.is_empty() {
            return Err(Invalid::required());
        }
        if !(3..=20).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Invalid::new(
                "invalid_member_id",
                "must be 3 to 20 letters, digits or hyphens",
            ));
        }
        Ok(s.to_ascii_uppercase())
    }
);

string_id!(
    /// A provider organisation (practice or group) in this IPA: a lower-case slug.
    OrgId,
    |s| slug(s, "invalid_org_id")
);

string_id!(
    /// A health plan product the IPA is delegated for, e.g. `MCAL-BSP`.
    PlanId,
    |s| {
        let s = s.trim();
        if s.is_empty() {
            return Err(Invalid::required());
        }
        if s.len() > 32 || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(Invalid::new(
                "invalid_plan_id",
                "must be at most 32 letters, digits, hyphens or underscores",
            ));
        }
        Ok(s.to_ascii_uppercase())
    }
);

/// What a reference ID names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    PriorAuth,
    Claim,
    ClaimFile,
    Dispute,
    Document,
    IntakeItem,
}

impl RecordKind {
    pub const ALL: [RecordKind; 6] = [
        RecordKind::PriorAuth,
        RecordKind::Claim,
        RecordKind::ClaimFile,
        RecordKind::Dispute,
        RecordKind::Document,
        RecordKind::IntakeItem,
    ];

    /// The prefix a reference ID of this kind starts with, before the hyphen.
    pub fn prefix(self) -> &'static str {
        match self {
            RecordKind::PriorAuth => "PA",
            RecordKind::Claim => "CLM",
            RecordKind::ClaimFile => "CF",
            RecordKind::Dispute => "DSP",
            RecordKind::Document => "DOC",
            RecordKind::IntakeItem => "INT",
        }
    }

    /// Characters after the hyphen: short where people read them out on the
    /// phone (auths, disputes, intake items), longer where IDs are derived from
    /// content hashes and must not collide (claims, files, documents).
    pub fn code_len(self) -> usize {
        match self {
            RecordKind::PriorAuth | RecordKind::Dispute | RecordKind::IntakeItem => 6,
            RecordKind::Claim | RecordKind::ClaimFile | RecordKind::Document => 10,
        }
    }
}

/// Crockford's base 32: digits and letters without I, L, O and U, so an ID read
/// over the phone or off a fax cannot be misread.
pub const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A short, readable reference ID, `PA-7K3Q9M`: a kind prefix, a hyphen and
/// Crockford base-32 characters. Parsed case-insensitively and stored upper-case.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReferenceId(String);

impl ReferenceId {
    /// A reference ID of any kind, written with a hyphen (or, as people write
    /// them on forms, a space) after the prefix, in any case.
    pub fn parse(s: &str) -> Result<ReferenceId, Invalid> {
        let s = s.trim();
        let (prefix, code) = s.split_once(['-', ' ']).ok_or_else(Self::bad)?;
        let kind = RecordKind::ALL
            .into_iter()
            .find(|k| k.prefix().eq_ignore_ascii_case(prefix))
            .ok_or_else(Self::bad)?;
        let code = code.to_ascii_uppercase();
        if code.len() != kind.code_len() || !code.bytes().all(|b| CROCKFORD.contains(&b)) {
            return Err(Self::bad());
        }
        Ok(ReferenceId(format!("{}-{code}", kind.prefix())))
    }

    /// A reference ID that must be of `kind`.
    pub fn parse_kind(kind: RecordKind, s: &str) -> Result<ReferenceId, Invalid> {
        let id = ReferenceId::parse(s)?;
        if id.kind() == kind {
            Ok(id)
        } else {
            Err(Invalid::owned(
                "invalid_reference_id",
                format!(
                    "must be a reference ID starting {}- ({}- and {} characters)",
                    kind.prefix(),
                    kind.prefix(),
                    kind.code_len()
                ),
            ))
        }
    }

    /// The ID of `kind` whose characters are taken from `entropy` (random bytes
    /// for new records, a content hash for derived ones); needs at least
    /// `code_len` bytes.
    pub fn from_entropy(kind: RecordKind, entropy: &[u8]) -> Option<ReferenceId> {
        let bytes = entropy.get(..kind.code_len())?;
        let code: String = bytes
            .iter()
            .map(|b| char::from(CROCKFORD[usize::from(b & 31)]))
            .collect();
        Some(ReferenceId(format!("{}-{code}", kind.prefix())))
    }

    pub fn kind(&self) -> RecordKind {
        let prefix = self.0.split('-').next().unwrap_or_default();
        RecordKind::ALL
            .into_iter()
            .find(|k| k.prefix() == prefix)
            .unwrap_or(RecordKind::PriorAuth)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn bad() -> Invalid {
        Invalid::new(
            "invalid_reference_id",
            "must be a reference ID such as PA-7K3Q9M (a prefix, a hyphen and letters or digits)",
        )
    }
}

impl fmt::Display for ReferenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ReferenceId {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        ReferenceId::parse(&s)
    }
}

impl From<ReferenceId> for String {
    fn from(v: ReferenceId) -> String {
        v.0
    }
}

fn slug(s: &str, code: &'static str) -> Result<String, Invalid> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Invalid::required());
    }
    let ok = (2..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new(
            code,
            "must be 2 to 64 lower-case letters, digits or inner hyphens",
        ))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn npi_accepts_valid_check_digits() {
        // CMS's worked example (1234567893) and real-shaped NPIs.
        for s in ["1234567893", "1003000126", "1245319599"] {
            assert_eq!(Npi::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn npi_refuses_bad_check_digit_and_shape() {
        assert_eq!(Npi::parse("1234567890").unwrap_err().code, "invalid_npi");
        assert!(Npi::parse("123456789").is_err());
        assert!(Npi::parse("12345678901").is_err());
        assert!(Npi::parse("12345678a3").is_err());
        assert!(Npi::parse("").is_err());
    }

    proptest! {
        #[test]
        fn npi_with_computed_check_digit_always_parses(base in "[0-9]{9}") {
            let check = luhn_check_digit(base.as_bytes());
            let s = format!("{base}{check}");
            prop_assert!(Npi::parse(&s).is_ok());
        }

        #[test]
        fn npi_with_any_other_check_digit_fails(base in "[0-9]{9}", wrong in 0u8..9) {
            let check = luhn_check_digit(base.as_bytes());
            let other = (check + 1 + wrong) % 10;
            let s = format!("{base}{other}");
            prop_assert!(Npi::parse(&s).is_err());
        }

        #[test]
        fn parsers_never_panic(s in "\\PC*") {
            let _ = ReferenceId::parse(&s);
            let _ = Npi::parse(&s);
            let _ = MemberId::parse(&s);
            let _ = OrgId::parse(&s);
            let _ = PlanId::parse(&s);
        }
    }

    #[test]
    fn reference_ids_are_short_readable_and_typed() {
        let id = ReferenceId::parse(" pa-7k3q9m ").unwrap();
        assert_eq!(id.as_str(), "PA-7K3Q9M");
        assert_eq!(id.kind(), RecordKind::PriorAuth);
        assert_eq!(
            ReferenceId::parse("CLM-0123456789").unwrap().kind(),
            RecordKind::Claim
        );
        for bad in [
            "PA7K3Q9M",
            "PA-7K3Q9",
            "PA-7K3Q9MM",
            "PA-7K3Q9I",
            "XX-7K3Q9M",
            "",
            "-",
        ] {
            assert!(ReferenceId::parse(bad).is_err(), "{bad}");
        }
        assert!(ReferenceId::parse_kind(RecordKind::Dispute, "PA-7K3Q9M").is_err());
        let made =
            ReferenceId::from_entropy(RecordKind::PriorAuth, &[0, 1, 31, 32, 255, 7]).unwrap();
        assert_eq!(made.as_str(), "PA-01Z0Z7");
        assert_eq!(ReferenceId::parse(made.as_str()).unwrap(), made);
        assert!(ReferenceId::from_entropy(RecordKind::Claim, &[0; 9]).is_none());
    }

    #[test]
    fn generated_npis_carry_their_check_digit() {
        assert_eq!(
            Npi::with_check_digit(123_456_789).unwrap().as_str(),
            "1234567893"
        );
        assert!(Npi::with_check_digit(1_000_000_000).is_none());
    }

    #[test]
    fn member_id_is_case_insensitive_and_bounded() {
        assert_eq!(MemberId::parse(" abc123 ").unwrap().as_str(), "ABC123");
        assert_eq!(MemberId::parse("").unwrap_err().code, "required");
        assert!(MemberId::parse("AB").is_err());
        assert!(MemberId::parse("A B C").is_err());
        assert!(MemberId::parse(&"9".repeat(21)).is_err());
    }

    #[test]
    fn org_id_is_a_slug() {
        assert!(OrgId::parse("sunrise-family-medicine").is_ok());
        assert!(OrgId::parse("Sunrise").is_err());
        assert!(OrgId::parse("-x").is_err());
    }

    #[test]
    fn ids_round_trip_through_serde() {
        let npi: Npi = serde_json::from_str("\"1234567893\"").unwrap();
        assert_eq!(serde_json::to_string(&npi).unwrap(), "\"1234567893\"");
        assert!(serde_json::from_str::<Npi>("\"1234567890\"").is_err());
    }
}
