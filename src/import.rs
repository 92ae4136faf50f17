//! `mso import members|providers FILE`: a CSV roster into the embedded store.
//! Every row is validated first; one bad row and nothing is stored.

use std::fmt;
use std::path::Path;

use anyhow::{Context, bail};
use mso_api::directory;
use mso_domain::roster::{
    self, MEMBER_COLUMNS, MemberRow, PROVIDER_COLUMNS, ProviderRow, RowError,
};
use serde::de::DeserializeOwned;

use crate::data_dir::DataDir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Members,
    Providers,
}

/// What an import stored.
#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    pub kind: Kind,
    pub records: usize,
    pub rows: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Members => write!(
                f,
                "imported {} members ({} coverage spans)",
                self.records, self.rows
            ),
            Kind::Providers => write!(f, "imported {} providers", self.records),
        }
    }
}

pub async fn run(dir: &DataDir, kind: Kind, file: &Path) -> anyhow::Result<Summary> {
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (writes, records, rows) = match kind {
        Kind::Members => {
            let rows: Vec<(u64, MemberRow)> = read_rows(&text, &MEMBER_COLUMNS, file)?;
            let n = rows.len();
            let members =
                roster::members_from_rows(rows, dir.policy()).map_err(|e| refuse(file, e))?;
            (directory::member_writes(&members)?, members.len(), n)
        }
        Kind::Providers => {
            let rows: Vec<(u64, ProviderRow)> = read_rows(&text, &PROVIDER_COLUMNS, file)?;
            let n = rows.len();
            let providers = roster::providers_from_rows(rows).map_err(|e| refuse(file, e))?;
            (directory::provider_writes(&providers)?, providers.len(), n)
        }
    };
    // Imports run while the server is stopped, so the URL is never handed out.
    let store = dir.open_store("http://127.0.0.1".into())?;
    directory::write_all(store.records().as_ref(), writes)
        .await
        .context("storing the import")?;
    Ok(Summary {
        kind,
        records,
        rows,
    })
}

/// Reads a CSV with a header row; extra columns are ignored. Every malformed line is
/// reported, with its line number.
fn read_rows<T: DeserializeOwned>(
    text: &[u8],
    required: &[&'static str],
    file: &Path,
) -> anyhow::Result<Vec<(u64, T)>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text);
    let header = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header row", file.display()))?
        .clone();
    let missing = roster::missing_columns(header.iter(), required);
    if !missing.is_empty() {
        bail!(
            "{}: line 1: missing column(s) {}; expected {}",
            file.display(),
            missing.join(", "),
            required.join(",")
        );
    }
    let lower: csv::StringRecord = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                match record.deserialize::<T>(Some(&lower)) {
                    Ok(row) => rows.push((line, row)),
                    Err(_) => errors.push(RowError {
                        line,
                        column: None,
                        message: "cannot be read as a row of this file".into(),
                    }),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                // The csv error text can quote field contents; say what is wrong without them.
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("has {len} fields where the header has {expected_len}")
                    }
                    csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".into(),
                    _ => "cannot be parsed as CSV".into(),
                };
                errors.push(RowError {
                    line,
                    column: None,
                    message,
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(refuse(file, errors))
    }
}

fn refuse(file: &Path, errors: Vec<RowError>) -> anyhow::Error {
    let n = errors.len();
    let listed: Vec<String> = errors
        .iter()
        .take(50)
        .map(|e| format!("  {}: {e}", file.display()))
        .collect();
    let more = if n > 50 {
        format!("\n  ... and {} more", n - 50)
    } else {
        String::new()
    };
    anyhow::anyhow!(
        "{n} problem(s); nothing was imported:\n{}{more}",
        listed.join("\n")
    )
}
