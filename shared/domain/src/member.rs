//! Members and their coverage spans, as a health plan's roster gives them.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::ids::{MemberId, Npi, PlanId};

/// The kind of coverage a plan product is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineOfBusiness {
    MediCal,
    MedicareAdvantage,
    /// Medicare and Medi-Cal together (D-SNP / Medi-Medi).
    DualEligible,
    CommercialHmo,
}

impl LineOfBusiness {
    pub fn parse(s: &str) -> Result<LineOfBusiness, Invalid> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "medi_cal" | "medicaid" => Ok(LineOfBusiness::MediCal),
            "medicare_advantage" | "medicare" => Ok(LineOfBusiness::MedicareAdvantage),
            "dual_eligible" | "medi_medi" | "dsnp" => Ok(LineOfBusiness::DualEligible),
            "commercial_hmo" | "commercial" => Ok(LineOfBusiness::CommercialHmo),
            _ => Err(Invalid::new(
                "invalid_line_of_business",
                "must be one of medi_cal, medicare_advantage, dual_eligible, commercial_hmo",
            )),
        }
    }

    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            LineOfBusiness::MediCal => "medi_cal",
            LineOfBusiness::MedicareAdvantage => "medicare_advantage",
            LineOfBusiness::DualEligible => "dual_eligible",
            LineOfBusiness::CommercialHmo => "commercial_hmo",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LineOfBusiness::MediCal => "Medi-Cal",
            LineOfBusiness::MedicareAdvantage => "Medicare Advantage",
            LineOfBusiness::DualEligible => "Medicare-Medi-Cal (dual eligible)",
            LineOfBusiness::CommercialHmo => "Commercial HMO",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    #[serde(rename = "F")]
    Female,
    #[serde(rename = "M")]
    Male,
    #[serde(rename = "U")]
    Unknown,
}

impl Sex {
    pub fn parse(s: &str) -> Result<Sex, Invalid> {
        match s.trim().to_ascii_uppercase().as_str() {
            "F" | "FEMALE" => Ok(Sex::Female),
            "M" | "MALE" => Ok(Sex::Male),
            "U" | "UNKNOWN" | "X" => Ok(Sex::Unknown),
            _ => Err(Invalid::new("invalid_sex", "must be F, M or U")),
        }
    }
}

/// One period of coverage with one plan. `end` is the last covered day; `None` is
/// open-ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageSpan {
    pub plan_id: PlanId,
    pub line_of_business: LineOfBusiness,
    #[serde(with = "crate::dates::iso")]
    pub start: Date,
    #[serde(default, with = "optional_date")]
    pub end: Option<Date>,
    /// The assigned primary care physician for this span.
    pub pcp_npi: Option<Npi>,
}

impl CoverageSpan {
    pub fn covers(&self, d: Date) -> bool {
        self.start <= d && self.end.is_none_or(|end| d <= end)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub member_id: MemberId,
    pub first_name: String,
    pub last_name: String,
    #[serde(with = "crate::dates::iso")]
    pub dob: Date,
    pub sex: Sex,
    /// In start order.
    pub spans: Vec<CoverageSpan>,
}

mod optional_date {
    use jiff::civil::Date;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => crate::dates::parse_date(&s)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}
