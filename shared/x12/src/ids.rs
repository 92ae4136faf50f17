//! Segment IDs packed in an integer, so dispatching on a segment is one integer
//! match rather than a chain of string comparisons.

/// A segment ID of 1 to 3 bytes packed in an integer; 0 for anything longer.
pub(crate) const fn id_code(id: &[u8]) -> u32 {
    match id.len() {
        1 => id[0] as u32,
        2 => (id[0] as u32) << 8 | id[1] as u32,
        3 => (id[0] as u32) << 16 | (id[1] as u32) << 8 | id[2] as u32,
        _ => 0,
    }
}

pub(crate) const ISA: u32 = id_code(b"ISA");
pub(crate) const IEA: u32 = id_code(b"IEA");
pub(crate) const GS: u32 = id_code(b"GS");
pub(crate) const GE: u32 = id_code(b"GE");
pub(crate) const ST: u32 = id_code(b"ST");
pub(crate) const SE: u32 = id_code(b"SE");
pub(crate) const TA1: u32 = id_code(b"TA1");
pub(crate) const BHT: u32 = id_code(b"BHT");
pub(crate) const HL: u32 = id_code(b"HL");
pub(crate) const NM1: u32 = id_code(b"NM1");
pub(crate) const N3: u32 = id_code(b"N3");
pub(crate) const N4: u32 = id_code(b"N4");
pub(crate) const REF: u32 = id_code(b"REF");
pub(crate) const PRV: u32 = id_code(b"PRV");
pub(crate) const DMG: u32 = id_code(b"DMG");
pub(crate) const SBR: u32 = id_code(b"SBR");
pub(crate) const PAT: u32 = id_code(b"PAT");
pub(crate) const CLM: u32 = id_code(b"CLM");
pub(crate) const DTP: u32 = id_code(b"DTP");
pub(crate) const HI: u32 = id_code(b"HI");
pub(crate) const CL1: u32 = id_code(b"CL1");
pub(crate) const LX: u32 = id_code(b"LX");
pub(crate) const SV1: u32 = id_code(b"SV1");
pub(crate) const SV2: u32 = id_code(b"SV2");
pub(crate) const LIN: u32 = id_code(b"LIN");
pub(crate) const SVD: u32 = id_code(b"SVD");
pub(crate) const PER: u32 = id_code(b"PER");
